"""Send only changed lines to the terminal: a panel compares what it drew with what it will draw.

Over SSH the bytes of a frame matter; redrawing a whole panel for one changed number costs
several KiB a frame (benchmarks/tui_render.py measures the bytes per second).
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget


def refresh_changed_lines(
    widget: Widget,
    old: Sequence[object],
    new: Sequence[object],
    strips: dict[int, Strip] | None = None,
    *,
    force: bool = False,
    sized_by_lines: bool = False,
) -> None:
    """Refresh the lines of ``widget`` where ``old`` and ``new`` differ, dropping their cached
    ``strips``; a different line count (or ``force``) refreshes the whole widget, and its
    layout too when the widget is ``sized_by_lines`` (height: auto)."""
    if force or len(old) != len(new):
        if strips is not None:
            strips.clear()
        widget.refresh(layout=sized_by_lines and len(old) != len(new))
        return
    width = widget.content_size.width
    changed = []
    for y, (before, after) in enumerate(zip(old, new, strict=True)):
        if before != after:
            if strips is not None:
                strips.pop(y, None)
            changed.append(Region(0, y, width, 1))
    if changed:
        widget.refresh(*changed)
