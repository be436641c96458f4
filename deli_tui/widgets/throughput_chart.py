"""Series over time (throughput, p99) drawn as eighth-block columns, one column per window."""

from __future__ import annotations

from collections.abc import Callable

from rich.segment import Segment
from textual.strip import Strip
from textual.widget import Widget

from deli_tui.widgets.line_refresh import refresh_changed_lines
from deli_tui.widgets.style_memo import StyleMemo
from engine.run.protocol import Snapshot
from engine.units import format_ms, format_rate

_LEVELS = " ▁▂▃▄▅▆▇█"
_AXIS_W = 7


def column_levels(series: tuple[float, ...], columns: int, rows: int) -> tuple[int, ...]:
    """Fill level in eighths of a cell (0 .. rows*8) for the newest ``columns`` values."""
    shown = series[-columns:] if columns > 0 else ()
    peak = max(shown, default=0.0)
    if peak <= 0:
        return tuple(0 for _ in shown)
    full = rows * 8
    return tuple(min(full, round(v / peak * full)) for v in shown)


class SeriesChart(Widget):
    """A bar chart of one ``Snapshot`` series, newest on the right, scaled to its peak."""

    DEFAULT_CSS = """
    SeriesChart {
        height: 1fr;
        min-height: 3;
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
        axis: Callable[[float], str],
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._title = title
        self._series = series
        self._axis = axis
        self._values: tuple[float, ...] = ()
        self._levels: tuple[int, ...] = ()
        self._lines: tuple[tuple[str, str], ...] = ()
        self._strips: dict[int, Strip] = {}
        self._peak = 0.0
        self._styles = StyleMemo(self)
        self.border_title = title

    def show(self, snapshot: Snapshot) -> None:
        """Take a new snapshot; redraw only the lines whose columns change."""
        self._values = self._series(snapshot)
        self._recompute()

    def on_resize(self) -> None:
        self._recompute(force=True)

    def _recompute(self, force: bool = False) -> None:
        size = self.content_size
        columns = max(0, size.width - _AXIS_W - 1)
        levels = column_levels(self._values, columns, max(1, size.height))
        peak = max(self._values[-columns:], default=0.0) if columns else 0.0
        if not force and levels == self._levels and peak == self._peak:
            return
        self._levels = levels
        self._peak = peak
        lines = self._draw(size.height)
        old_lines, self._lines = self._lines, lines
        refresh_changed_lines(self, old_lines, lines, self._strips, force=force)

    def _draw(self, height: int) -> tuple[tuple[str, str], ...]:
        """(axis label, column cells) per line, top line first."""
        lines = []
        for y in range(height):
            label = self._axis(self._peak) if y == 0 else "0" if y == height - 1 else ""
            from_bottom = height - 1 - y
            cells = "".join(_LEVELS[max(0, min(8, lv - from_bottom * 8))] for lv in self._levels)
            lines.append((label.rjust(_AXIS_W)[:_AXIS_W] + "┤", cells))
        return tuple(lines)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()

    def render_line(self, y: int) -> Strip:
        strip = self._strips.get(y)
        if strip is not None:
            return strip
        width = self.content_size.width
        base = self._styles.base()
        if y >= len(self._lines):
            strip = Strip.blank(width, base)
        else:
            axis, cells = self._lines[y]
            segments = [
                Segment(axis, self._styles.component("series-chart--axis")),
                Segment(cells, self._styles.component("series-chart--bar")),
            ]
            strip = Strip(segments).adjust_cell_length(width, base)
        self._strips[y] = strip
        return strip


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
