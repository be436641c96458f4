"""The scenarios screen: edit, validate as you type, preview, save, and ask before remote load."""

from __future__ import annotations

from textual.widgets import Input, Select

from deli_tui.drafting.scenario_draft import ScenarioDraft, parse_stages, scenario_from_draft
from deli_tui.screens.confirm import ChoiceScreen
from deli_tui.screens.scenario import ScenarioScreen
from deli_tui.widgets.load_preview import LoadPreview, column_glyph
from deli_tui.workspace import host_is_local
from engine.collection.loader import load_collection
from engine.collection.model import ScenarioDef
from tests.tui.conftest import write_collection

SIZE = (80, 24)


def test_stage_text_parses_and_bad_stages_say_which():
    problems: list = []
    assert parse_stages("10s:10, 30s:50, 10s:0", problems) == [(10, 10), (30, 50), (10, 0)]
    assert problems == []
    parse_stages("10s:10, 10x:5", problems)
    assert len(problems) == 1 and problems[0].field == "stages" and "stage 2" in problems[0].message


def test_scenario_draft_rejects_bad_values_field_by_field():
    draft = ScenarioDraft(users="-3", duration="10x", workers="0", thresholds="p95 <")
    scenario, problems = scenario_from_draft(draft, ScenarioDef(name="s"))
    assert scenario is None
    assert {p.field for p in problems} == {"users", "duration", "workers", "thresholds"}


def test_local_hosts_are_recognised():
    assert host_is_local("127.0.0.1") and host_is_local("127.3.4.5") and host_is_local("localhost")
    assert host_is_local("[::1]") and host_is_local("::1")
    assert not host_is_local("example.com") and not host_is_local("10.0.0.1")


def test_preview_glyphs_fill_from_the_bottom():
    assert [column_glyph(10, 10, 2, r) for r in (0, 1)] == ["█", "█"]
    assert [column_glyph(5, 10, 2, r) for r in (0, 1)] == [" ", "█"]
    assert column_glyph(0, 10, 2, 1) == " "


async def open_scenarios(pilot) -> ScenarioScreen:
    await pilot.press("f3")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ScenarioScreen)
    assert screen.current == "smoke"
    return screen


async def replace_field(pilot, screen: ScenarioScreen, name: str, text: str) -> None:
    field = screen.form.query_one(f"#field-{name}", Input)
    field.focus()
    field.value = ""
    await pilot.press(*text)
    await pilot.pause()


