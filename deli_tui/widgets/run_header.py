"""The dashboard's top lines: what runs against what, progress and stage, load gauges, phases."""

from __future__ import annotations

from rich.text import Text

from deli_tui.widgets.snapshot_text import SnapshotText
from engine.run.protocol import Snapshot
from engine.units import format_bytes, format_count, format_elapsed, format_ms, format_rate


def progress_cells(elapsed_s: float, planned_s: float, width: int) -> tuple[int, int]:
    """(filled, empty) cells of a progress bar ``width`` wide; all empty when unplanned."""
    if width <= 0:
        return 0, 0
    if planned_s <= 0:
        return 0, width
    filled = min(width, int(width * elapsed_s / planned_s))
    return filled, width - filled


class RunHeader(SnapshotText):
    """Scenario and target, a progress bar with elapsed/total and stage, then the gauges."""

    DEFAULT_CSS = """
    RunHeader {
        border: none;
        padding: 0 1;
        background: $boost;
    }
    RunHeader > .run-header--title { color: $primary; text-style: bold; }
    RunHeader > .run-header--bar { color: $primary; }
    RunHeader > .run-header--rest { color: $surface-lighten-2; }
    RunHeader > .run-header--muted { color: $text-muted; }
    RunHeader > .run-header--warn { color: $warning; }
    """
    COMPONENT_CLASSES = {
        "run-header--title",
        "run-header--bar",
        "run-header--rest",
        "run-header--muted",
        "run-header--warn",
    }

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes)

    def build(self, snapshot: Snapshot) -> Text:
        s = snapshot
        muted = self._styles.component("run-header--muted")
        warn = self._styles.component("run-header--warn")
        width = max(20, self.content_size.width)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{s.collection} / {s.scenario}", self._styles.component("run-header--title"))
        text.append(f"  → {s.target}  ", muted)
        text.append(f"[{s.phase}] {s.model} model")
        text.append("\n")
        stage = f"stage {s.stage_index + 1} {s.stage_label}".rstrip()
        planned = format_elapsed(s.planned_s) if s.planned_s > 0 else "?"
        suffix = f" {format_elapsed(s.elapsed_s)} / {planned}  {stage}"
        filled, empty = progress_cells(s.elapsed_s, s.planned_s, width - len(suffix))
        text.append("━" * filled, self._styles.component("run-header--bar"))
        text.append("─" * empty, self._styles.component("run-header--rest"))
        text.append(suffix)
        text.append("\n")
        title = self._styles.component("run-header--title")
        text.append(f"{format_rate(s.rps)} req/s  ", title)
        if s.model == "open":
            text.append(f"rate {format_rate(s.target_rate)}/s  ")
        else:
            text.append(f"users {s.active_users}/{s.target_users:.0f}  ")
        text.append(f"in-flight {s.in_flight}  ")
        text.append(f"skipped {format_count(s.skipped)}  ", warn if s.skipped else None)
        text.append(f"err {s.error_rate:.1%}  ", warn if s.error_count else None)
        text.append(f"{format_count(s.requests)} req  mean {format_rate(s.mean_rps)}/s")
        text.append("\n")
        p = s.phases
        tls = f"{format_ms(p.tls_mean_ms)} p99 {format_ms(p.tls_p99_ms)}" if p.tls_p99_ms else "-"
        text.append("connect ", muted)
        text.append(f"{format_ms(p.connect_mean_ms)} p99 {format_ms(p.connect_p99_ms)}  ")
        text.append("TLS ", muted)
        text.append(f"{tls}  ")
        text.append("TTFB ", muted)
        text.append(f"{format_ms(p.ttfb_mean_ms)} p99 {format_ms(p.ttfb_p99_ms)}  ")
        text.append("conns ", muted)
        text.append(f"{p.new_connections}  ")
        text.append("in ", muted)
        text.append(f"{format_bytes(s.bytes_in)} ")
        text.append("out ", muted)
        text.append(format_bytes(s.bytes_out))
        return text
