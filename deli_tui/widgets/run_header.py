"""The dashboard's top lines: what runs against what, progress and stage, load gauges, phases.

Each line is built from whole items, most important first: an item that does not fit the
width is left out, never cut in the middle. Once the run has ended the header says so and
shows run-wide figures instead of the last window's gauges.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from deli_tui.widgets.snapshot_text import SnapshotText
from engine.run.protocol import Snapshot
from engine.units import format_bytes, format_count, format_elapsed, format_ms, format_rate

Item = tuple[str, Style | None]
GAP = "  "


def progress_cells(elapsed_s: float, planned_s: float, width: int) -> tuple[int, int]:
    """(filled, empty) cells of a progress bar ``width`` wide; all empty when unplanned."""
    if width <= 0:
        return 0, 0
    if planned_s <= 0:
        return 0, width
    filled = min(width, int(width * elapsed_s / planned_s))
    return filled, width - filled


def fit_items(items: list[list[Item]], width: int) -> Text:
    """The items (each a few styled pieces) that fit ``width``, in order, two spaces apart;
    the first item that does not fit ends the line."""
    text = Text(no_wrap=True, overflow="ellipsis")
    used = 0
    for item in items:
        size = sum(len(piece) for piece, _ in item)
        gap = len(GAP) if used else 0
        if used + gap + size > width:
            break
        if gap:
            text.append(GAP)
        for piece, style in item:
            text.append(piece, style)
        used += gap + size
    return text


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
    RunHeader > .run-header--flag { color: $warning; text-style: bold; }
    """
    COMPONENT_CLASSES = {
        "run-header--title",
        "run-header--bar",
        "run-header--rest",
        "run-header--muted",
        "run-header--warn",
        "run-header--flag",
    }

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes)
        self.ended = ""  # why the run ended ("completed", "stopped", ...); "" while it runs
        self.flags: tuple[str, ...] = ()  # states to show: "frozen", "users -> 12"

    def set_state(self, *, ended: str | None = None, flags: tuple[str, ...] | None = None) -> None:
        """Say the run ended (and why), or show ``flags`` (frozen, a load change under way)."""
        if ended is not None:
            self.ended = ended
        if flags is not None:
            self.flags = flags
        self._rebuild()

    def build(self, snapshot: Snapshot) -> Text:
        s = snapshot
        width = max(20, self.content_size.width)
        style = self._styles.component
        muted, warn = style("run-header--muted"), style("run-header--warn")
        title = style("run-header--title")
        ended = self.ended or ("finished" if s.phase == "finished" else "")
        state = f"[ended: {ended}]" if ended else f"[{s.phase}]"
        flag: Style | None = style("run-header--flag")
        first: list[list[Item]] = [
            [(f"{s.collection} / {s.scenario}", title)],
            [(f"→ {s.target}", muted)],
            [(state, flag if ended else None)],
        ]
        first += [[(shown.upper(), flag)] for shown in self.flags]
        first.append([(f"{s.model} model", None)])
        text = fit_items(first, width)
        text.append("\n")
        text.append_text(self._progress(s, width, ended))
        text.append("\n")
        text.append_text(fit_items(self._figures(s, ended, title, warn), width))
        text.append("\n")
        text.append_text(fit_items(self._phases(s, muted), width))
        return text

    def _progress(self, s: Snapshot, width: int, ended: str) -> Text:
        planned = format_elapsed(s.planned_s) if s.planned_s > 0 else "?"
        if ended:
            suffix = f" ran {format_elapsed(s.elapsed_s)} of {planned}"
        else:
            stage = f"stage {s.stage_index + 1} {s.stage_label}".rstrip()
            if s.stress is not None:  # the label says the step: "step 3/10: 30 users"
                stage = s.stage_label
            suffix = f" {format_elapsed(s.elapsed_s)} / {planned}  {stage}"
        filled, empty = progress_cells(s.elapsed_s, s.planned_s, width - len(suffix))
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("━" * filled, self._styles.component("run-header--bar"))
        text.append("─" * empty, self._styles.component("run-header--rest"))
        text.append(suffix)
        return text

    def _figures(self, s: Snapshot, ended: str, title: Style, warn: Style) -> list[list[Item]]:
        err: list[Item] = [(f"err {s.error_rate:.1%}", warn if s.error_count else None)]
        skipped: list[Item] = [(f"skipped {format_count(s.skipped)}", warn if s.skipped else None)]
        if ended:
            return [
                [(f"{format_rate(s.mean_rps)} req/s", title), (" over the run", None)],
                [(f"{format_count(s.requests)} requests", None)],
                err,
                skipped,
                [(f"mean {format_ms(s.latency.mean_ms)}", None)],
            ]
        load: list[Item]
        if s.model == "open":
            load = [(f"rate {format_rate(s.target_rate)}/s", None)]
        else:
            load = [(f"users {s.active_users}/{s.target_users:.0f}", None)]
        items: list[list[Item]] = [[(f"{format_rate(s.rps)} req/s", title)], load, err]
        if s.skipped:
            items.append(skipped)
        items += [
            [(f"{format_count(s.requests)} req", None)],
            [(f"mean {format_rate(s.mean_rps)}/s", None)],
            [(f"in-flight {s.in_flight}", None)],
        ]
        if not s.skipped:
            items.append(skipped)
        return items

    def _phases(self, s: Snapshot, muted: Style) -> list[list[Item]]:
        p = s.phases
        tls = f"{format_ms(p.tls_mean_ms)} p99 {format_ms(p.tls_p99_ms)}" if p.tls_p99_ms else "-"
        return [
            [
                ("connect ", muted),
                (f"{format_ms(p.connect_mean_ms)} p99 {format_ms(p.connect_p99_ms)}", None),
            ],
            [
                ("TTFB ", muted),
                (f"{format_ms(p.ttfb_mean_ms)} p99 {format_ms(p.ttfb_p99_ms)}", None),
            ],
            [("TLS ", muted), (tls, None)],
            [("conns ", muted), (str(p.new_connections), None)],
            [
                ("in ", muted),
                (format_bytes(s.bytes_in), None),
                (" out ", muted),
                (format_bytes(s.bytes_out), None),
            ],
        ]
