"""Percentiles p50 .. max with thresholds marked pass/fail live; open model shows both clocks.

In the open model the corrected latency (from the intended send time) and the uncorrected
one (from the actual send) sit side by side, with the scheduler's own lag below them.
"""

from __future__ import annotations

import re

from rich.style import Style
from rich.text import Text

from deli_tui.widgets.snapshot_text import SnapshotText
from engine.run.protocol import LatencyStats, Snapshot, ThresholdResult
from engine.units import format_ms

ROWS: tuple[tuple[str, str], ...] = (
    ("p50", "p50_ms"),
    ("p75", "p75_ms"),
    ("p90", "p90_ms"),
    ("p95", "p95_ms"),
    ("p99", "p99_ms"),
    ("p99.9", "p99_9_ms"),
    ("max", "max_ms"),
)
_KEYS = {label.replace(".", "_"): label for label, _ in ROWS}
_COL_W = 11


def threshold_row(expr: str) -> str | None:
    """The percentile row a whole-run threshold speaks of (``"p95 < 300ms"`` -> ``"p95"``).

    Accepts ``p95``, ``p(95)``, ``p99.9``, ``p99_9``, ``latency.p95`` and ``max``; thresholds on
    one request (``name: p95 < ..``) or on other metrics give None.
    """
    lhs = re.split(r"[<>=!]", expr, maxsplit=1)[0].strip().lower()
    if ":" in lhs or "[" in lhs:
        return None
    lhs = lhs.removeprefix("latency").lstrip("._ ")
    key = re.sub(r"[()\s]", "", lhs).replace(".", "_").removesuffix("_ms")
    return _KEYS.get(key)


def threshold_value(expr: str, value: float) -> str:
    """A threshold's current value in its metric's unit: ms for latencies, % for error_rate."""
    lhs = re.split(r"[<>=!]", expr, maxsplit=1)[0].strip().lower()
    metric = re.sub(r"\[.*\]", "", lhs).strip()
    if metric == "error_rate":
        return f"{value:.2%}"
    if threshold_row(metric) is not None or metric in ("min", "mean", "avg", "med"):
        return format_ms(value)
    return f"{value:.4g}"


def threshold_marks(results: tuple[ThresholdResult, ...]) -> dict[str, bool | None]:
    """Per percentile row, the combined verdict of its thresholds (False wins, then None)."""
    marks: dict[str, bool | None] = {}
    for result in results:
        row = threshold_row(result.expr)
        if row is None:
            continue
        before = marks.get(row, True)
        if result.passed is False or before is False:
            marks[row] = False
        elif result.passed is None or before is None:
            marks[row] = None
        else:
            marks[row] = True
    return marks


class Percentiles(SnapshotText):
    """The latency table and the threshold list; redraws only when its text changes."""

    DEFAULT_CSS = """
    Percentiles > .percentiles--pass { color: $success; }
    Percentiles > .percentiles--fail { color: $error; text-style: bold; }
    Percentiles > .percentiles--pending { color: $text-muted; }
    Percentiles > .percentiles--head { color: $text-muted; }
    """
    COMPONENT_CLASSES = {
        "percentiles--pass",
        "percentiles--fail",
        "percentiles--pending",
        "percentiles--head",
    }

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("Percentiles", id=id, classes=classes)

    @property
    def marks(self) -> dict[str, bool | None]:
        """Row label -> threshold verdict, as last drawn."""
        return threshold_marks(self._snapshot.thresholds) if self._snapshot else {}

    def _verdict_style(self, passed: bool | None) -> Style:
        name = {True: "pass", False: "fail", None: "pending"}[passed]
        return self._styles.component(f"percentiles--{name}")

    def build(self, snapshot: Snapshot) -> Text:
        snap = snapshot
        head = self._styles.component("percentiles--head")
        marks = threshold_marks(snap.thresholds)
        if snap.model == "open":
            columns: tuple[tuple[str, LatencyStats], ...] = (
                ("corrected", snap.latency),
                ("uncorrected", snap.service_latency),
            )
        elif snap.phase == "finished":  # the last window says nothing about the whole run
            columns = (("run", snap.latency),)
        else:
            columns = (("run", snap.latency), ("window", snap.window_latency))
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("      " + "".join(name.rjust(_COL_W + 1) for name, _ in columns), head)
        for label, attr in ROWS:
            text.append("\n")
            mark = marks.get(label, "none")
            style = self._verdict_style(mark) if mark != "none" else Style()  # type: ignore[arg-type]
            text.append(label.ljust(6), style)
            for _, stats in columns:
                text.append(" " + format_ms(getattr(stats, attr)).rjust(_COL_W), style)
            if mark != "none":
                symbol = {True: " ✓", False: " ✗", None: " …"}[mark]  # type: ignore[index]
                text.append(symbol, style)
        if snap.model == "open":
            lag = snap.scheduler_lag_ms
            text.append("\n")
            text.append("sched lag ", head)
            text.append(f"p99 {format_ms(lag.p99_ms)} max {format_ms(lag.max_ms)}")
        for result in snap.thresholds:
            text.append("\n")
            style = self._verdict_style(result.passed)
            symbol = {True: "✓", False: "✗", None: "…"}[result.passed]
            text.append(f"{symbol} {result.expr}", style)
            if result.default:
                text.append(" (default)", head)
            if result.value is not None:
                text.append(f"  ({threshold_value(result.expr, result.value)})", head)
        return text
