"""Base for dashboard panels drawn as a block of text built from one ``Snapshot``."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from deli_tui.widgets.line_refresh import refresh_changed_lines
from engine.protocol import Snapshot


class SnapshotText(Widget):
    """Builds its text from each snapshot and refreshes only when that text changes."""

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
        self._snapshot: Snapshot | None = None

    @property
    def text(self) -> str:
        """The plain text as last drawn (what a reader of the screen sees)."""
        return self._text.plain

    def show(self, snapshot: Snapshot) -> None:
        """Take a new snapshot; refresh only when the drawn text differs."""
        self._snapshot = snapshot
        self._rebuild()

    def _rebuild(self) -> None:
        if self._snapshot is None or not self.is_mounted:
            return
        text = self.build(self._snapshot)
        if text == self._text:
            return
        old_lines, new_lines = list(self._text.split("\n")), list(text.split("\n"))
        self._text = text
        refresh_changed_lines(self, old_lines, new_lines, sized_by_lines=True)

    def on_mount(self) -> None:
        self._rebuild()

    def on_resize(self) -> None:
        self._rebuild()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._text = Text()
        self._rebuild()

    def build(self, snapshot: Snapshot) -> Text:
        """The panel's text for ``snapshot``."""
        raise NotImplementedError

    def render(self) -> Text:
        return self._text

    def get_content_height(self, container, viewport, width: int) -> int:  # type: ignore[no-untyped-def]
        return max(1, self._text.plain.count("\n") + 1)
