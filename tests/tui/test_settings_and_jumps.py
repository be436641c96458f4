"""The collection settings dialog (F8), the palette's jumps to requests and scenarios by name,
and a new collection made and opened from the app."""

from __future__ import annotations

import time
from pathlib import Path

from textual.command import CommandList, CommandPalette
from textual.widgets import Input, TextArea

from deli_tui.screens.collection import CollectionScreen
from deli_tui.screens.confirm import TextPromptScreen
from deli_tui.screens.scenario import ScenarioScreen
from deli_tui.screens.settings import SettingsScreen
from engine.collection.loader import load_collection

SIZE = (80, 24)
SAFETY_S = 30.0  # only a hang reaches it


async def open_settings(pilot) -> SettingsScreen:
    await pilot.press("f8")
    for _ in range(40):
        if isinstance(pilot.app.screen, SettingsScreen):
            break
        await pilot.pause(0.05)
    screen = pilot.app.screen
    assert isinstance(screen, SettingsScreen)
    return screen


def problem(screen: SettingsScreen, name: str) -> str:
    return str(screen.query_one(f"#error-{name}").content)


async def test_settings_are_validated_as_typed_and_saved_changing_only_their_lines(
    collection_dir, make_app
):
    path = collection_dir / "collection.yaml"
    path.write_text("# the shop API\n" + path.read_text())
    before = path.read_text()
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await open_settings(pilot)
        assert screen.query_one("#field-name", Input).value == "shop"
        screen.query_one("#field-base_url", Input).value = "127.0.0.1:9"
        screen.query_one("#field-timeout", Input).value = "soon"
        await pilot.pause()
        assert "no scheme" in problem(screen, "base_url")
        assert problem(screen, "timeout").count("e.g.") == 1
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)  # not saved
        assert path.read_text() == before
        screen.query_one("#field-base_url", Input).value = "http://127.0.0.1:9"
        screen.query_one("#field-timeout", Input).value = "5s"
        screen.query_one("#field-name", Input).value = "shop v2"
        screen.query_one("#field-headers", TextArea).load_text(
            "Accept: application/json\nX-Team: load"
        )
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, CollectionScreen)
        assert app.screen.title == "deli-tui: shop v2"
    after = path.read_text()
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    removed = [line for line in before.splitlines() if line not in after.splitlines()]
    assert removed == ["name: shop"]
    assert added == ["name: shop v2", "  X-Team: load"]
    loaded = load_collection(collection_dir)
    assert loaded.headers == {"Accept": "application/json", "X-Team": "load"}


async def test_an_env_file_that_does_not_exist_is_refused(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await open_settings(pilot)
        screen.query_one("#field-env_file", Input).value = ".env"
        await pilot.pause()
        assert "no file .env" in problem(screen, "env_file")
        (collection_dir / ".env").write_text("token=x\n")
        screen.query_one("#field-env_file", Input).value = ".env "
        await pilot.pause()
        assert problem(screen, "env_file") == ""
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CollectionScreen)
    assert "env_file" not in (collection_dir / "collection.yaml").read_text()


async def choose_in_palette(pilot, query: str, wanted: str) -> None:
    """Open the palette, type ``query``, wait for ``wanted`` to be highlighted, press enter."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    assert isinstance(pilot.app.screen, CommandPalette)
    await pilot.press(*query)
    commands = pilot.app.screen.query_one(CommandList)
    deadline = time.monotonic() + SAFETY_S
    while True:
        index = commands.highlighted
        if commands.option_count and index is not None:
            hit = getattr(commands.get_option_at_index(index), "hit", None)
            if hit is not None and str(hit.text) == wanted:
                break
        assert time.monotonic() < deadline, f"the palette never offered {wanted!r}"
        await pilot.pause(0.05)
    await pilot.press("enter")
    await pilot.pause()


async def test_the_palette_jumps_to_a_scenario_or_a_request_by_name(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await choose_in_palette(pilot, "smoke", "Scenario: smoke")
        for _ in range(40):
            if isinstance(app.screen, ScenarioScreen):
                break
            await pilot.pause(0.05)
        assert isinstance(app.screen, ScenarioScreen) and app.screen.current == "smoke"
        await choose_in_palette(pilot, "create user", "Request: create user")
        for _ in range(40):
            screen = app.screen
            if isinstance(screen, CollectionScreen) and screen.current is not None:  # noqa: SIM102
                if screen.current == Path("users/create_user.yaml"):
                    break
            await pilot.pause(0.05)
        assert isinstance(app.screen, CollectionScreen)
        assert app.screen.current == Path("users/create_user.yaml")


async def test_a_new_collection_is_made_and_opened_from_the_palette(
    collection_dir, tmp_path, make_app
):
    app = make_app(collection_dir)
    target = tmp_path / "fresh"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await choose_in_palette(pilot, "new collection", "New collection")
        assert isinstance(app.screen, TextPromptScreen)
        app.screen.query_one("#prompt-input", Input).value = str(target)
        await pilot.press("enter")
        for _ in range(100):
            await pilot.pause(0.05)
            if app.workspace.root == target.resolve() and isinstance(app.screen, CollectionScreen):
                break
        assert app.workspace.root == target.resolve()
        screen = app.screen
        assert isinstance(screen, CollectionScreen)
        assert screen.title == "deli-tui: fresh"
        await pilot.pause()
        assert screen.current == Path("home.yaml")
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, ScenarioScreen)
        assert app.screen.scenario_names() == ["smoke"]
    assert load_collection(target).name == "fresh"


async def test_the_palette_jumps_to_a_past_run_of_a_scenario(collection_dir, make_app):
    from deli_tui.screens.run import RunScreen
    from tests.engine.history.runs import write_run

    write_run(collection_dir / ".deli" / "runs" / "20261204T120000Z-smoke.json")
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"run smoke")
        commands = app.screen.query_one(CommandList)
        deadline = time.monotonic() + SAFETY_S
        while True:
            index = commands.highlighted
            if commands.option_count and index is not None:
                hit = getattr(commands.get_option_at_index(index), "hit", None)
                if hit is not None and str(hit.text).startswith("Run: smoke "):
                    break
            assert time.monotonic() < deadline, "the palette never offered the saved run"
            await pilot.pause(0.05)
        await pilot.press("enter")
        for _ in range(100):
            if isinstance(app.screen, RunScreen) and app.screen.finished is not None:
                break
            await pilot.pause(0.05)
        assert isinstance(app.screen, RunScreen) and app.screen.saved is not None
