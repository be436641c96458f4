"""The requests screen: browse the tree, edit and save, refuse bad input, catch conflicts."""

from __future__ import annotations

import os
from pathlib import Path

from textual.widgets import Input

from deli_tui.screens.collection import CollectionScreen
from deli_tui.screens.confirm import ChoiceScreen, TextPromptScreen
from deli_tui.widgets.collection_tree import CollectionTree
from deli_tui.widgets.request_editor import RequestEditor
from engine.collection.loader import load_collection

SIZE = (80, 24)


def tree_labels(app) -> list[str]:
    tree = app.screen.query_one(CollectionTree)
    labels: list[str] = []
    stack = [tree.root]
    while stack:
        node = stack.pop()
        labels.append(str(node.label))
        stack.extend(node.children)
    return labels


async def open_request(pilot, relpath: str) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, CollectionScreen)
    screen.request_tree.move_to(Path(relpath))
    await pilot.pause()
    await pilot.pause()
    assert screen.current == Path(relpath)


async def test_tree_shows_folders_and_requests(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, CollectionScreen)
        labels = tree_labels(app)
        assert "users/" in labels
        assert any("get user" in label and "GET" in label for label in labels)
        assert any("create user" in label and "POST" in label for label in labels)
        assert any("health" in label for label in labels)


async def test_edit_url_and_save_writes_a_file_that_reloads_equal(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await open_request(pilot, "users/get_user.yaml")
        screen = app.screen
        screen.editor.focus_field("url")
        await pilot.press("end", *"?page=2")
        await pilot.pause()
        assert screen.is_dirty(Path("users/get_user.yaml"))
        assert any(label.endswith(" *") for label in tree_labels(app))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not screen.drafts
    reloaded = load_collection(collection_dir).find_request("users/get_user.yaml")
    assert reloaded is not None
    assert reloaded.url == "/json?page=2"
    assert reloaded.checks.status == [200]
    assert reloaded.checks.json == [("$.id", 42)]


async def test_bad_timeout_is_shown_inline_and_nothing_is_written(collection_dir, make_app):
    path = collection_dir / "users" / "get_user.yaml"
    before = path.read_bytes()
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await open_request(pilot, "users/get_user.yaml")
        editor = app.screen.query_one(RequestEditor)
        editor.focus_field("timeout")
        await pilot.press(*"10x")
        await pilot.press("ctrl+s")
        await pilot.pause()
        problems = str(editor.query_one("#request-problems").content)
        assert "timeout" in problems and "10x" in problems
        assert editor.query_one("#field-timeout", Input).has_class("field-invalid")
    assert path.read_bytes() == before


async def test_broken_yaml_body_is_shown_inline_and_nothing_is_written(collection_dir, make_app):
    path = collection_dir / "users" / "create_user.yaml"
    before = path.read_bytes()
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await open_request(pilot, "users/create_user.yaml")
        editor = app.screen.query_one(RequestEditor)
        assert editor.read_draft().body_kind == "yaml"
        assert editor.query_one("#field-body").language == "yaml"  # highlighted
        editor.focus_field("body")
        await pilot.press("end", "enter", *"bad: [unclosed")
        await pilot.press("ctrl+s")
        await pilot.pause()
        problems = str(editor.query_one("#request-problems").content)
        assert "body" in problems and "YAML" in problems
    assert path.read_bytes() == before


async def test_file_changed_on_disk_is_not_overwritten(collection_dir, make_app):
    path = collection_dir / "health.yaml"
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await open_request(pilot, "health.yaml")
        app.screen.editor.focus_field("url")
        await pilot.press("end", *"status/204")
        external = "name: health\nmethod: GET\nurl: /changed-elsewhere\n"
        path.write_text(external)
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        assert "changed on disk" in app.screen.question
        await pilot.press("escape")  # cancel: keep both
        await pilot.pause()
        assert isinstance(app.screen, CollectionScreen)
        assert app.screen.is_dirty(Path("health.yaml"))
    assert path.read_text() == external


async def test_conflict_overwrite_writes_the_edits(collection_dir, make_app):
    path = collection_dir / "health.yaml"
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await open_request(pilot, "health.yaml")
        app.screen.editor.focus_field("url")
        await pilot.press("end", *"ok")
        path.write_text("name: health\nmethod: GET\nurl: /elsewhere\n")
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        app.screen.query_one("#choice-overwrite").press()
        await pilot.pause()
        await pilot.pause()
    assert load_collection(collection_dir).find_request("health.yaml").url == "/ok"


async def test_create_rename_and_delete_a_request(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await open_request(pilot, "users/get_user.yaml")
        screen = app.screen
        screen.request_tree.focus()
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptScreen)
        await pilot.press(*"list users", "enter")
        await pilot.pause()
        await pilot.pause()
        created = load_collection(collection_dir).find_request("list users")
        assert created is not None and created.relpath.parent == Path("users")
        assert any("list users" in label for label in tree_labels(app))

        await open_request(pilot, created.relpath.as_posix())
        screen.request_tree.focus()
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptScreen)
        prompt = app.screen.query_one("#prompt-input", Input)
        prompt.value = "all users"
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        renamed = load_collection(collection_dir).find_request("all users")
        assert renamed is not None
        assert load_collection(collection_dir).find_request("list users") is None

        await open_request(pilot, renamed.relpath.as_posix())
        screen.request_tree.focus()
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        app.screen.query_one("#choice-yes").press()
        await pilot.pause()
        await pilot.pause()
    assert not (collection_dir / renamed.relpath).exists()
    assert load_collection(collection_dir).find_request("all users") is None


