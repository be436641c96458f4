"""A stress run on the dashboard: the step chart of load against p95, the step in progress
with its verdict so far, and the outcome when it ends."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from deli_tui.app import DeliApp
from deli_tui.screens.run import RunScreen
from deli_tui.widgets import RunHeader, StressChart
from deli_tui.widgets.stress_chart import step_lines
from engine.history.saved_run import discover_runs
from engine.run.protocol import Finished, StressProgress, StressStep
from tests.servers.serial import serial_server
from tests.tui.sample_snapshots import make_snapshot
from tests.tui.test_run_screen import wait_for, wait_for_first_snapshot
from tests.tui.test_snapshots import DashboardApp

HELD = (
    StressStep(10, 400, 200.0, 20.0, 25.0, 30.0, 0.0, True),
    StressStep(20, 420, 210.0, 40.0, 60.0, 70.0, 0.0, True),
)


def progress(*steps: StressStep, point: float | None = None, concluded: bool = False):  # type: ignore[no-untyped-def]
    held = [s.load for s in steps if s.complete and s.held]
    return StressProgress(
        "users", ("p95 > 200ms",), 10.0, 1.0, 50, steps, point, max(held) if held else None,
        concluded,
    )  # fmt: skip


def stress_snapshot(stress: StressProgress, **changes: object):  # type: ignore[no-untyped-def]
    return replace(make_snapshot(), stress=stress, stage_label="step 3/5: 30 users", **changes)


def test_step_lines_scale_every_step_to_one_axis_with_the_limit_marked() -> None:
    running = StressStep(30, 100, 100.0, 50.0, 150.0, 160.0, 0.0, True, complete=False)
    lines = step_lines(progress(*HELD, running), 12, 80)
    assert [line.load.strip() for line in lines] == ["10 users", "20 users", "30 users"]
    assert [line.kind for line in lines] == ["held", "held", "running"]
    assert lines[0].bar < lines[1].bar < lines[2].bar
    assert lines[0].limit_at == lines[2].limit_at > lines[2].bar  # 150 ms is under the limit
    assert "holding so far" in lines[2].tail


def test_a_step_breaking_at_the_widest_bar_keeps_its_verdict_whole() -> None:
    """The bars make room for the longest verdict: the step that breaks has the longest bar
    and the longest words, and both fit the width."""
    breaking = StressStep(30, 100, 100.0, 90.0, 900.0, 950.0, 0.0, False, False, "p95 > 200ms")
    for width in (60, 80, 150):
        lines = step_lines(progress(*HELD, breaking), 12, width)
        last = lines[-1]
        assert last.tail.endswith("breaking so far: p95 > 200ms")
        drawn = len(last.load) + 1 + 1 + max(last.bar, last.limit_at + 1) + len(last.tail)
        assert drawn <= width, (width, drawn)


async def test_the_dashboard_shows_the_steps_live_and_the_outcome_at_the_end() -> None:
    running = StressStep(30, 100, 100.0, 90.0, 260.0, 300.0, 0.0, False, False, "p95 > 200ms")
    live = stress_snapshot(progress(*HELD, running))
    broke = replace(running, complete=True, requests=300)
    final = stress_snapshot(
        progress(*HELD, broke, point=30, concluded=True), seq=60, phase="finished"
    )
    messages = [live, Finished(final, True, "breaking point found")]
    app = DashboardApp([live])
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 30
        while not (isinstance(app.screen, RunScreen) and app.screen.snapshot is not None):
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
        screen = app.screen
        await pilot.pause()
        chart = screen.query_one(StressChart)
        assert chart.display and screen.has_class("-stress")
        assert [line.kind for line in chart.lines] == ["held", "held", "running"]
        assert "breaking so far: p95 > 200ms" in chart.lines[-1].tail
        assert "step 3/5: 30 users" in screen.query_one(RunHeader).text
        assert not screen.check_action("adjust", (1,))  # the steps set the load
    app = DashboardApp(messages)
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 30
        while not (isinstance(app.screen, RunScreen) and app.screen.finished is not None):
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
        await pilot.pause()
        screen = app.screen
        assert [line.kind for line in screen.query_one(StressChart).lines] == [
            "held", "held", "broke",
        ]  # fmt: skip
        verdict = str(screen.query_one("#verdict").render())
        assert "breaking point: 30 users (p95 > 200ms); highest load that held: 20 users" in verdict


async def test_a_run_that_is_not_stress_has_no_step_chart() -> None:
    app = DashboardApp([make_snapshot()])
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 30
        while not (isinstance(app.screen, RunScreen) and app.screen.snapshot is not None):
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
        await pilot.pause()
        assert not app.screen.query_one(StressChart).display


async def test_a_stress_scenario_runs_from_the_app_to_its_breaking_point(
    tmp_path: Path, make_app: Callable[..., DeliApp]
) -> None:
    root = tmp_path / "serial"
    root.mkdir()
    with serial_server(0.020) as server:
        (root / "collection.yaml").write_text(
            f"name: serial\nbase_url: {server.url}\nscenarios:\n  find-limit:\n"
            "    model: stress\n    over: users\n    start: 1\n    step: 8\n"
            "    step_duration: 2s\n    max: 9\n    until: [p50 > 100ms]\n"
        )
        (root / "home.yaml").write_text("name: home\nurl: /\n")
        app = make_app(root)
        async with app.run_test(size=(120, 40)) as pilot:
            app.start_run("find-limit")
            screen = await wait_for_first_snapshot(pilot)
            await wait_for(pilot, lambda: screen.finished is not None, "the end")
            await pilot.pause()
            chart = screen.query_one(StressChart)
            # 1 user: 20 ms a request; 9 users: 180 ms, beyond 100 ms
            assert [(line.load.strip(), line.kind) for line in chart.lines] == [
                ("1 users", "held"), ("9 users", "broke"),
            ]  # fmt: skip
            assert screen.finished is not None and screen.finished.passed
            verdict = str(screen.query_one("#verdict").render())
            assert "breaking point: 9 users (p50 > 100ms)" in verdict
    (saved,) = discover_runs(root / ".deli" / "runs")
    assert saved.load_text == "stress 1-9 users"
    assert saved.data["stress"]["breaking_point"] == 9
