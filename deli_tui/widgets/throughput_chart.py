"""Series over time (req/s, p99) drawn as charts: a value scale on the left, a time axis with
labels below, and one eighth-block column per 0.5 s window, newest on the right."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from rich.segment import Segment
from textual.strip import Strip

from deli_tui.widgets.line_panel import LinePanel
from engine.run.protocol import Snapshot
from engine.units import format_ms, format_rate

_LEVELS = " ▁▂▃▄▅▆▇█"
_LABEL_W = 6  # "11.0ms", "2500", "1.2k"
_MIN_LABEL_GAP = 8  # columns between two time labels, at least
_TIME_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
WINDOW_S = 0.5  # the engine's window (RunPlan.window_s): one column each


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k at or above ``value`` (a round top
    for the scale)."""
    if value <= 0:
        return 0.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if value <= step * power * (1 + 1e-9):
            return step * power
    return 10 * power


def column_levels(
    series: tuple[float, ...], columns: int, rows: int, top: float = 0.0
) -> tuple[int, ...]:
    """Fill level in eighths of a cell (0 .. rows*8) for the newest ``columns`` values, scaled
    to ``top`` (default: their peak)."""
    shown = series[-columns:] if columns > 0 else ()
    peak = top or max(shown, default=0.0)
    if peak <= 0:
        return tuple(0 for _ in shown)
    full = rows * 8
    return tuple(min(full, max(0, round(v / peak * full))) for v in shown)


def time_label(seconds: float) -> str:
    """``10s``, ``1m``, ``1m30s``, ``2h``: a time axis label."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m" if s % 60 == 0 else f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h" if s % 3600 == 0 else f"{s // 3600}h{(s % 3600) // 60:02d}m"


def time_ticks(count: int, elapsed_s: float, window_s: float = WINDOW_S) -> list[tuple[int, str]]:
    """(column, label) of the time axis for ``count`` columns of windows, the last one ending
    at ``elapsed_s``: round times, at least ``_MIN_LABEL_GAP`` columns apart."""
    if count <= 0 or window_s <= 0:
        return []
    step = next((s for s in _TIME_STEPS_S if s / window_s >= _MIN_LABEL_GAP), _TIME_STEPS_S[-1])
    start = max(0.0, elapsed_s - count * window_s)
    ticks = []
    for column in range(count):
        low, high = start + column * window_s, start + (column + 1) * window_s
        if column == 0 and low < window_s:  # the run's first window (series start late)
            ticks.append((0, "0s"))
            continue
        mark = math.floor((high + 1e-9) / step) * step
        if low < mark:
            ticks.append((column, time_label(mark)))
    return ticks


@dataclass(frozen=True, slots=True)
class ChartLine:
    """One drawn line: the scale part (label and axis), then the plot part."""

    scale: str
    plot: str
    bars: bool  # the plot part is bars (else axis or labels)


def chart_lines(
    series: tuple[float, ...],
    elapsed_s: float,
    width: int,
    height: int,
    value_label: Callable[[float], str],
) -> tuple[ChartLine, ...]:
    """The chart of ``series`` in ``width`` x ``height`` cells: bar rows, the time axis line and
    its labels (the axis needs ``height`` >= 4, or only bars are drawn)."""
    columns = max(0, width - _LABEL_W - 1)
    with_axis = height >= 4
    rows = max(1, height - 2 if with_axis else height)
    shown = series[-columns:] if columns else ()
    top = nice_ceiling(max(shown, default=0.0))
    levels = column_levels(shown, columns, rows, top)
    lines = []
    middle = rows // 2 if rows >= 4 else -1
    for y in range(rows):
        from_bottom = rows - 1 - y
        if y == 0 and top > 0:
            scale = value_label(top).rjust(_LABEL_W)[-_LABEL_W:] + "┤"
        elif y == middle and top > 0:
            value = top * (rows - y) / rows
            scale = value_label(value).rjust(_LABEL_W)[-_LABEL_W:] + "┤"
        else:
            scale = " " * _LABEL_W + "│"
        cells = "".join(_LEVELS[max(0, min(8, lv - from_bottom * 8))] for lv in levels)
        lines.append(ChartLine(scale, cells, True))
    if with_axis:
        ticks = time_ticks(len(shown), elapsed_s)
        axis = ["─"] * columns
        labels = [" "] * columns
        free = 0
        for column, label in ticks:
            axis[column] = "┬"
            if column >= free and column + len(label) <= columns:
                labels[column : column + len(label)] = label
                free = column + len(label) + 1
        lines.append(ChartLine("0".rjust(_LABEL_W) + "└", "".join(axis), False))
        lines.append(ChartLine(" " * (_LABEL_W + 1), "".join(labels).rstrip(), False))
    return tuple(lines)


class SeriesChart(LinePanel[ChartLine]):
    """A chart of one ``Snapshot`` series; redraws only the lines that change."""

    DEFAULT_CSS = """
    SeriesChart {
        height: 1fr;
        min-height: 4;
        border: round $primary 50%;
        border-title-color: $text;
        padding: 0 1;
    }
    SeriesChart > .series-chart--bar { color: $accent; }
    SeriesChart > .series-chart--axis { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"series-chart--bar", "series-chart--axis"}

    def __init__(
        self,
        title: str,
        series: Callable[[Snapshot], tuple[float, ...]],
        value_label: Callable[[float], str],
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._series = series
        self._value_label = value_label
        self._values: tuple[float, ...] = ()
        self._elapsed_s = 0.0
        self.border_title = title

    @property
    def text(self) -> str:
        return "\n".join(line.scale + line.plot for line in self._lines)

    def show(self, snapshot: Snapshot) -> None:
        """Take a new snapshot; redraw only the lines that change."""
        self._values = self._series(snapshot)
        self._elapsed_s = snapshot.elapsed_s
        self._recompute()

    def _recompute(self, force: bool = False) -> None:
        size = self.content_size
        lines = chart_lines(
            self._values, self._elapsed_s, size.width, size.height, self._value_label
        )
        if lines != self._lines or force:
            self.set_lines(lines, force=force)

    def line_strip(self, line: ChartLine) -> Strip:
        axis = self._styles.component("series-chart--axis")
        plot_style = self._styles.component("series-chart--bar") if line.bars else axis
        return Strip([Segment(line.scale, axis), Segment(line.plot, plot_style)])


class ThroughputChart(SeriesChart):
    """Requests per second, one column per 0.5 s window."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            "Throughput (req/s per window)",
            lambda s: s.rps_series,
            format_rate,
            id=id,
            classes=classes,
        )


class P99Chart(SeriesChart):
    """p99 latency per window: where the tail moved during the run."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            "p99 latency per window",
            lambda s: s.p99_series,
            format_ms,
            id=id,
            classes=classes,
        )
