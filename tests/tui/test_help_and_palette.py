"""Keyboard first: the help screen lists every key, the palette lists every action."""

from __future__ import annotations

import time

from textual.binding import Binding
from textual.command import CommandList, CommandPalette

from deli_tui.app import DeliApp
from deli_tui.commands import KeyActions
from deli_tui.screens.collection import CollectionScreen
from deli_tui.screens.confirm import ChoiceScreen, TextPromptScreen
from deli_tui.screens.error_inspector import ErrorInspector
from deli_tui.screens.help import HelpScreen, key_rows
from deli_tui.screens.run import RunScreen
from deli_tui.screens.scenario import ScenarioScreen
from deli_tui.screens.session_variables import SessionVariablesScreen
from deli_tui.widgets.collection_tree import CollectionTree
from deli_tui.widgets.scenario_list import ScenarioList

SIZE = (80, 24)
SAFETY_S = 30.0  # only a hang reaches it


def test_every_binding_has_an_id_a_description_a_tooltip_and_a_help_entry():
    owners = (
        DeliApp,
        CollectionScreen,
        CollectionTree,
        ScenarioScreen,
        ScenarioList,
        RunScreen,
        ChoiceScreen,
        TextPromptScreen,
        ErrorInspector,
        HelpScreen,
        SessionVariablesScreen,
    )
    in_help = {
        (binding.id, binding.description)
        for _, bindings in DeliApp.help_sections()
        for binding in Binding.make_bindings(bindings)
    }
    for owner in owners:
        for binding in Binding.make_bindings(owner.BINDINGS):
            assert binding.id, (owner.__name__, binding)
            assert binding.description, (owner.__name__, binding)
            assert binding.tooltip, (owner.__name__, binding)  # the palette's description
            if owner not in (ErrorInspector, HelpScreen):
                assert (binding.id, binding.description) in in_help, (owner.__name__, binding)


async def test_help_screen_lists_the_keys_of_every_screen(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        titles = [title for title, _ in app.screen.sections]
        assert titles[:4] == [
            "Everywhere",
            "Requests screen",
            "Request tree (when focused)",
            "Scenarios screen",
        ]
        rows = [row for _, bindings in app.screen.sections for row in key_rows(bindings)]
        keys = {description: key for key, description in rows}
        assert keys["Save"] == "^s" and keys["Send"] == "^r"
        assert keys["Quit"] == "^q" and keys["Help"] == "F1 / ?"
        assert keys["Delete"] == "del / x"
        assert keys["Requests"] == "F2" and keys["HTTP/2 on/off"] == "F4"  # F-keys upper case
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CollectionScreen)


async def test_question_mark_opens_help_but_types_into_inputs(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen.editor.focus_field("url")
        await pilot.press("question_mark")
        assert app.screen.editor.read_draft().url.endswith("?")
        app.screen.request_tree.focus()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_palette_lists_the_screen_and_tree_actions(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        names = [name for name, _, _ in KeyActions(app.screen)._commands()]
        for wanted in ("Save", "Send", "New request", "Rename", "Delete", "Quit", "Scenarios"):
            assert wanted in names, names
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"scenarios")
        commands = app.screen.query_one(CommandList)

        def scenarios_highlighted() -> bool:  # the search runs in a worker: wait for its hit
            index = commands.highlighted
            if not commands.option_count or index is None:
                return False
            hit = getattr(commands.get_option_at_index(index), "hit", None)
            return hit is not None and str(hit.text) == "Scenarios"

        deadline = time.monotonic() + SAFETY_S
        while not scenarios_highlighted():
            assert time.monotonic() < deadline, "the palette never offered Scenarios"
            await pilot.pause(0.05)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ScenarioScreen)


async def test_tab_moves_from_the_tree_through_the_request_line(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.focused is app.screen.request_tree
        await pilot.press("tab")
        assert app.focused is not None and app.focused.id == "field-method"
        await pilot.press("tab")
        assert app.focused is not None and app.focused.id == "field-url"
        await pilot.press("ctrl+t")
        assert app.focused is app.screen.request_tree
