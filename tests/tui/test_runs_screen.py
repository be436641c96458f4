"""The runs screen (F7): saved runs listed newest first, filtered, opened as they ended,
compared and exported, through the real app on a collection with saved run files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import DataTable, Select

from deli_tui.app import DeliApp
from deli_tui.screens.compare import CompareScreen
from deli_tui.screens.export import ExportScreen
from deli_tui.screens.run import RunScreen
from deli_tui.screens.runs import RunsScreen
from deli_tui.widgets import LatencyHistogram, Percentiles, RequestTable
from deli_tui.widgets.change_table import ChangeTable
from deli_tui.widgets.overlay_histogram import OverlayHistogram
from engine.history.saved_run import discover_runs, read_run
from tests.servers.asgi import RunningServer
from tests.tui.conftest import write_collection
from tests.tui.saved_runs import open_runs, saved_runs
from tests.tui.test_run_screen import wait_for, wait_for_first_snapshot


def scenarios_shown(screen: RunsScreen) -> list[str]:
    return [r.scenario for r in screen.shown]


async def test_f7_lists_saved_runs_newest_first_with_their_verdicts(
    collection_dir: Path, make_app: Callable[..., DeliApp], utc: None
) -> None:
    made = saved_runs(collection_dir)
    app = make_app(collection_dir)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_runs(pilot)
        assert [r.path for r in screen.shown] == [
            made["smoke-3"],
            made["soak-1"],
            made["smoke-2"],
            made["smoke-1"],
        ]
        table = screen.query_one("#runs-table", DataTable)
        first = [str(cell) for cell in table.get_row_at(0)]
        assert first[1:4] == ["2024-05-04 09:00", "smoke", "10 users"]
        assert first[-1] == "STOPPED"
        assert str(table.get_row_at(1)[-1]) == "PASSED"
        assert str(table.get_row_at(3)[3]) == "?"  # the old run did not save its load


async def test_the_scenario_filter_keeps_only_its_runs(
    collection_dir: Path, make_app: Callable[..., DeliApp]
) -> None:
    saved_runs(collection_dir)
    app = make_app(collection_dir)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_runs(pilot)
        screen.query_one("#runs-scenario", Select).value = "soak"
        await pilot.pause()
        assert scenarios_shown(screen) == ["soak"]
        assert "1 of 4 runs" in str(screen.query_one("#runs-count").render())
        screen.query_one("#runs-scenario", Select).value = "__all__"
        await pilot.pause()
        assert len(screen.shown) == 4


async def test_enter_opens_a_saved_run_as_it_ended(
    collection_dir: Path, make_app: Callable[..., DeliApp]
) -> None:
    saved_runs(collection_dir)
    app = make_app(collection_dir)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_runs(pilot)
        await pilot.press("down", "enter")  # the soak run
        await pilot.pause()
        run_screen = app.screen
        assert isinstance(run_screen, RunScreen) and run_screen.finished is not None
        snap = run_screen.finished.snapshot
        assert (snap.scenario, snap.requests, snap.phase) == ("soak", 200, "finished")
        histogram = run_screen.query_one(LatencyHistogram)
        assert histogram.cumulative and sum(row.count for row in histogram.rows) == 200
        assert "p95" in run_screen.query_one(Percentiles).text
        assert "Get user" in run_screen.query_one(RequestTable).text
        verdict = str(run_screen.query_one("#verdict").render())
        assert "PASSED" in verdict and "20240503T090000Z-soak.json" in verdict
        assert not run_screen.check_action("stop_run", ())
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_space_marks_two_runs_and_c_compares_them_older_first(
    collection_dir: Path, make_app: Callable[..., DeliApp]
) -> None:
    made = saved_runs(collection_dir)
    app = make_app(collection_dir)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_runs(pilot)
        await pilot.press("space")  # smoke-3, cursor moves on to soak-1
        await pilot.press("down", "space")  # smoke-2
        assert [m.path for m in screen.marked] == [made["smoke-3"], made["smoke-2"]]
        await pilot.press("c")
        await pilot.pause()
        compare = app.screen
        assert isinstance(compare, CompareScreen)
        c = compare.comparison
        assert (c.a.path, c.b.path) == (made["smoke-2"], made["smoke-3"])
        figures = compare.query_one("#compare-figures", ChangeTable)
        assert figures.comparison is c
        assert any("run B was stopped" in n for n in c.notes)
        histogram = compare.query_one(OverlayHistogram)
        assert histogram.bins and sum(b.share_a for b in histogram.bins) == pytest.approx(1.0)
        assert sum(b.share_b for b in histogram.bins) == pytest.approx(1.0)
        await pilot.press("s")  # swap
        assert compare.comparison.a.path == made["smoke-3"]
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_c_on_one_run_compares_it_with_the_run_of_its_scenario_before_it(
    collection_dir: Path, make_app: Callable[..., DeliApp]
) -> None:
    made = saved_runs(collection_dir)
    app = make_app(collection_dir)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_runs(pilot)
        await pilot.press("c")  # smoke-3: against smoke-2 (the soak run between is skipped)
        await pilot.pause()
        compare = app.screen
        assert isinstance(compare, CompareScreen)
        assert (compare.comparison.a.path, compare.comparison.b.path) == (
            made["smoke-2"],
            made["smoke-3"],
        )


async def test_a_run_from_another_scenario_compares_with_a_note(
    collection_dir: Path, make_app: Callable[..., DeliApp]
) -> None:
    saved_runs(collection_dir)
    app = make_app(collection_dir)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_runs(pilot)
        await pilot.press("down", "space", "space", "c")  # soak-1 and smoke-2
        await pilot.pause()
        compare = app.screen
        assert isinstance(compare, CompareScreen), screen.marked
        notes = str(compare.query_one("#compare-notes").render())
        assert "different scenarios: 'smoke' and 'soak'" in notes


async def test_x_exports_a_saved_run_as_html_and_refuses_csv(
    collection_dir: Path, make_app: Callable[..., DeliApp], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    saved_runs(collection_dir)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    app = make_app(collection_dir)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_runs(pilot)
        await pilot.press("x")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ExportScreen)
        await pilot.press("tab", "enter")  # HTML is the default format; enter in the file box
        await pilot.pause()
        html = out / "20240504T090000Z-smoke.html"
        assert html.exists()
        assert "<svg" in html.read_text() and "smoke" in html.read_text()
        await pilot.press("x")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ExportScreen)
        for kind in ("json", "junit", "csv"):
            dialog.query_one(f"#format-{kind}").value = True  # type: ignore[attr-defined]
            await pilot.pause()
            if kind == "csv":
                break
            await pilot.press("tab", "enter")
            await pilot.pause()
            await pilot.press("x")
            await pilot.pause()
            dialog = app.screen
            assert isinstance(dialog, ExportScreen)
        assert "only the run just finished" in str(dialog.query_one("#export-error").render())
        await pilot.press("tab", "enter")
        await pilot.pause()
        assert app.screen is dialog  # refused, the dialog stays
        exported = json.loads((out / "20240504T090000Z-smoke.json").read_text())
        assert exported["reason"] == "stopped"
        assert "<testsuites" in (out / "20240504T090000Z-smoke.xml").read_text()
        assert not (out / "20240504T090000Z-smoke.csv").exists()


async def test_no_saved_runs_says_how_to_make_one(
    collection_dir: Path, make_app: Callable[..., DeliApp]
) -> None:
    app = make_app(collection_dir)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_runs(pilot)
        assert screen.shown == []
        assert "No saved runs yet" in str(screen.query_one("#runs-hint").render())
        await pilot.press("c", "enter", "x")  # nothing to act on: no error
        assert app.screen is screen


async def test_closing_the_app_mid_run_saves_the_run_marked_quit(
    tmp_path: Path, make_app: Callable[..., DeliApp], demo_server: RunningServer
) -> None:
    root = write_collection(tmp_path / "shop", demo_server.url)
    app = make_app(root)
    async with app.run_test(size=(120, 30)) as pilot:
        app.start_run("smoke")
        await wait_for_first_snapshot(pilot)
        await wait_for(pilot, lambda: app.screen.snapshot.requests > 0, "results")  # type: ignore[attr-defined]
        await pilot.press("ctrl+q")
    (saved,) = discover_runs(root / ".deli" / "runs")
    assert saved.verdict == "QUIT" and saved.reason == "quit"
    assert saved.requests > 0 and saved.duration_s < 5.0
    assert saved.digest()  # the distribution was saved too


async def test_a_stopped_run_is_saved_marked_and_exports_its_raw_results_as_csv(
    tmp_path: Path,
    make_app: Callable[..., DeliApp],
    demo_server: RunningServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = write_collection(tmp_path / "shop", demo_server.url)
    # a ring of 5 raw results a worker: the CSV comes from the spool on disk, whole
    config = root / "collection.yaml"
    config.write_text(
        config.read_text().replace("    users: 2\n", "    users: 2\n    max_results: 5\n")
    )
    monkeypatch.chdir(tmp_path)
    app = make_app(root)
    async with app.run_test(size=(120, 30)) as pilot:
        app.start_run("smoke")
        screen = await wait_for_first_snapshot(pilot)
        assert screen.spool_dir is not None and screen.spool_dir.parent == root / ".deli" / "runs"
        await wait_for(pilot, lambda: screen.snapshot.requests > 20, "results")  # type: ignore[union-attr]
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.finished is not None, "the end")
        assert screen.saved_path is not None
        await pilot.press("x")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ExportScreen)
        dialog.query_one("#format-csv").value = True  # type: ignore[attr-defined]
        await pilot.pause()
        await pilot.press("tab", "enter")
        await pilot.pause()
        finished = screen.finished
        assert finished is not None
        csv_path = tmp_path / f"{screen.saved_path.stem}.csv"
        lines = csv_path.read_text().splitlines()
        assert lines[0].startswith("elapsed_s,request,status")
        assert len(lines) - 1 == finished.snapshot.requests  # every result, one row each
    assert not screen.spool_dir.exists()  # working files, gone with the dashboard
    saved = read_run(screen.saved_path)
    assert saved.verdict == "STOPPED"
