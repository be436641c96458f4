"""The percentiles panel shows each threshold's current value in its metric's unit."""

from __future__ import annotations

from textual.app import App, ComposeResult

from deli_tui.widgets import Percentiles
from engine.run.protocol import ThresholdResult
from tests.tui.sample_snapshots import make_snapshot


class PercentilesApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Percentiles()


async def test_threshold_lines_give_latency_in_ms_and_rates_in_percent() -> None:
    snapshot = make_snapshot(
        thresholds=(
            ThresholdResult("p95 < 300ms", 20.86, True),
            ThresholdResult("error_rate < 1%", 0.0, True),
            ThresholdResult("p99 < 5ms", 8.0, False),
        )
    )
    app = PercentilesApp()
    async with app.run_test(size=(60, 20)) as pilot:
        panel = app.query_one(Percentiles)
        panel.show(snapshot)
        await pilot.pause()
        lines = panel.text.splitlines()
    assert "✓ p95 < 300ms  (20.9ms)" in lines, lines
    assert "✗ p99 < 5ms  (8.00ms)" in lines, lines
    rate = next(line for line in lines if "error_rate" in line)
    assert rate.startswith("✓ error_rate < 1%  (0") and rate.endswith("%)"), rate
