"""The live latency histogram: log-scale rows re-binned from the engine's sparse buckets.

A line-rendered widget (``render_line`` -> ``Strip``), one style per row, so a frame costs a
few KiB on the wire. It redraws only when the rows it would draw change.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from deli_tui.widgets.line_refresh import refresh_changed_lines
from deli_tui.widgets.style_memo import StyleMemo
from engine.metrics.histogram import bucket_value
from engine.run.protocol import Snapshot
from engine.units import format_count, format_us

_EIGHTHS = " ▏▎▍▌▋▊▉"
_GRID = 10  # row edges snap to 10 steps per decade, so the axis holds still between frames
_MIN_RATIO = 1.05  # no row narrower than ~5%: the buckets themselves are ~1.5% wide
_LABEL_W = 7


@dataclass(frozen=True, slots=True)
class HistogramRow:
    """One drawn row: latencies in [low_us, high_us) and how many results fell there."""

    low_us: float
    high_us: float
    count: int


def rebin(pairs: Iterable[tuple[int, int]], max_rows: int) -> tuple[HistogramRow, ...]:
    """Re-bin sparse ``(bucket index, count)`` pairs into at most ``max_rows`` log-spaced rows.

    The range spans the smallest to the largest non-empty bucket, widened to a grid of ten
    steps per decade; each bucket lands in the row holding its representative value.
    """
    values = [(bucket_value(i), c) for i, c in pairs if c > 0]
    if not values or max_rows <= 0:
        return ()
    lo = max(1.0, min(v for v, _ in values))
    hi = max(1.0, max(v for v, _ in values))
    lo_q = 10 ** (math.floor(math.log10(lo) * _GRID) / _GRID)
    hi_q = 10 ** ((math.floor(math.log10(hi) * _GRID) + 1) / _GRID)
    span = math.log(hi_q / lo_q)
    rows = max(1, min(max_rows, int(span / math.log(_MIN_RATIO))))
    step = span / rows
    counts = [0] * rows
    for value, count in values:
        k = int(math.log(max(value, lo_q) / lo_q) / step + 1e-9)
        counts[min(rows - 1, max(0, k))] += count
    return tuple(
        HistogramRow(lo_q * math.exp(step * k), lo_q * math.exp(step * (k + 1)), counts[k])
        for k in range(rows)
    )


@dataclass(frozen=True, slots=True)
class DrawnLine:
    """The text of one histogram row as drawn; equal lines need no redraw."""

    label: str
    bar: str
    count: str
    tail: bool


def drawn_lines(rows: tuple[HistogramRow, ...], p99_us: float, width: int) -> tuple[DrawnLine, ...]:
    """Rows scaled to the widest bar that fits ``width``; rows above the p99 marked ``tail``."""
    if not rows:
        return ()
    peak = max(r.count for r in rows) or 1
    counts = [format_count(r.count) for r in rows]
    count_w = max(len(c) for c in counts)
    bar_w = max(1, width - _LABEL_W - 2 - count_w - 1)
    lines = []
    for row, count in zip(rows, counts, strict=True):
        eighths = round(row.count / peak * bar_w * 8)
        bar = "█" * (eighths // 8) + (_EIGHTHS[eighths % 8] if eighths % 8 else "")
        if row.count and not bar:
            bar = "▏"
        lines.append(
            DrawnLine(
                label=format_us(row.low_us).rjust(_LABEL_W)[:_LABEL_W],
                bar=bar.ljust(bar_w),
                count=" " + count.rjust(count_w),
                tail=p99_us > 0 and row.high_us > p99_us,
            )
        )
    return tuple(lines)


class LatencyHistogram(Widget):
    """Latency distribution of the current window or of the whole run (``cumulative``)."""

    DEFAULT_CSS = """
    LatencyHistogram {
        height: 1fr;
        min-height: 4;
        border: round $primary 50%;
        border-title-color: $text;
        padding: 0 1;
    }
    LatencyHistogram > .latency-histogram--bar { color: $primary; }
    LatencyHistogram > .latency-histogram--tail { color: $warning; }
    LatencyHistogram > .latency-histogram--label { color: $text-muted; }
    """
    COMPONENT_CLASSES = {
        "latency-histogram--bar",
        "latency-histogram--tail",
        "latency-histogram--label",
    }

    cumulative: reactive[bool] = reactive(False)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._snapshot: Snapshot | None = None
        self._rows: tuple[HistogramRow, ...] = ()
        self._lines: tuple[DrawnLine, ...] = ()
        self._p99_us = 0.0
        self._strips: dict[int, Strip] = {}
        self._strip_width = -1
        self._styles = StyleMemo(self)

    @property
    def rows(self) -> tuple[HistogramRow, ...]:
        """The rows as last drawn (for tests and for the summary)."""
        return self._rows

    def on_mount(self) -> None:
        self._set_title()

    def watch_cumulative(self) -> None:
        self._set_title()
        self._recompute()

    def on_resize(self) -> None:
        self._recompute(force=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()

    def show(self, snapshot: Snapshot) -> None:
        """Take a new snapshot; redraw only if the rows change."""
        self._snapshot = snapshot
        self._recompute()

    def _set_title(self) -> None:
        mode = "cumulative" if self.cumulative else "window"
        self.border_title = f"Latency histogram ({mode})"
        self.border_subtitle = "h: window/cumulative"

    def _recompute(self, force: bool = False) -> None:
        snap = self._snapshot
        if snap is None:
            return
        pairs = snap.cumulative_hist if self.cumulative else snap.window_hist
        stats = snap.latency if self.cumulative else snap.window_latency
        size = self.content_size
        rows = rebin(pairs, size.height)
        p99_us = stats.p99_ms * 1000.0
        if not force and rows == self._rows and p99_us == self._p99_us:
            return
        lines = drawn_lines(rows, p99_us, size.width)
        old_lines = self._lines
        self._rows = rows
        self._p99_us = p99_us
        self._lines = lines
        refresh_changed_lines(self, old_lines, lines, self._strips, force=force)

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        if width != self._strip_width:
            self._strips.clear()
            self._strip_width = width
        strip = self._strips.get(y)
        if strip is None:
            strip = self._render_row(y, width)
            self._strips[y] = strip
        return strip

    def _render_row(self, y: int, width: int) -> Strip:
        base = self._styles.base()
        label_style = self._styles.component("latency-histogram--label")
        if not self._lines:
            if y == 0:
                text = "waiting for results..." if self._snapshot is None else "no results yet"
                return Strip([Segment(text[:width], label_style)]).adjust_cell_length(width, base)
            return Strip.blank(width, base)
        if y >= len(self._lines):
            return Strip.blank(width, base)
        line = self._lines[y]
        bar_style: Style = self._styles.component(
            "latency-histogram--tail" if line.tail else "latency-histogram--bar"
        )
        pad = width - (_LABEL_W + 2 + len(line.bar) + len(line.count))
        segments = [
            Segment(line.label + " ", label_style),
            Segment("│", label_style),
            Segment(line.bar, bar_style),
            Segment(line.count + " " * pad if pad > 0 else line.count, base),
        ]
        if pad < 0:
            return Strip(segments).adjust_cell_length(width, base)
        return Strip(segments, width)
