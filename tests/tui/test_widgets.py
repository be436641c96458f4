"""Dashboard widgets fed constructed Snapshots: what they compute and what they draw."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from textual.app import App, ComposeResult

from deli_tui.widgets import (
    ErrorSummary,
    LatencyHistogram,
    Percentiles,
    RequestTable,
    RunHeader,
    StatusCodes,
    ThroughputChart,
    snapshot_text,
)
from deli_tui.widgets.latency_histogram import rebin
from deli_tui.widgets.percentiles import threshold_marks, threshold_row, threshold_value
from deli_tui.widgets.request_table import sort_requests
from deli_tui.widgets.run_header import progress_cells
from deli_tui.widgets.snapshot_text import line_strip
from deli_tui.widgets.throughput_chart import column_levels
from engine.metrics.histogram import bucket_index, bucket_value
from engine.run.protocol import ThresholdResult
from tests.tui.sample_snapshots import make_snapshot


def test_rebin_puts_each_bucket_in_the_row_holding_its_value() -> None:
    fast, mid, slow = (bucket_index(us) for us in (1_000, 10_000, 100_000))
    rows = rebin(((fast, 5), (mid, 7), (slow, 3)), 12)
    assert sum(r.count for r in rows) == 15
    assert rows[0].count == 5 and rows[0].low_us <= bucket_value(fast) < rows[0].high_us
    assert rows[-1].count == 3 and rows[-1].low_us <= bucket_value(slow) < rows[-1].high_us
    middle = [r for r in rows if r.count == 7]
    assert len(middle) == 1 and middle[0].low_us <= bucket_value(mid) < middle[0].high_us
    # log scale: every row spans the same ratio
    ratios = {round(r.high_us / r.low_us, 6) for r in rows}
    assert len(ratios) == 1


def test_rebin_keeps_rows_contiguous_and_bounded() -> None:
    pairs = tuple((bucket_index(us), 1) for us in range(500, 50_000, 250))
    rows = rebin(pairs, 8)
    assert len(rows) == 8
    assert all(a.high_us == b.low_us for a, b in itertools.pairwise(rows))
    assert sum(r.count for r in rows) == len(pairs)
    assert rebin((), 8) == ()


def test_rebin_of_a_single_value_uses_few_rows() -> None:
    rows = rebin(((bucket_index(2_000), 9),), 20)
    assert [r.count for r in rows if r.count] == [9]
    assert len(rows) <= 5


def test_threshold_rows_are_recognised_in_their_usual_spellings() -> None:
    assert threshold_row("p95 < 300ms") == "p95"
    assert threshold_row("p(99) < 5") == "p99"
    assert threshold_row("p99.9<100ms") == "p99.9"
    assert threshold_row("latency.p50 < 2ms") == "p50"
    assert threshold_row("max < 1s") == "max"
    assert threshold_row("error_rate < 1%") is None
    assert threshold_row("home: p95 < 10ms") is None


def test_threshold_values_are_shown_in_their_unit() -> None:
    assert threshold_value("p95 < 300ms", 20.86) == "20.9ms"
    assert threshold_value("p95[home] < 300ms", 2.5) == "2.50ms"
    assert threshold_value("error_rate < 1%", 0.0021) == "0.21%"
    assert threshold_value("rps > 100", 1234.5) == "1234"


def test_failed_threshold_marks_its_percentile_failed() -> None:
    marks = threshold_marks(
        (
            ThresholdResult("p95 < 300ms", 5.0, True),
            ThresholdResult("p99 < 5ms", 8.0, False),
            ThresholdResult("p99 < 50ms", 8.0, True),
            ThresholdResult("max < 1s", None, None),
        )
    )
    assert marks == {"p95": True, "p99": False, "max": None}


def test_request_table_sorts_by_key() -> None:
    stats = make_snapshot().per_request
    assert [r.name for r in sort_requests(stats, "name")] == ["home", "json doc", "slow jitter"]
    assert sort_requests(stats, "p99")[0].name == "slow jitter"
    assert sort_requests(stats, "requests")[0].name == "home"
    assert [r.name for r in sort_requests(stats, "errors")] == ["slow jitter", "json doc", "home"]


def test_column_levels_scale_to_the_peak_of_the_shown_columns() -> None:
    assert column_levels((1.0, 2.0, 4.0), 2, 2) == (8, 16)
    assert column_levels((0.0, 0.0), 5, 3) == (0, 0)
    assert column_levels((), 5, 3) == ()


def test_progress_cells() -> None:
    assert progress_cells(15, 30, 10) == (5, 5)
    assert progress_cells(45, 30, 10) == (10, 0)
    assert progress_cells(5, 0, 10) == (0, 10)


class Panels(App[None]):
    """All dashboard panels at once, outside the run screen."""

    def compose(self) -> ComposeResult:
        yield RunHeader()
        yield ThroughputChart()
        yield LatencyHistogram()
        yield Percentiles()
        yield StatusCodes()
        yield ErrorSummary()
        yield RequestTable()

    def show(self, snapshot) -> None:  # type: ignore[no-untyped-def]
        for widget in self.screen.children:
            widget.show(snapshot)  # type: ignore[attr-defined]


async def test_panels_draw_what_the_snapshot_says() -> None:
    app = Panels()
    async with app.run_test(size=(100, 80)) as pilot:
        snap = make_snapshot()
        app.show(snap)
        await pilot.pause()
        header = app.query_one(RunHeader).text
        assert "demo / smoke" in header and "req/s" in header and "stage 2 steady" in header
        percentiles = app.query_one(Percentiles)
        assert percentiles.marks == {"p95": True, "p99": False}
        assert "✗ p99 < 5ms" in percentiles.text
        assert "404" in app.query_one(StatusCodes).text
        errors = app.query_one(ErrorSummary).text
        assert "timeout" in errors and "read timed out" in errors
        table = app.query_one(RequestTable)
        assert table.order[0] == "home"
        while table.cycle_sort() != "p99":
            pass
        assert table.order[0] == "slow jitter"
        assert table.text.splitlines()[1].startswith("slow jitter")


async def test_histogram_toggles_between_window_and_cumulative() -> None:
    app = Panels()
    async with app.run_test(size=(100, 80)) as pilot:
        window = ((bucket_index(1_000), 4),)
        app.show(make_snapshot(window_hist=window))
        await pilot.pause()
        histogram = app.query_one(LatencyHistogram)
        assert sum(r.count for r in histogram.rows) == 4
        assert "window" in str(histogram.border_title)
        histogram.cumulative = True
        await pilot.pause()
        assert sum(r.count for r in histogram.rows) == sum(
            c for _, c in make_snapshot().cumulative_hist
        )
        assert "cumulative" in str(histogram.border_title)


async def test_panels_do_not_redraw_for_an_identical_snapshot() -> None:
    app = Panels()
    async with app.run_test(size=(100, 80)) as pilot:
        snap = make_snapshot()
        app.show(snap)
        await pilot.pause()
        refreshed: list[str] = []
        for widget in app.screen.children:
            original = widget.refresh

            def spy(*args, _w=widget, _orig=original, **kwargs):  # type: ignore[no-untyped-def]
                refreshed.append(type(_w).__name__)
                return _orig(*args, **kwargs)

            widget.refresh = spy  # type: ignore[method-assign]
        app.show(snap)
        await pilot.pause()
        assert refreshed == []
        app.show(make_snapshot(seq=21))
        await pilot.pause()
        assert "LatencyHistogram" not in refreshed  # same window distribution
        assert "RunHeader" in refreshed and "ThroughputChart" in refreshed


async def test_open_model_shows_corrected_and_uncorrected_with_scheduler_lag() -> None:
    app = Panels()
    async with app.run_test(size=(100, 80)) as pilot:
        app.show(make_snapshot(model="open"))
        await pilot.pause()
        text = app.query_one(Percentiles).text
        assert "corrected" in text and "uncorrected" in text and "sched lag" in text
        assert "skipped 7" in app.query_one(RunHeader).text


async def test_text_panel_converts_only_the_lines_that_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = Panels()
    async with app.run_test(size=(100, 80)) as pilot:
        snap = make_snapshot()
        app.show(snap)
        await pilot.pause()
        header = app.query_one(RunHeader)
        converted: list[tuple[str, int]] = []

        def counting_line_strip(line, y, style, width):  # type: ignore[no-untyped-def]
            converted.append((line.plain, y))
            return line_strip(line, y, style, width)

        monkeypatch.setattr(snapshot_text, "line_strip", counting_line_strip)
        app.show(dataclasses.replace(snap, in_flight=snap.in_flight + 1))
        await pilot.pause()
        lines = header.text.splitlines()
        gauges = next(y for y, line in enumerate(lines) if "in-flight" in line)
        assert converted == [(lines[gauges], gauges)]
        assert f"in-flight {snap.in_flight + 1}" in lines[gauges]


async def test_text_panel_lines_carry_offsets_for_text_selection() -> None:
    app = Panels()
    async with app.run_test(size=(100, 80)) as pilot:
        app.show(make_snapshot())
        await pilot.pause()
        header = app.query_one(RunHeader)
        strip = header.render_line(2)
        offsets = [segment.style.meta.get("offset") for segment in strip if segment.style]
        assert offsets[0] == (0, 2)
        x = 0
        for segment, offset in zip(strip, offsets, strict=True):
            assert offset == (x, 2)
            x += len(segment.text)
        assert "".join(segment.text for segment in strip) == header.text.splitlines()[2]


async def test_text_panels_take_the_new_colours_when_the_theme_changes() -> None:
    app = Panels()
    async with app.run_test(size=(100, 80)) as pilot:
        app.show(make_snapshot())
        await pilot.pause()
        header = app.query_one(RunHeader)
        before = next(iter(header.render_line(0))).style.color
        app.theme = "gruvbox"
        await pilot.pause()
        await pilot.pause()
        title = next(iter(header.render_line(0)))
        assert title.text == "demo / smoke"
        assert title.style.color != before
        assert title.style.color == header.get_component_rich_style("run-header--title").color