async def test_new_folder_duplicate_and_move(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await open_request(pilot, "health.yaml")
        screen = app.screen
        screen.request_tree.focus()
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptScreen)
        await pilot.press(*"admin", "enter")
        await pilot.pause()
        assert (collection_dir / "admin").is_dir()
        assert "admin/" in tree_labels(app)

        await open_request(pilot, "health.yaml")
        screen.request_tree.focus()
        await pilot.press("d")
        await pilot.pause()
        copy = load_collection(collection_dir).find_request("health copy")
        assert copy is not None and (collection_dir / copy.relpath).is_file()

        await open_request(pilot, copy.relpath.as_posix())
        screen.request_tree.focus()
        await pilot.press("m")
        await pilot.pause()
        prompt = app.screen.query_one("#prompt-input", Input)
        prompt.value = "admin"
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
    moved = load_collection(collection_dir).find_request("health copy")
    assert moved is not None and moved.relpath.parent == Path("admin")
    assert not (collection_dir / copy.relpath).exists()


async def test_rename_folder_moves_its_requests_and_keeps_unsaved_edits(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await open_request(pilot, "users/get_user.yaml")
        screen = app.screen
        screen.editor.focus_field("url")
        await pilot.press("end", *"?draft=1")
        await pilot.pause()
        assert screen.is_dirty(Path("users/get_user.yaml"))
        screen.request_tree.move_to(Path("users"))
        await pilot.pause()
        await pilot.pause()
        screen.request_tree.focus()
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptScreen)
        app.screen.query_one("#prompt-input", Input).value = "people"
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert screen.is_dirty(Path("people/get_user.yaml"))
        assert screen.current == Path("people/get_user.yaml")
        assert screen.editor.read_draft().url == "/json?draft=1"
        assert "people/" in tree_labels(app) and "users/" not in tree_labels(app)
    loaded = load_collection(collection_dir)
    assert {r.relpath.as_posix() for r in loaded.requests} == {
        "health.yaml",
        "people/get_user.yaml",
        "people/create_user.yaml",
    }
    assert loaded.find_request("get user").url == "/json"  # the edit was never saved
    assert not (collection_dir / "users").exists()


async def test_deleting_a_request_with_unsaved_edits_drops_them(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await open_request(pilot, "health.yaml")
        screen = app.screen
        screen.editor.focus_field("url")
        await pilot.press("end", *"gone")
        await pilot.pause()
        assert screen.is_dirty(Path("health.yaml"))
        screen.request_tree.focus()
        await pilot.press("delete")
        await pilot.pause()
        app.screen.query_one("#choice-yes").press()
        await pilot.pause()
        await pilot.pause()
        assert not screen.drafts
        assert screen.current != Path("health.yaml")
        assert not screen.title.endswith("*")
    assert not (collection_dir / "health.yaml").exists()
    assert not (collection_dir / ".deli" / "recovery" / "requests" / "health.yaml").exists()
