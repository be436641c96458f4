"""The tree operations on their own: real files through the saver, dialogs answered at once,
and what changed reported as one ``TreeChange``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deli_tui.collection_ops import CollectionOps, TreeChange
from deli_tui.screens.confirm import ChoiceScreen, TextPromptScreen
from deli_tui.widgets.collection_tree import TreeEntry
from deli_tui.workspace import Workspace


class Recorder:
    """Answers every dialog with ``answer`` and keeps what the operations reported."""

    def __init__(self, answer: str | None) -> None:
        self.answer = answer
        self.dialogs: list[Any] = []
        self.notes: list[tuple[str, str]] = []
        self.changes: list[TreeChange] = []

    def ask(self, dialog: Any, then: Any) -> None:
        self.dialogs.append(dialog)
        then(self.answer)

    def notify(self, message: str, *, severity: str = "information") -> None:
        self.notes.append((severity, message))


def make_ops(root: Path, answer: str | None, unsaved: set[str] | None = None):
    workspace = Workspace(root)
    workspace.load()
    seen = Recorder(answer)
    ops = CollectionOps(
        workspace,
        unsaved=unsaved or set(),
        ask=seen.ask,
        notify=seen.notify,  # type: ignore[arg-type]
        changed=seen.changes.append,
    )
    return ops, workspace, seen


def test_rename_reports_the_request_at_its_new_path(collection_dir):
    ops, workspace, seen = make_ops(collection_dir, "all users")
    ops.run("rename", TreeEntry("request", Path("users/get_user.yaml")))
    assert isinstance(seen.dialogs[0], TextPromptScreen)
    renamed = workspace.collection.find_request("all users")
    assert renamed is not None
    assert seen.changes == [
        TreeChange(
            select=renamed.relpath,
            show=renamed.relpath,
            moved=((Path("users/get_user.yaml"), renamed.relpath),),
        )
    ]


def test_moving_a_folder_reports_every_request_that_moved(collection_dir):
    ops, _, seen = make_ops(collection_dir, "people")
    ops.run("move", TreeEntry("folder", Path("users")))
    assert not (collection_dir / "users").exists()
    [change] = seen.changes
    assert change.select == Path("people") and change.show is None
    assert set(change.moved) == {
        (Path("users/create_user.yaml"), Path("people/create_user.yaml")),
        (Path("users/get_user.yaml"), Path("people/get_user.yaml")),
    }


def test_delete_asks_first_and_reports_the_folder_gone(collection_dir):
    ops, workspace, seen = make_ops(collection_dir, "yes")
    ops.run("delete", TreeEntry("folder", Path("users")))
    assert isinstance(seen.dialogs[0], ChoiceScreen)
    assert not (collection_dir / "users").exists()
    assert [r.relpath for r in workspace.collection.requests] == [Path("health.yaml")]
    assert seen.changes == [TreeChange(select=Path(), deleted=Path("users"))]


def test_delete_answered_no_changes_nothing(collection_dir):
    ops, _, seen = make_ops(collection_dir, "no")
    ops.run("delete", TreeEntry("request", Path("health.yaml")))
    assert (collection_dir / "health.yaml").is_file()
    assert seen.changes == []


def test_a_failed_operation_says_why_and_reports_no_change(collection_dir):
    ops, _, seen = make_ops(collection_dir, "health")  # health.yaml exists already
    ops.run("new_request", None)
    assert seen.changes == []
    assert seen.notes and seen.notes[0][0] == "error"
    assert "Could not create the request" in seen.notes[0][1]


def test_a_request_command_on_a_folder_asks_for_a_request(collection_dir):
    ops, _, seen = make_ops(collection_dir, None)
    ops.run("duplicate", TreeEntry("folder", Path("users")))
    assert seen.notes == [("warning", "Select a request first")]
    assert seen.changes == []


def test_reload_keeps_the_open_time_mtime_of_requests_with_unsaved_drafts(collection_dir):
    ops, workspace, _ = make_ops(collection_dir, "admin", unsaved={"health.yaml"})
    workspace.mtimes["health.yaml"] = 1  # as if the file changed on disk after it was opened
    workspace.mtimes["users/get_user.yaml"] = 1
    ops.run("new_folder", None)
    assert (collection_dir / "admin").is_dir()
    assert workspace.mtimes["health.yaml"] == 1  # still caught as changed at save
    assert workspace.mtimes["users/get_user.yaml"] != 1  # clean: the file as it is now
