"""The scenario form's flow fields: setup, data file (with a preview of its columns and first
rows), cookies; edited, validated as typed and saved to collection.yaml."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Checkbox, Select

from deli_tui.drafting.scenario_draft import ScenarioDraft, draft_from_scenario, scenario_from_draft
from deli_tui.screens.scenario import ScenarioScreen
from engine.collection.loader import load_collection
from engine.collection.model import DataDef, ScenarioDef
from tests.engine.flow_files import shop_collection
from tests.tui.test_scenario_screen import replace_field

SIZE = (100, 40)
SHOP = "    users: 2\n    duration: 5s\n    requests: [List items, Get item]\n"
FLOW = SHOP + "    setup: [Login]\n    data: {file: users.csv, as: user, mode: unique}\n"


def test_flow_fields_round_trip_through_the_draft() -> None:
    s = ScenarioDef(
        name="s", setup=["Login"], data=DataDef("u.csv", "user", "unique"), cookies=True
    )
    draft = draft_from_scenario(s)
    assert (draft.setup, draft.data_file, draft.data_as, draft.data_mode) == (
        "Login", "u.csv", "user", "unique")  # fmt: skip
    back, problems = scenario_from_draft(draft, ScenarioDef(name="s"))
    assert problems == [] and back == s
    bad = ScenarioDraft(data_file="u.csv", data_as="a.b", data_mode="once")
    _, problems = scenario_from_draft(bad, ScenarioDef(name="s"))
    assert {p.field for p in problems} == {"data_as", "data_mode"}


async def _open_shop(pilot) -> ScenarioScreen:
    await pilot.press("f3")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ScenarioScreen) and screen.current == "shop"
    return screen


async def test_data_file_preview_shows_the_columns_and_first_rows(tmp_path: Path, make_app):
    root = shop_collection(tmp_path / "shop", "http://127.0.0.1:9", FLOW, users=7)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_shop(pilot)
        form = screen.form
        assert form.query_one("#field-setup").value == "Login"
        assert form.query_one("#field-data_mode", Select).value == "unique"
        preview = form.data_preview_text
        assert "columns: {{user.name}}, {{user.password}}" in preview
        assert "u0    pw-u0" in preview and "u4    pw-u4" in preview and "u5" not in preview
        await replace_field(pilot, screen, "data_as", "buyer")
        assert "{{buyer.name}}" in form.data_preview_text
        await replace_field(pilot, screen, "data_file", "nobody.csv")
        assert "data file 'nobody.csv' not found" in form.data_preview_text
        await replace_field(pilot, screen, "data_file", "")
        assert "No data file" in form.data_preview_text


async def test_setup_and_cookies_are_checked_and_saved(tmp_path: Path, make_app):
    root = shop_collection(tmp_path / "shop", "http://127.0.0.1:9", SHOP, users=3)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_shop(pilot)
        await replace_field(pilot, screen, "setup", "Logn")
        assert "no request named 'Logn'" in screen.form.problem_text("setup")
        await replace_field(pilot, screen, "setup", "Login")
        assert screen.form.problem_text("setup") == ""
        await replace_field(pilot, screen, "data_file", "users.csv")
        await replace_field(pilot, screen, "data_as", "user")
        screen.form.query_one("#field-cookies", Checkbox).value = True
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not screen.drafts
    shop = load_collection(root).scenarios["shop"]
    assert shop.setup == ["Login"] and shop.cookies is True
    assert shop.data == DataDef("users.csv", "user", "cycle")
