"""A panel drawn line by line from a tuple of line values (the charts of the run dashboard).

Each line's Strip is built once and kept until that line changes (``refresh_changed_lines``:
only changed lines reach the terminal), the panel is resized, or its CSS changes.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from textual.strip import Strip
from textual.widget import Widget

from deli_tui.widgets.line_refresh import refresh_changed_lines
from deli_tui.widgets.style_memo import StyleMemo

L = TypeVar("L")


class LinePanel(Widget, Generic[L]):
    """Subclasses compute their lines in ``_recompute`` and hand them to ``set_lines``, and
    draw one line in ``line_strip``."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lines: tuple[L, ...] = ()
        self._strips: dict[int, Strip] = {}
        self._styles = StyleMemo(self)

    @property
    def lines(self) -> tuple[L, ...]:
        """The lines as last drawn."""
        return self._lines

    def _recompute(self, force: bool = False) -> None:
        raise NotImplementedError

    def line_strip(self, line: L) -> Strip:
        """One line drawn (it is then fitted to the panel's width)."""
        raise NotImplementedError

    def set_lines(self, lines: tuple[L, ...], *, force: bool = False, sized: bool = False) -> None:
        """Show ``lines``, redrawing those that changed (all with ``force``); ``sized``: the
        panel's height follows its line count."""
        old, self._lines = self._lines, lines
        refresh_changed_lines(self, old, lines, self._strips, force=force, sized_by_lines=sized)

    def on_resize(self) -> None:
        self._recompute(force=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()

    def render_line(self, y: int) -> Strip:
        strip = self._strips.get(y)
        if strip is None:
            width, base = self.content_size.width, self._styles.base()
            if y < len(self._lines):
                strip = self.line_strip(self._lines[y]).adjust_cell_length(width, base)
            else:
                strip = Strip.blank(width, base)
            self._strips[y] = strip
        return strip
