"""Renaming and deleting scenarios from the scenarios screen, saved to collection.yaml."""

from __future__ import annotations

import os
from pathlib import Path

from textual.widgets import Input

from deli_tui.commands import KeyActions
from deli_tui.screens.confirm import ChoiceScreen, TextPromptScreen
from deli_tui.screens.help import HelpScreen, key_rows
from deli_tui.screens.scenario import ScenarioScreen
from deli_tui.widgets.scenario_list import ScenarioList
from engine.collection.loader import load_collection

SIZE = (80, 24)
SECOND = """\
  soak:
    model: open
    rate: 5
    duration: 1m
"""


def add_second_scenario(root: Path) -> None:
    path = root / "collection.yaml"
    path.write_text(path.read_text() + SECOND)


async def open_list(pilot) -> ScenarioScreen:
    await pilot.press("f3")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ScenarioScreen)
    screen.query_one(ScenarioList).focus()
    await pilot.pause()
    return screen


async def type_name(pilot, name: str) -> None:
    prompt = pilot.app.screen
    assert isinstance(prompt, TextPromptScreen)
    prompt.query_one("#prompt-input", Input).value = ""
    await pilot.press(*name, "enter")
    await pilot.pause()


async def test_rename_saves_the_new_name_in_place_and_keeps_the_settings(collection_dir, make_app):
    add_second_scenario(collection_dir)
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(pilot)
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptScreen)
        assert app.screen.query_one("#prompt-input", Input).value == "smoke"
        await type_name(pilot, "soak")  # taken: refused, the prompt stays
        assert isinstance(app.screen, TextPromptScreen)
        await type_name(pilot, "quick")
        assert app.screen is screen
        assert screen.current == "quick"
        assert screen.scenario_names() == ["quick", "soak"]
    scenarios = load_collection(collection_dir).scenarios
    assert list(scenarios) == ["quick", "soak"]
    assert scenarios["quick"].users == 2 and scenarios["quick"].thresholds == ["p95 < 500ms"]


async def test_rename_carries_unsaved_edits_to_the_new_name(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(pilot)
        field = screen.form.query_one("#field-users", Input)
        field.value = "9"
        await pilot.pause()
        assert "smoke" in screen.drafts
        screen.query_one(ScenarioList).focus()
        await pilot.press("r")
        await type_name(pilot, "quick")
        assert "quick" in screen.drafts and "smoke" not in screen.drafts
        assert screen.form.read_draft().users == "9"
        assert load_collection(collection_dir).scenarios["quick"].users == 2
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert load_collection(collection_dir).scenarios["quick"].users == 9


async def test_delete_asks_first_and_cancel_keeps_the_scenario(collection_dir, make_app):
    before = (collection_dir / "collection.yaml").read_bytes()
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(pilot)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and screen.current == "smoke"
    assert (collection_dir / "collection.yaml").read_bytes() == before


async def test_delete_removes_the_scenario_from_the_file_and_shows_the_next(
    collection_dir, make_app
):
    add_second_scenario(collection_dir)
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(pilot)
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.click("#choice-delete")
        await pilot.pause()
        assert app.screen is screen
        assert screen.scenario_names() == ["soak"] and screen.current == "soak"
        assert load_collection(collection_dir).scenarios.keys() == {"soak"}
        await pilot.press("x")
        await pilot.pause()
        await pilot.click("#choice-delete")
        await pilot.pause()
        assert screen.current is None and screen.form.disabled
    collection = load_collection(collection_dir)
    assert collection.scenarios == {} and collection.base_url == "http://127.0.0.1:9"


async def test_a_file_changed_on_disk_is_not_overwritten_without_asking(collection_dir, make_app):
    path = collection_dir / "collection.yaml"
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(pilot)
        changed = path.read_text().replace("users: 2", "users: 3")
        path.write_text(changed)
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
        await pilot.press("r")
        await type_name(pilot, "quick")
        assert isinstance(app.screen, ChoiceScreen)
        assert path.read_text() == changed
        assert screen.current == "smoke"
        await pilot.click("#choice-overwrite")
        await pilot.pause()
        assert screen.current == "quick"
    assert list(load_collection(collection_dir).scenarios) == ["quick"]


async def test_rename_and_delete_are_in_the_help_and_the_palette(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(pilot)
        names = [name for name, _, _ in KeyActions(screen)._commands()]
        assert "Rename" in names and "Delete" in names
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        sections = dict(app.screen.sections)
        rows = key_rows(sections["Scenario list (when focused)"])
        assert ("r", "Rename") in rows and ("del / x", "Delete") in rows
