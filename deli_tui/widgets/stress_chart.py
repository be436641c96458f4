"""Stress mode's step chart: one row per step of load, its p95 as a bar, held or broke.

The load rises down the rows; the bar is the step's p95 on one scale for all steps, with the
p95 limit of ``until`` (if any) marked, so the step where the bars cross it is the
breaking point. The step in progress shows its verdict so far.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from textual.strip import Strip

from deli_tui.widgets.line_panel import LinePanel
from engine.reports.cells import stress_load
from engine.run.protocol import Snapshot, StressProgress, StressStep
from engine.thresholds import parse_threshold
from engine.units import format_ms

_LOAD_W = 10
MAX_ROWS = 12  # the newest steps shown; the JSON report and the summary keep them all


def p95_limit(progress: StressProgress) -> float | None:
    """The p95 limit (ms) of the run's until conditions, if one is on p95."""
    for expr in progress.until:
        t = parse_threshold(expr)
        if t.metric == "p95" and t.op in (">", ">="):
            return t.limit
    return None


def step_state(step: StressStep) -> str:
    if step.complete:
        return "held" if step.held else f"BROKE: {step.broke_on}"
    if step.held is None:
        return "warming up..."
    return "holding so far" if step.held else f"breaking so far: {step.broke_on}"


@dataclass(frozen=True, slots=True)
class StepLine:
    """One drawn row."""

    load: str
    bar: int  # cells
    limit_at: int  # cell of the p95 limit mark, -1 for none
    tail: str
    kind: str  # held | broke | running


def step_lines(progress: StressProgress, rows: int, width: int) -> tuple[StepLine, ...]:
    """The newest ``rows`` steps as lines ``width`` cells wide."""
    steps = progress.steps[-rows:] if rows > 0 else ()
    if not steps:
        return ()
    limit = p95_limit(progress)
    top = max([s.p95_ms for s in progress.steps] + [limit * 1.25 if limit else 0.0]) or 1.0
    tails = [f" {format_ms(s.p95_ms) if s.requests else '-':>7}  {step_state(s)}" for s in steps]
    bar_w = max(4, width - _LOAD_W - 2 - max(len(t) for t in tails))  # every tail whole
    lines = []
    for step, tail in zip(steps, tails, strict=True):
        kind = "running" if not step.complete else ("held" if step.held else "broke")
        bar = round(step.p95_ms / top * bar_w) if step.requests else 0
        lines.append(
            StepLine(
                load=stress_load(progress, step.load).rjust(_LOAD_W)[:_LOAD_W],
                bar=max(bar, 1 if step.requests else 0),
                limit_at=round(limit / top * bar_w) if limit else -1,
                tail=tail,
                kind=kind,
            )
        )
    return tuple(lines)


class StressChart(LinePanel[StepLine]):
    """Load against p95, step by step (shown only for stress runs)."""

    DEFAULT_CSS = """
    StressChart {
        height: auto;
        border: round $primary 50%;
        border-title-color: $text;
        padding: 0 1;
    }
    StressChart > .stress-chart--held { color: $success; }
    StressChart > .stress-chart--broke { color: $error; }
    StressChart > .stress-chart--running { color: $primary; }
    StressChart > .stress-chart--label { color: $text-muted; }
    StressChart > .stress-chart--limit { color: $warning; }
    """
    COMPONENT_CLASSES = {
        "stress-chart--held",
        "stress-chart--broke",
        "stress-chart--running",
        "stress-chart--label",
        "stress-chart--limit",
    }

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._progress: StressProgress | None = None
        self.border_title = "Stress: p95 per step of load"

    def show(self, snapshot: Snapshot) -> None:
        self._progress = snapshot.stress
        self._recompute()

    def _recompute(self, force: bool = False) -> None:
        progress = self._progress
        if progress is None:
            return
        lines = step_lines(progress, MAX_ROWS, self.content_size.width)
        limit = p95_limit(progress)
        self.border_subtitle = f"until {', '.join(progress.until)}" + (
            "" if limit is None else "  ┊ p95 limit"
        )
        self.set_lines(lines, force=force, sized=True)

    def get_content_height(self, container, viewport, width: int) -> int:  # type: ignore[no-untyped-def]
        return max(1, len(self._lines))

    def line_strip(self, line: StepLine) -> Strip:
        base = self._styles.base()
        label = self._styles.component("stress-chart--label")
        bar_style = self._styles.component(f"stress-chart--{line.kind}")
        limit_style = self._styles.component("stress-chart--limit")
        cells = max(line.bar, line.limit_at + 1)
        segments = [Segment(line.load + " ", label), Segment("│", label)]
        for x in range(cells):
            if x < line.bar:
                segments.append(Segment("█", bar_style))
            elif x == line.limit_at:
                segments.append(Segment("┊", limit_style))
            else:
                segments.append(Segment(" ", base))
        segments.append(Segment(line.tail, bar_style if line.kind == "broke" else base))
        return Strip(segments).simplify()
