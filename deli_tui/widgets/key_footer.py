"""The footer of every screen: the keys that fit the width, each shown whole.

Textual's footer lays its keys out in one row and lets the last ones run under the command
palette key at the right, cut in the middle (``HTT▏^p palette``). This one measures its keys
once they are laid out and hides those that would not fit whole, last first; F1 (help, which
lists them all) comes first on every screen, so it is never the one hidden.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.keys import format_key
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import (  # the footer's own parts (Textual 8.2, pinned)
    FooterKey,
    FooterLabel,
    KeyGroup,
)


def key_label(binding: Binding) -> str:
    """How a key is written in the footer, the help and the palette: ``F1``, ``^s``, ``esc``."""
    if binding.key_display:
        return binding.key_display
    modifiers, key = binding.parse_key()
    key = key.upper() if key[:1] == "f" and key[1:].isdigit() else format_key(key)
    if "ctrl" in modifiers:
        modifiers.remove("ctrl")
        key = f"^{key}"
    return "+".join([*modifiers, key])


class KeyFooter(Footer):
    """A footer that shows whole keys only: what does not fit is hidden (F1 lists it all)."""

    def __init__(self, *, compact: bool = True) -> None:
        super().__init__(compact=compact)
        self._fitted_width = -1
        self._tries = 0

    async def recompose(self) -> None:
        await super().recompose()
        self._fitted_width = -1
        self.call_after_refresh(self._fit)

    def on_resize(self) -> None:
        if self.size.width != self._fitted_width:
            for child in self.children:
                child.display = True
            self.call_after_refresh(self._fit)

    def _fit(self) -> None:
        """Hide the keys (and key groups with their label) that end past the palette key or
        the edge, and everything after them."""
        if not self.is_attached or not self.children:
            return
        children = list(self.children)
        if any(child.display and not child.region.width for child in children):
            self._tries += 1
            if self._tries < 20:  # not laid out yet: measure after the next refresh
                self.call_after_refresh(self._fit)
            return
        self._tries = 0
        palette = [c for c in children if c.has_class("-command-palette")]
        limit = palette[0].region.x if palette else self.region.right
        units: list[list[Widget]] = []
        for child in children:
            if child in palette:
                continue
            if isinstance(child, FooterLabel) and units and isinstance(units[-1][-1], KeyGroup):
                units[-1].append(child)
            else:
                units.append([child])
        over = False
        for unit in units:
            over = over or self._right_edge(unit[-1]) > limit
            for child in unit:
                child.display = not over
        self._fitted_width = self.size.width

    @staticmethod
    def _right_edge(child: Widget) -> int:
        return child.region.right + child.styles.margin.right

    @property
    def shown_keys(self) -> list[str]:
        """The key labels drawn, left to right (the palette key last)."""
        return [
            key.key_display
            for key in self.query(FooterKey)
            if key.display and (key.parent is self or key.parent.display)  # type: ignore[union-attr]
        ]
