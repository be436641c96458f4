"""Per-worker health: node, state, load share, requests, req/s, CPU, window lag, clock offset.

Shown for runs on a Ray cluster (and on ``w`` for any run): a worker lost mid-run stays
listed with what it measured and why it was lost.
"""

from __future__ import annotations

from rich.text import Text

from deli_tui.widgets.snapshot_text import SnapshotText
from engine.run.protocol import Snapshot, WorkerHealth
from engine.units import format_count, format_ms, format_rate

_NUMBERS = (("load", 7), ("req", 7), ("req/s", 7), ("cpu", 5), ("lag", 7), ("clock", 8))
_STATE_W = 8


def offset_text(ms: float | None) -> str:
    """A worker's clock offset to the supervisor ("-" for a local process)."""
    if ms is None:
        return "-"
    sign = "+" if ms >= 0 else "-"
    return sign + format_ms(abs(ms)) if abs(ms) >= 0.001 else "0"


def load_text(worker: WorkerHealth, open_model: bool) -> str:
    return f"{format_rate(worker.load)}/s" if open_model else format_count(worker.load)


class WorkerTable(SnapshotText):
    """One row per worker; lost workers in the error colour, with the reason below."""

    DEFAULT_CSS = """
    WorkerTable > .worker-table--head { color: $text-muted; }
    WorkerTable > .worker-table--lost { color: $error; text-style: bold; }
    WorkerTable > .worker-table--done { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"worker-table--head", "worker-table--lost", "worker-table--done"}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("Workers", id=id, classes=classes)
        self.border_subtitle = "w: show/hide"
        self.wanted: bool | None = None  # None: shown when the run is on a cluster

    def show(self, snapshot: Snapshot) -> None:
        super().show(snapshot)
        self._place()

    def toggle(self) -> None:
        """Show or hide the panel, whatever the run."""
        self.wanted = not self.display
        self._place()

    def _place(self) -> None:
        workers = self._snapshot.workers if self._snapshot is not None else ()
        wanted = self.wanted
        if wanted is None:
            wanted = any(w.clock_offset_ms is not None or w.state == "lost" for w in workers)
        shown = wanted and bool(workers)
        if self.display != shown:
            self.display = shown

    def build(self, snapshot: Snapshot) -> Text:
        head = self._styles.component("worker-table--head")
        lost_style = self._styles.component("worker-table--lost")
        done_style = self._styles.component("worker-table--done")
        numbers_w = _STATE_W + 1 + sum(w + 1 for _, w in _NUMBERS)
        node_w = max(9, self.content_size.width - 4 - numbers_w)
        open_model = snapshot.model == "open"
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("#".ljust(3) + " " + "node".ljust(node_w) + " " + "state".ljust(_STATE_W), head)
        for label, w in _NUMBERS:
            text.append(" " + label.rjust(w), head)
        for worker in snapshot.workers:
            style = lost_style if worker.state == "lost" else None
            if worker.state == "done":
                style = done_style
            node = worker.node if len(worker.node) <= node_w else worker.node[: node_w - 1] + "…"
            cpu = "-" if worker.cpu_pct is None else f"{worker.cpu_pct:.0f}%"
            text.append("\n")
            text.append(f"{worker.worker_id:<3} {node:<{node_w}} {worker.state:<{_STATE_W}}", style)
            text.append(
                f" {load_text(worker, open_model):>7} {format_count(worker.requests):>7}"
                f" {format_rate(worker.rps):>7} {cpu:>5} {format_ms(worker.lag_ms):>7}"
                f" {offset_text(worker.clock_offset_ms):>8}",
                style,
            )
        for worker in snapshot.lost_workers:
            at = "" if worker.lost_at_s is None else f" at {worker.lost_at_s:.1f}s"
            text.append("\n")
            text.append(f"worker {worker.worker_id} lost{at}: {worker.reason}", lost_style)
        return text
