"""Two runs' latency distributions overlaid on one log scale, one row per latency bin.

Each cell holds both runs: its upper half is run A's bar, its lower half run B's (``▀`` drawn
in A's colour on B's), so where the two shapes differ reads at a glance. Bars are each run's
share of its results, on one scale for both.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from deli_tui.widgets.style_memo import StyleMemo
from engine.history.overlay import Centroids, OverlayBin, overlay_bins
from engine.units import format_ms

_LABEL_W = 7


def bar_cells(share: float, peak: float, width: int) -> int:
    """Cells of a bar for ``share`` when ``peak`` fills ``width``; at least one when > 0."""
    if share <= 0 or peak <= 0 or width <= 0:
        return 0
    return max(1, round(share / peak * width))


class OverlayHistogram(Widget):
    """Run A's and run B's latency distributions in the same rows (``show(a, b)``)."""

    DEFAULT_CSS = """
    OverlayHistogram {
        height: 1fr;
        min-height: 6;
        border: round $primary 50%;
        border-title-color: $text;
        padding: 0 1;
    }
    OverlayHistogram > .overlay-histogram--a { color: $primary; }
    OverlayHistogram > .overlay-histogram--b { color: $warning; }
    OverlayHistogram > .overlay-histogram--label { color: $text-muted; }
    """
    COMPONENT_CLASSES = {
        "overlay-histogram--a",
        "overlay-histogram--b",
        "overlay-histogram--label",
    }

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._a: Centroids = ()
        self._b: Centroids = ()
        self._legend = ("", "")
        self._bins: tuple[OverlayBin, ...] = ()
        self._styles = StyleMemo(self)
        self.border_title = "Latency distributions (share of each run)"

    @property
    def bins(self) -> tuple[OverlayBin, ...]:
        """The rows as last drawn."""
        return self._bins

    def show(
        self,
        a: Sequence[tuple[float, float]],
        b: Sequence[tuple[float, float]],
        legend: tuple[str, str],
    ) -> None:
        """Draw run A's and run B's saved digests; ``legend`` names each (with its p95)."""
        self._a, self._b, self._legend = tuple(a), tuple(b), legend
        self._rebin()

    def on_resize(self) -> None:
        self._rebin()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()

    def _rebin(self) -> None:
        self._bins = overlay_bins(self._a, self._b, max(1, self.content_size.height - 1))
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        base = self._styles.base()
        a_style = self._styles.component("overlay-histogram--a")
        b_style = self._styles.component("overlay-histogram--b")
        muted = self._styles.component("overlay-histogram--label")
        if y == 0:
            segments = [
                Segment("▀ ", a_style),
                Segment(self._legend[0] + "  ", base),
                Segment("▄ ", b_style),
                Segment(self._legend[1], base),
            ]
            return Strip(segments).adjust_cell_length(width, base)
        row = y - 1
        if not self._bins:
            text = "no latency distribution saved in either run" if row == 0 else ""
            return Strip([Segment(text[:width], muted)]).adjust_cell_length(width, base)
        if row >= len(self._bins):
            return Strip.blank(width, base)
        peak = max(max(b.share_a, b.share_b) for b in self._bins)
        bar_w = max(1, width - _LABEL_W - 2)
        current = self._bins[row]
        a_cells = bar_cells(current.share_a, peak, bar_w)
        b_cells = bar_cells(current.share_b, peak, bar_w)
        both = Style(color=a_style.color, bgcolor=b_style.color)
        segments = [
            Segment(format_ms(current.low_ms).rjust(_LABEL_W)[:_LABEL_W] + " ", muted),
            Segment("│", muted),
        ]
        common = min(a_cells, b_cells)
        if common:
            segments.append(Segment("▀" * common, base + both))
        if a_cells > common:
            segments.append(Segment("▀" * (a_cells - common), a_style))
        elif b_cells > common:
            segments.append(Segment("▄" * (b_cells - common), b_style))
        return Strip(segments).adjust_cell_length(width, base)
