"""Base for dashboard panels drawn as a block of text built from one ``Snapshot``.

The text is drawn line by line (``render_line`` -> ``Strip``, cached per line): when one
number changes, only its line is turned into segments again. Textual's own path for a
``render()`` result converts every line of the panel on each refresh.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.text import Text
from textual.content import Content
from textual.selection import Selection
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.visual import Visual, visualize
from textual.widget import Widget

from deli_tui.widgets.line_refresh import refresh_changed_lines
from deli_tui.widgets.style_memo import StyleMemo
from engine.run.protocol import Snapshot


def line_strip(line: Text, y: int, style: VisualStyle, width: int) -> Strip:
    """Line ``y`` of a panel as Textual draws a line of a ``render()`` result: on the widget's
    ``style``, cut to ``width`` with an ellipsis, each segment carrying its offset (text
    selection reads it)."""
    content = Content.from_rich_text(line).expand_tabs(8).truncate(width, ellipsis=True)
    segments = []
    x = 0
    for text, text_style in content.render(style, end=""):
        segments.append(Segment(text, (style + text_style).rich_style_with_offset(x, y)))
        x += len(text)
    return Strip(segments, content.cell_length)


class SnapshotText(Widget):
    """Builds its text from each snapshot and redraws only the lines of it that change."""

    DEFAULT_CSS = """
    SnapshotText {
        height: auto;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        border: round $primary 50%;
        border-title-color: $text;
        padding: 0 1;
    }
    """

    def __init__(self, title: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = title
        self._text = Text()
        self._lines: list[Text] = [Text()]
        self._strips: dict[int, Strip] = {}
        self._strip_width = -1
        self._selected_strips: list[Strip] | None = None
        self._snapshot: Snapshot | None = None
        self._styles = StyleMemo(self)

    @property
    def text(self) -> str:
        """The plain text as last drawn (what a reader of the screen sees)."""
        return self._text.plain

    def show(self, snapshot: Snapshot) -> None:
        """Take a new snapshot; refresh only when the drawn text differs."""
        self._snapshot = snapshot
        self._rebuild()

    def _rebuild(self, force: bool = False) -> None:
        if self._snapshot is None or not self.is_mounted:
            return
        text = self.build(self._snapshot)
        if text == self._text and not force:
            return
        old_lines, new_lines = self._lines, list(text.split("\n"))
        self._text = text
        self._lines = new_lines
        self._selected_strips = None
        refresh_changed_lines(
            self, old_lines, new_lines, self._strips, force=force, sized_by_lines=True
        )

    def on_mount(self) -> None:
        self._rebuild()

    def on_resize(self) -> None:
        self._rebuild()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()
        self._selected_strips = None
        # Component styles (the colours in the text) are updated after the widget itself:
        # build when they are, or a theme change leaves the old colours in the text.
        self.call_next(self._restyle)

    def _restyle(self) -> None:
        self._styles.clear()
        self._strips.clear()
        self._rebuild(force=True)

    def selection_updated(self, selection: Selection | None) -> None:
        self._selected_strips = None
        self._strips.clear()
        super().selection_updated(selection)

    def build(self, snapshot: Snapshot) -> Text:
        """The panel's text for ``snapshot``."""
        raise NotImplementedError

    def render(self) -> Text:
        return self._text

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self.text_selection is not None:
            return self._selected_line(y, width)
        if width != self._strip_width:
            self._strips.clear()
            self._strip_width = width
        strip = self._strips.get(y)
        if strip is None:
            if y < len(self._lines):
                strip = line_strip(self._lines[y], y, self.visual_style, width)
            else:
                strip = Strip.blank(width, self.visual_style.rich_style)
            self._strips[y] = strip
        return strip

    def _selected_line(self, y: int, width: int) -> Strip:
        """While text is selected, Textual's own rendering draws the selection highlight."""
        if self._selected_strips is None:
            visual = visualize(self, self._text)
            self._selected_strips = Visual.to_strips(
                self, visual, width, None, self.visual_style, pad=True
            )
        if y < len(self._selected_strips):
            return self._selected_strips[y]
        return Strip.blank(width, self.visual_style.rich_style)

    def get_content_height(self, container, viewport, width: int) -> int:  # type: ignore[no-untyped-def]
        return max(1, len(self._lines))