async def test_edit_users_and_duration_then_save(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_scenarios(pilot)
        preview = screen.query_one(LoadPreview)
        assert preview.profile is not None and preview.profile.duration_s == 5
        await replace_field(pilot, screen, "users", "7")
        await replace_field(pilot, screen, "duration", "1m")
        assert preview.profile is not None and preview.profile.duration_s == 60
        assert preview.peak == 7
        assert screen.current in screen.drafts
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not screen.drafts
    smoke = load_collection(collection_dir).scenarios["smoke"]
    assert smoke.users == 7 and smoke.duration_s == 60
    assert smoke.thresholds == ["p95 < 500ms"]


async def test_bad_duration_is_shown_under_its_field_and_not_saved(collection_dir, make_app):
    before = (collection_dir / "collection.yaml").read_bytes()
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_scenarios(pilot)
        await replace_field(pilot, screen, "duration", "10x")
        assert "10x" in screen.form.problem_text("duration")
        assert screen.form.problem_text("duration").count("e.g.") == 1  # the hint, once
        assert screen.query_one(LoadPreview).profile is None
        await pilot.press("ctrl+s")
        await pilot.pause()
        await replace_field(pilot, screen, "duration", "20s")
        assert screen.form.problem_text("duration") == ""
    assert (collection_dir / "collection.yaml").read_bytes() == before


async def test_new_scenario_with_stages_is_saved(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_scenarios(pilot)
        await pilot.press("ctrl+n")
        await pilot.press(*"ramp", "enter")
        await pilot.pause()
        assert screen.current == "ramp"
        screen.form.query_one("#field-profile").value = "stages"
        await pilot.pause()
        await replace_field(pilot, screen, "stages", "10s:10, 30s:50, 10s:0")
        assert screen.query_one(LoadPreview).peak > 40
        await pilot.press("ctrl+s")
        await pilot.pause()
    ramp = load_collection(collection_dir).scenarios["ramp"]
    assert ramp.profile == "stages" and ramp.stages == [(10, 10), (30, 50), (10, 0)]


async def test_first_run_against_a_remote_host_asks_and_cancel_sends_nothing(tmp_path, make_app):
    root = write_collection(tmp_path / "remote", "http://deli-tui-test.invalid")
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await open_scenarios(pilot)
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        assert "deli-tui-test.invalid" in app.screen.question
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ScenarioScreen)
        assert not app.remote_confirmed
        assert len(app.screen_stack) == 1


def test_a_base_url_override_shapes_plans_but_is_never_saved(collection_dir):
    from deli_tui.workspace import Workspace

    workspace = Workspace(collection_dir, base_url_override="http://127.0.0.1:8089")
    workspace.load()
    plan = workspace.plan_for("smoke")
    assert {req.port for req in plan.requests} == {8089}
    smoke = workspace.collection.scenarios["smoke"]
    workspace.save_scenario(smoke)
    assert "base_url: http://127.0.0.1:9" in (collection_dir / "collection.yaml").read_text()


async def test_run_key_runs_the_unsaved_edit_of_the_scenario(tmp_path, demo_server, make_app):
    from deli_tui.screens.run import RunScreen

    root = write_collection(tmp_path / "shop", demo_server.url)
    before = (root / "collection.yaml").read_text()
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_scenarios(pilot)
        await replace_field(pilot, screen, "users", "3")
        assert "smoke" in screen.drafts
        await pilot.press("ctrl+r")
        for _ in range(200):
            await pilot.pause(0.05)
            run = app.screen
            if isinstance(run, RunScreen) and run.snapshot and run.snapshot.target_users:
                break
        assert isinstance(run, RunScreen) and run.snapshot is not None
        assert run.snapshot.target_users == 3  # the edit, not the saved 2 users
        await pilot.press("s")
    assert (root / "collection.yaml").read_text() == before


def test_cluster_address_is_checked_in_the_draft():
    scenario, problems = scenario_from_draft(ScenarioDraft(cluster="head"), ScenarioDef(name="s"))
    assert scenario is None and [p.field for p in problems] == ["cluster"]
    scenario, problems = scenario_from_draft(ScenarioDraft(cluster=" auto "), ScenarioDef(name="s"))
    assert problems == [] and scenario is not None and scenario.cluster == "auto"
    scenario, _ = scenario_from_draft(ScenarioDraft(cluster=""), ScenarioDef(name="s", cluster="x"))
    assert scenario is not None and scenario.cluster is None


async def test_cluster_address_is_edited_in_the_form_and_saved(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_scenarios(pilot)
        await replace_field(pilot, screen, "cluster", "nowhere")
        assert "not a Ray address" in screen.form.problem_text("cluster")
        await replace_field(pilot, screen, "cluster", "ray://10.0.0.5:10001")
        assert screen.form.problem_text("cluster") == ""
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert load_collection(collection_dir).scenarios["smoke"].cluster == "ray://10.0.0.5:10001"


async def test_tab_from_the_list_lands_on_the_model_and_enter_opens_it(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_scenarios(pilot)
        model = screen.form.query_one("#field-model", Select)
        await pilot.press("tab")
        assert app.focused is model and model.region.width > 0
        await pilot.press("shift+tab")
        await pilot.press("enter")  # Enter on the list opens the form at the model
        await pilot.pause()
        assert app.focused is model
        await pilot.press("enter")
        await pilot.pause()
        assert model.expanded
        await pilot.press("down", "enter")
        await pilot.pause()
        assert model.value == "open"


async def test_at_80x24_the_thresholds_box_shows_several_lines_with_its_label(
    collection_dir, make_app
):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_scenarios(pilot)
        box = screen.form.query_one("#field-thresholds")
        label = screen.query_one("#row-thresholds Label")
        visible = screen.form.region
        assert box.region.height >= 4 and visible.contains_region(box.region)
        assert str(label.content) == "thresholds" and visible.contains_region(label.region)
