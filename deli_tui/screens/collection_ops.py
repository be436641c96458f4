"""New, duplicate, rename, move and delete of requests and folders, asked through dialogs.

Each operation goes through the engine's saver, then the collection is reloaded from disk so
the tree shows what the files say. Unsaved drafts follow a renamed or moved request.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deli_tui.screens.confirm import ChoiceScreen, TextPromptScreen
from deli_tui.widgets.collection_tree import TreeEntry
from engine.errors import CollectionError

if TYPE_CHECKING:
    from deli_tui.screens.collection import CollectionScreen

_FOLDER_NAME = re.compile(r"^[\w.-]+(/[\w.-]+)*$")


def file_stem_for(name: str) -> str:
    """A file name for a request called ``name``: ``List users`` -> ``list_users``."""
    stem = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return stem or "request"


def folder_name_problem(text: str) -> str | None:
    if text.startswith(".") or ".." in text.split("/") or not _FOLDER_NAME.match(text):
        return "use letters, digits, '-', '_' and '/' between folder names"
    return None


class CollectionOps:
    """The tree commands of one collection screen."""

    def __init__(self, screen: CollectionScreen) -> None:
        self.screen = screen

    @property
    def workspace(self) -> Any:
        return self.screen.workspace

    def run(self, command: str, entry: TreeEntry | None) -> None:
        handler = getattr(self, f"do_{command}", None)
        if handler is not None:
            handler(entry)

    @staticmethod
    def _folder_of(entry: TreeEntry | None) -> Path:
        if entry is None:
            return Path()
        return entry.relpath if entry.kind == "folder" else entry.relpath.parent

    def _request_of(self, entry: TreeEntry | None) -> Any:
        if entry is None or entry.kind != "request":
            self.screen.notify("Select a request first", severity="warning")
            return None
        return self.workspace.request(entry.relpath)

    def _apply(self, what: str, action: Any, select: Path | None = None) -> Any:
        """Run ``action()``, reload from disk, redraw the tree; report problems."""
        try:
            result = action()
        except (OSError, CollectionError, ValueError) as exc:
            self.screen.notify(f"Could not {what}: {exc}", severity="error")
            return None
        self._reload()
        relpath = getattr(result, "relpath", None)
        self.screen.refresh_tree(select=relpath or select)
        if relpath is not None:
            self.screen.open_request(relpath)
        return result

    def _reload(self) -> None:
        """Reload from disk, keeping the open-time mtimes of dirty requests (so a file changed
        by someone else is still caught at save)."""
        kept = {k: v for k, v in self.workspace.mtimes.items() if k in self.screen.drafts}
        try:
            self.workspace.load()
        except CollectionError as exc:
            self.screen.notify(f"The collection no longer loads: {exc}", severity="error")
            return
        self.workspace.mtimes.update(kept)

    def _move_draft(self, old: Path, new: Path) -> None:
        draft = self.screen.drafts.pop(old.as_posix(), None)
        self.screen.recovery.clear("request", old.as_posix())
        self.screen._recovery_written.pop(old.as_posix(), None)
        if self.screen.current == old:
            self.screen.current = new
        if draft is not None:
            self.screen.set_draft(new, draft)

    def _ask(self, title: str, prompt: str, value: str, then: Any, validate: Any = None) -> None:
        self.screen.app.push_screen(TextPromptScreen(title, prompt, value, validate), then)

    # -- commands (named do_<tree command>) ------------------------------------------
    def do_new_request(self, entry: TreeEntry | None) -> None:
        from engine.collection.saver import create_request

        folder = self._folder_of(entry)
        where = "the collection root" if folder == Path() else folder.as_posix()

        def named(name: str | None) -> None:
            if name:
                relpath = folder / f"{file_stem_for(name)}.yaml"
                collection = self.workspace.collection
                self._apply("create the request", lambda: create_request(collection, relpath, name))

        self._ask("New request", f"Name of the new request in {where}:", "", named)

    def do_new_folder(self, entry: TreeEntry | None) -> None:
        from engine.collection.saver import create_folder

        parent = self._folder_of(entry)
        prefix = f"{parent.as_posix()}/" if parent != Path() else ""

        def named(name: str | None) -> None:
            if name:
                path = Path(name)
                self._apply(
                    "create the folder",
                    lambda: create_folder(self.workspace.collection, path),
                    select=path,
                )

        self._ask(
            "New folder",
            "Folder path, relative to the collection:",
            prefix,
            named,
            folder_name_problem,
        )

    def do_duplicate(self, entry: TreeEntry | None) -> None:
        from engine.collection.saver import duplicate_request

        req = self._request_of(entry)
        if req is not None:
            self._apply("duplicate", lambda: duplicate_request(self.workspace.collection, req))

    def do_rename(self, entry: TreeEntry | None) -> None:
        from engine.collection.saver import rename_request

        req = self._request_of(entry)
        if req is None:
            return

        def named(name: str | None) -> None:
            if not name or name == req.name:
                return
            new = self._apply(
                "rename", lambda: rename_request(self.workspace.collection, req, name)
            )
            if new is not None:
                self._move_draft(req.relpath, new.relpath)

        self._ask("Rename request", f"New name for {req.name}:", req.name, named)

    def do_move(self, entry: TreeEntry | None) -> None:
        from engine.collection.saver import move_request

        req = self._request_of(entry)
        if req is None:
            return

        def named(folder: str | None) -> None:
            if folder is None:
                return
            cleaned = folder.strip().strip("/")
            target = "." if cleaned in ("", ".") else f"{cleaned}/"
            new = self._apply("move", lambda: move_request(self.workspace.collection, req, target))
            if new is not None:
                self._move_draft(req.relpath, new.relpath)

        current = req.relpath.parent.as_posix()
        self._ask(
            "Move request",
            f"Move {req.name} to folder ('.' for the root):",
            "." if current == "." else current,
            named,
            lambda t: None if t.strip("/") in ("", ".") else folder_name_problem(t.strip("/")),
        )

    def do_delete(self, entry: TreeEntry | None) -> None:
        from engine.collection.saver import delete_folder, delete_request

        if entry is None:
            return
        if entry.kind == "folder":
            question = f"Delete the folder {entry.relpath.as_posix()} and every request in it?"
        else:
            question = f"Delete the request file {entry.relpath.as_posix()}?"

        def chosen(answer: str | None) -> None:
            if answer != "yes":
                return
            collection = self.workspace.collection
            if entry.kind == "folder":
                action: Any = lambda: delete_folder(collection, entry.relpath, confirm=True)  # noqa: E731
            else:
                req = self.workspace.request(entry.relpath)
                action = lambda: delete_request(collection, req)  # noqa: E731
            removed = [
                k
                for k in self.screen.drafts
                if Path(k) == entry.relpath or entry.relpath in Path(k).parents
            ]
            self._apply("delete", action, select=entry.relpath.parent)
            for key in removed:
                self.screen.drafts.pop(key, None)
                self.screen.recovery.clear("request", key)
            if (
                self.screen.current is not None
                and self.workspace.request(self.screen.current) is None
            ):
                self.screen.current = None
                self.screen.editor.disabled = True

        self.screen.app.push_screen(
            ChoiceScreen("Delete", question, cancel_value="no", focus_value="no"), chosen
        )
