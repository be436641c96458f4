"""A widget's Rich styles, looked up once and kept until its CSS changes.

``Widget.rich_style`` walks every ancestor on each call, and Textual empties a widget's
component-style cache on every ``refresh``; a panel that redraws 40 lines twice a second
would otherwise recompute the same few styles for each line.
"""

from __future__ import annotations

from rich.style import Style
from textual.widget import Widget


class StyleMemo:
    """The base and component styles of one widget; ``clear()`` from ``notify_style_update``."""

    __slots__ = ("_styles", "_widget")

    def __init__(self, widget: Widget) -> None:
        self._widget = widget
        self._styles: dict[str, Style] = {}

    def base(self) -> Style:
        """The widget's own style (``rich_style``)."""
        style = self._styles.get("")
        if style is None:
            style = self._styles[""] = self._widget.rich_style
        return style

    def component(self, name: str) -> Style:
        """The style of the component class ``name``."""
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self._widget.get_component_rich_style(name)
        return style

    def clear(self) -> None:
        self._styles.clear()
