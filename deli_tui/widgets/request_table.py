"""Per-request breakdown: counts, rate, errors and each request's own percentiles, sortable."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text

from deli_tui.widgets.snapshot_text import SnapshotText
from engine.run.protocol import RequestStats, Snapshot
from engine.units import format_count, format_ms, format_rate

SORT_KEYS: dict[str, Callable[[RequestStats], float | str]] = {
    "name": lambda r: r.name,
    "requests": lambda r: r.requests,
    "rps": lambda r: r.rps,
    "errors": lambda r: r.errors,
    "p50": lambda r: r.latency.p50_ms,
    "p95": lambda r: r.latency.p95_ms,
    "p99": lambda r: r.latency.p99_ms,
    "max": lambda r: r.latency.max_ms,
}
_COLUMNS = (
    ("requests", 7),
    ("rps", 7),
    ("errors", 6),
    ("p50", 8),
    ("p95", 8),
    ("p99", 8),
    ("max", 8),
)
_LABELS = {"name": "request", "requests": "req", "errors": "err"}
_ARROW = {"name": "▲"}  # names A-Z; numbers largest first


def sort_requests(stats: tuple[RequestStats, ...], key: str) -> tuple[RequestStats, ...]:
    """Rows ordered by ``key``: names A-Z, numbers largest first."""
    getter = SORT_KEYS[key]
    return tuple(sorted(stats, key=getter, reverse=key != "name"))  # type: ignore[arg-type]


class RequestTable(SnapshotText):
    """One row per request name; ``cycle_sort`` moves the sort to the next column."""

    DEFAULT_CSS = """
    RequestTable > .request-table--head { color: $text-muted; }
    RequestTable > .request-table--sorted { color: $primary; text-style: bold; }
    RequestTable > .request-table--errors { color: $error; }
    """
    COMPONENT_CLASSES = {"request-table--head", "request-table--sorted", "request-table--errors"}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("Requests", id=id, classes=classes)
        self.sort_key = "requests"
        self._show_sort()

    def _show_sort(self) -> None:
        self.border_subtitle = f"sorted by {_LABELS.get(self.sort_key, self.sort_key)} · o: next"

    @property
    def order(self) -> tuple[str, ...]:
        """Request names in the order shown."""
        if self._snapshot is None:
            return ()
        return tuple(r.name for r in sort_requests(self._snapshot.per_request, self.sort_key))

    def cycle_sort(self) -> str:
        """Sort by the next column; returns the new key."""
        keys = list(SORT_KEYS)
        self.sort_key = keys[(keys.index(self.sort_key) + 1) % len(keys)]
        self._show_sort()
        self._rebuild()
        return self.sort_key

    def build(self, snapshot: Snapshot) -> Text:
        head = self._styles.component("request-table--head")
        sorted_style = self._styles.component("request-table--sorted")
        err_style = self._styles.component("request-table--errors")
        numbers_w = sum(w + 1 for _, w in _COLUMNS)
        name_w = max(8, self.content_size.width - numbers_w)
        text = Text(no_wrap=True, overflow="ellipsis")
        name_head = "request" + (_ARROW["name"] if self.sort_key == "name" else "")
        text.append(name_head.ljust(name_w), sorted_style if self.sort_key == "name" else head)
        for key, w in _COLUMNS:
            label = _LABELS.get(key, key) + (_ARROW.get(key, "▼") if key == self.sort_key else "")
            text.append(" " + label.rjust(w), sorted_style if key == self.sort_key else head)
        for row in sort_requests(snapshot.per_request, self.sort_key):
            text.append("\n")
            name = row.name if len(row.name) <= name_w else row.name[: name_w - 1] + "…"
            text.append(name.ljust(name_w))
            text.append(f" {format_count(row.requests):>7} {format_rate(row.rps):>7}")
            text.append(f" {format_count(row.errors):>6}", err_style if row.errors else None)
            latency = row.latency
            for value in (latency.p50_ms, latency.p95_ms, latency.p99_ms, latency.max_ms):
                text.append(f" {format_ms(value):>8}")
        return text
