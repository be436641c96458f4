"""A live preview of the planned load: users (or requests/s) over time, drawn line by line."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from engine.durations import format_duration
from engine.load.shapes import target_at
from engine.plan.model import LoadProfile

_EIGHTHS = " ▁▂▃▄▅▆▇█"


def sample_profile(profile: LoadProfile, columns: int) -> list[float]:
    """The planned target at the middle of each of ``columns`` equal time slices."""
    total = profile.duration_s
    if columns <= 0 or total <= 0:
        return []
    step = total / columns
    return [target_at(profile, (i + 0.5) * step)[0] for i in range(columns)]


def column_glyph(value: float, peak: float, rows: int, row: int) -> str:
    """The character for chart ``row`` (0 at the top) of a column showing ``value``."""
    if peak <= 0:
        return " "
    height = value / peak * rows
    level = rows - row - 1  # how many full cells lie below this row
    fill = height - level
    if fill >= 1:
        return _EIGHTHS[8]
    if fill <= 0:
        return " "
    return _EIGHTHS[max(1, int(fill * 8))]


class LoadPreview(Widget):
    """Title line, chart rows, time axis. Set ``profile`` (and ``unit``) to redraw."""

    COMPONENT_CLASSES = {"load-preview--bar", "load-preview--label"}

    DEFAULT_CSS = """
    LoadPreview {
        height: 8;
        width: 1fr;
    }
    LoadPreview > .load-preview--bar { color: $primary; }
    LoadPreview > .load-preview--label { color: $text-muted; }
    """

    profile: reactive[LoadProfile | None] = reactive(None)
    unit: reactive[str] = reactive("users")
    message: reactive[str] = reactive("")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._samples: list[float] = []
        self._sampled_for: tuple[LoadProfile | None, int] | None = None

    def show(self, profile: LoadProfile | None, unit: str, message: str = "") -> None:
        """Redraw for ``profile``; with None, show ``message`` instead (e.g. why it is invalid)."""
        self.unit = unit
        self.message = message
        self.profile = profile

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 8

    def _samples_for(self, width: int) -> list[float]:
        key = (self.profile, width)
        if self._sampled_for != key:
            self._samples = [] if self.profile is None else sample_profile(self.profile, width)
            self._sampled_for = key
        return self._samples

    @property
    def peak(self) -> float:
        samples = self._samples_for(self.size.width)
        return max(samples, default=0.0)

    def _label_strip(self, text: str, width: int) -> Strip:
        style = self.get_component_rich_style("load-preview--label")
        return Strip([Segment(text[:width].ljust(width), style)], width)

    def render_line(self, y: int) -> Strip:
        width, height = self.size.width, self.size.height
        if width <= 0:
            return Strip.blank(0)
        profile = self.profile
        if profile is None:
            return self._label_strip(self.message if y == 0 else "", width)
        samples = self._samples_for(width)
        peak = max(samples, default=0.0)
        total = profile.duration_s
        if y == 0:
            title = f"{self.unit} over time: peak {peak:g}, total {format_duration(total)}"
            return self._label_strip(title, width)
        rows = max(1, height - 2)
        if y == height - 1:
            end = format_duration(total)
            mid = format_duration(total / 2)
            axis = list("0s".ljust(width))
            start_mid = max(0, width // 2 - len(mid) // 2)
            axis[start_mid : start_mid + len(mid)] = mid
            axis[max(0, width - len(end)) :] = end
            return self._label_strip("".join(axis)[:width], width)
        row = y - 1
        style: Style = self.get_component_rich_style("load-preview--bar")
        line = "".join(column_glyph(v, peak, rows, row) for v in samples)
        return Strip([Segment(line.ljust(width), style)], width)
