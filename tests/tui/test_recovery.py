"""Unsaved edits survive a crash: recovery copies are written while dirty and offered again."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from deli_tui.drafting.recovery import RecoveryStore
from deli_tui.screens.collection import CollectionScreen
from deli_tui.screens.confirm import ChoiceScreen
from deli_tui.screens.recover_edits import RecoverEditsScreen
from deli_tui.screens.scenario import ScenarioScreen

SIZE = (80, 24)


def test_store_writes_reads_and_clears_copies(tmp_path):
    store = RecoveryStore(tmp_path)
    path = store.save("request", "users/get.yaml", {"url": "/x", "insecure": False})
    assert path == tmp_path / ".deli" / "recovery" / "requests" / "users" / "get.yaml"
    store.save("scenario", "smoke test", {"users": "5"})
    copies = {(c.kind, c.key): c.fields for c in store.load_all()}
    assert copies == {
        ("request", "users/get.yaml"): {"url": "/x", "insecure": False},
        ("scenario", "smoke test"): {"users": "5"},
    }
    store.clear("request", "users/get.yaml")
    assert not (tmp_path / ".deli" / "recovery" / "requests").exists()
    assert [c.kind for c in store.load_all()] == ["scenario"]


def test_unreadable_copies_are_skipped(tmp_path):
    store = RecoveryStore(tmp_path)
    bad = store.root / "requests" / "x.yaml"
    bad.parent.mkdir(parents=True)
    bad.write_text("fields: [unclosed")
    assert store.load_all() == []


async def wait_for(pilot, condition, tries: int = 60) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.05)
    assert condition()


async def test_dirty_edit_is_copied_and_offered_after_a_crash(collection_dir, make_app):
    copy = collection_dir / ".deli" / "recovery" / "requests" / "health.yaml"
    original = (collection_dir / "health.yaml").read_bytes()
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, CollectionScreen)
        screen.request_tree.move_to(Path("health.yaml"))
        await wait_for(pilot, lambda: screen.current == Path("health.yaml"))
        screen.editor.focus_field("url")
        await pilot.press("end", *"json")
        await wait_for(pilot, copy.exists)
        assert "/json" in copy.read_text()
        # Simulate a crash: forget the drafts so quitting cannot tidy anything up.
        screen.keeper.written.clear()
        screen.drafts.clear()
    assert copy.exists()
    assert (collection_dir / "health.yaml").read_bytes() == original

    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        assert "health.yaml" in app.screen.question
        app.screen.query_one("#choice-restore").press()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CollectionScreen)
        assert screen.is_dirty(Path("health.yaml"))
        screen.request_tree.move_to(Path("health.yaml"))
        await wait_for(pilot, lambda: screen.current == Path("health.yaml"))
        assert screen.editor.read_draft().url == "/json"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not copy.exists()
    assert "url: /json" in (collection_dir / "health.yaml").read_text()


async def test_discarding_the_offer_removes_the_copy(collection_dir, make_app):
    store = RecoveryStore(collection_dir)
    copy = store.save("request", "health.yaml", {"method": "GET", "url": "/other"})
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        app.screen.query_one("#choice-discard").press()
        await pilot.pause()
        assert not app.screen.drafts
    assert not copy.exists()


async def test_quit_with_unsaved_edits_asks_and_keeps_a_recovery_copy(collection_dir, make_app):
    copy = collection_dir / ".deli" / "recovery" / "requests" / "health.yaml"
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        screen.request_tree.move_to(Path("health.yaml"))
        await wait_for(pilot, lambda: screen.current == Path("health.yaml"))
        screen.editor.focus_field("url")
        await pilot.press("end", *"json")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen) and "health.yaml" in app.screen.question
        await pilot.press("escape")  # stay
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, CollectionScreen)
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("ctrl+q")  # a second ctrl+q in the dialog quits
        await pilot.pause()
        assert app.return_code == 0
    assert copy.exists() and "/json" in copy.read_text()


async def test_scenario_edits_and_a_new_scenario_come_back_after_a_crash(collection_dir, make_app):
    copies = collection_dir / ".deli" / "recovery" / "scenarios"
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ScenarioScreen)
        field = screen.form.query_one("#field-users", Input)
        field.focus()
        field.value = ""
        await pilot.press("7")
        await pilot.press("ctrl+n", *"soak", "enter")
        await wait_for(pilot, lambda: (copies / "soak.yaml").exists())
        await wait_for(pilot, lambda: (copies / "smoke.yaml").exists())
        # Simulate a crash: forget the drafts so quitting cannot tidy anything up.
        screen.keeper.written.clear()
        screen.drafts.clear()
    assert "soak" not in (collection_dir / "collection.yaml").read_text()

    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, RecoverEditsScreen))
        assert "smoke" in app.screen.question and "soak" in app.screen.question
        app.screen.query_one("#choice-restore").press()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ScenarioScreen)
        assert screen.scenario_names() == ["smoke", "soak"]
        assert screen.drafts["smoke"].users == "7" and "soak" in screen.new_scenarios
        screen.open_scenario("smoke")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not (copies / "smoke.yaml").exists()
    assert "users: 7" in (collection_dir / "collection.yaml").read_text()
