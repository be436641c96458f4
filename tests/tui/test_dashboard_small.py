"""The dashboard at 80x24 and after the end: one view at a time (v), ``o`` sorts a table that
is on screen, no toasts for keys that show their effect, the header never cut mid-figure and
saying the run ended with run-wide figures; the time series read as charts."""

from __future__ import annotations

import math

from textual.app import App

from deli_tui.screens.run import RunScreen
from deli_tui.widgets import Percentiles, RequestTable, RunHeader
from deli_tui.widgets.throughput_chart import (
    ThroughputChart,
    chart_lines,
    nice_ceiling,
    time_label,
    time_ticks,
)
from engine.run.protocol import Finished, Message
from engine.units import format_rate
from tests.tui.sample_snapshots import ReplayLink, make_snapshot


class Dashboard(App[None]):
    def __init__(self, messages: list[Message]) -> None:
        super().__init__()
        self.link = ReplayLink(messages)

    def on_mount(self) -> None:
        self.push_screen(RunScreen(lambda: self.link))


async def shown(pilot, app: Dashboard, finished: bool = False) -> RunScreen:
    for _ in range(200):
        screen = app.screen
        if isinstance(screen, RunScreen) and screen.snapshot is not None:  # noqa: SIM102
            if not finished or screen.finished is not None:
                break
        await pilot.pause(0.05)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, RunScreen)
    return screen


async def test_o_at_80x24_shows_the_request_table_then_sorts_it_with_an_indicator():
    app = Dashboard([make_snapshot()])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await shown(pilot, app)
        table = screen.query_one(RequestTable)
        assert table.region.width == 0  # the histogram view
        await pilot.press("o")
        await pilot.pause()
        assert screen.view == "requests" and table.region.width == 80
        assert table.sort_key == "requests"  # the first press shows the table as it is
        assert table.text.splitlines()[0].split()[1] == "req▼"
        await pilot.press("o")
        await pilot.pause()
        assert table.sort_key == "rps"
        assert "rps▼" in table.text.splitlines()[0]
        assert "sorted by rps" in str(table.border_subtitle)
        assert not list(app._notifications)


async def test_v_cycles_the_views_in_a_small_terminal_only():
    app = Dashboard([make_snapshot()])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await shown(pilot, app)
        chart = screen.query_one(ThroughputChart)
        assert chart.region.width == 0
        await pilot.press("v")
        await pilot.pause()
        assert screen.view == "charts" and chart.region.width == 80
        assert chart.lines[-1].plot.lstrip().startswith("0s")  # the time axis labels
        await pilot.press("v", "v")
        assert screen.view == "histogram"
        await pilot.resize_terminal(160, 48)
        await pilot.pause(0.2)
        assert chart.region.width > 0  # everything on screen: no views
        assert screen.check_action("cycle_view", ()) is False


async def test_keys_that_show_their_effect_raise_no_toasts_at_160x48():
    app = Dashboard([make_snapshot()])
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await shown(pilot, app)
        await pilot.press("o", "o", "o", "plus", "plus", "f")
        await pilot.pause()
        assert not list(app._notifications)
        header = screen.query_one(RunHeader).text.splitlines()[0]
        assert "FROZEN" in header and "USERS → 24" in header
        await pilot.press("f")
        await pilot.pause()
        assert "FROZEN" not in screen.query_one(RunHeader).text


async def test_the_header_at_80_columns_leaves_out_whole_figures_never_cuts_one():
    app = Dashboard([make_snapshot(model="open")])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await shown(pilot, app)
        lines = screen.query_one(RunHeader).text.splitlines()
        assert all("…" not in line and len(line) <= 78 for line in lines), lines
        assert "skipped 7" in lines[2]  # skipped sends come before the other figures


async def test_after_the_end_the_header_says_so_with_run_wide_figures():
    final = make_snapshot(seq=60, phase="finished")
    app = Dashboard([make_snapshot(), Finished(final, passed=True, reason="completed")])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await shown(pilot, app, finished=True)
        lines = screen.query_one(RunHeader).text.splitlines()
        assert "[ended: completed]" in lines[0]
        assert "ran 30s of 30s" in lines[1] and "stage" not in lines[1]
        assert lines[2].startswith(f"{format_rate(final.mean_rps)} req/s over the run")
        assert "users" not in lines[2] and "rate" not in lines[2]
        head = screen.query_one(Percentiles).text.splitlines()[0]
        assert head.split() == ["run"]  # no last-window column after the end


def test_the_chart_has_a_value_scale_a_time_axis_and_one_column_per_window():
    series = tuple(1800 + 400 * math.sin(k / 3) for k in range(40))
    lines = chart_lines(series, 20.0, 60, 8, format_rate)
    assert len(lines) == 8
    bars, axis, labels = lines[:6], lines[6], lines[7]
    assert bars[0].scale.strip() == "2500┤"  # a round top above the peak (2200)
    assert bars[3].scale.strip() == "1250┤"
    assert axis.scale.strip() == "0└"
    assert all(len(line.plot) == 40 for line in bars)  # one column per window
    assert axis.plot.count("┬") == 5  # 0s, 5s, 10s, 15s, 20s over the 40 windows
    assert labels.plot.split() == ["0s", "5s", "10s", "15s", "20s"]
    assert bars[-1].plot == "█" * 40  # every window above a sixth of the scale


def test_time_ticks_follow_the_newest_windows_once_the_series_is_longer_than_the_chart():
    ticks = time_ticks(30, 100.0)  # 30 windows ending at 100 s: 85 s .. 100 s
    assert [label for _, label in ticks] == ["1m30s", "1m35s", "1m40s"]
    assert time_label(3600) == "1h" and time_label(90) == "1m30s" and time_label(5) == "5s"
    assert nice_ceiling(2273) == 2500 and nice_ceiling(11) == 15 and nice_ceiling(0) == 0


async def test_percentile_rows_keep_their_columns_when_a_threshold_marks_them():
    app = Dashboard([make_snapshot()])  # p95 passes, p99 fails: both rows are marked
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await shown(pilot, app)
        lines = screen.query_one(Percentiles).text.splitlines()[1:8]
        ends = {line.rstrip(" ✓✗…").rfind("ms") for line in lines}
        assert len(ends) == 1, lines
        marked = [line for line in lines if line.rstrip().endswith(("✓", "✗"))]
        assert [line.split()[0] for line in marked] == ["p95", "p99"]
