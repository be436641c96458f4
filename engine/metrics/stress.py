"""Stress mode's judge: each step of load judged on its own results, warm-up left out.

The supervisor's aggregator hands over every closed window (all workers summed, in order).
Window ``seq`` covers ``[seq * w, (seq + 1) * w)`` of the run; step ``i`` covers
``[i * step_s, (i + 1) * step_s)``. A window counts for its step when it starts at least
``warmup_s`` into the step and ends inside it, so the results of the previous load still in
flight, and the ramp to the new one, are left out. When the first window of a later step
arrives, the step before is complete and judged: it broke when any ``until`` condition holds
on its results (or none came back), else it held.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.metrics.latency import LatencyTotals
from engine.plan.model import StressPlan
from engine.run.protocol import LatencyStats, StressProgress, StressStep
from engine.thresholds import LATENCY_METRICS, parse_threshold

_EPS = 1e-9


def breaks_on(
    until: Sequence[str], stats: LatencyStats, requests: int, errors: int, rps: float
) -> str | None:
    """The first ``until`` condition that holds on a step's results, or None."""
    for expr in until:
        t = parse_threshold(expr)
        if t.metric in LATENCY_METRICS:
            value = float(getattr(stats, LATENCY_METRICS[t.metric]))
        elif t.metric == "error_rate":
            value = errors / requests if requests else 0.0
        elif t.metric == "rps":
            value = rps
        elif t.metric == "errors":
            value = float(errors)
        else:
            value = float(requests)
        if t.check(value):
            return expr
    return None


class _StepTotals(LatencyTotals):
    """The judged windows of one step, summed, and how long they lasted."""

    __slots__ = ("duration_s",)

    def __init__(self) -> None:
        super().__init__()
        self.duration_s = 0.0


class StressTracker:
    """Collects closed windows into steps and judges each step as it completes."""

    def __init__(self, stress: StressPlan, window_s: float) -> None:
        self.stress = stress
        self.window_s = window_s
        self.judged: list[StressStep] = []
        self.current = 0  # the step whose windows are being collected
        self._totals = _StepTotals()

    @property
    def broke(self) -> bool:
        return any(step.held is False for step in self.judged)

    @property
    def over(self) -> bool:
        """A step broke, or every step was judged: later windows change nothing."""
        return self.broke or len(self.judged) >= len(self.stress.loads)

    def step_of(self, seq: int) -> tuple[int, bool]:
        """(step index, counts for it) of window ``seq``."""
        w, step_s = self.window_s, self.stress.step_s
        start, end = seq * w, (seq + 1) * w
        index = int((start + _EPS) // step_s)
        into = start - index * step_s
        return index, into + _EPS >= self.stress.warmup_s and end <= (index + 1) * step_s + _EPS

    def add(self, seq: int, window: LatencyTotals, duration_s: float) -> None:
        """One closed window of the whole run (all workers), in order of ``seq``."""
        if self.over:
            return
        index, counted = self.step_of(seq)
        while index > self.current and not self.over:
            self._judge()
        if self.over or index != self.current or not counted:
            return
        self._totals.merge(window)
        self._totals.duration_s += max(duration_s, 0.0)

    def finish(self, completed: bool) -> None:
        """The run ended. When its load ran to the end (``completed``), the step in progress
        was the last and is judged; a run stopped early leaves it unjudged."""
        if not self.over and completed:
            self._judge()

    def _step(self, complete: bool) -> StressStep:
        t = self._totals
        stats = t.stats()
        rps = t.requests / t.duration_s if t.duration_s > 0 else 0.0
        broke_on = breaks_on(self.stress.until, stats, t.requests, t.errors, rps)
        held: bool | None = broke_on is None
        if not t.requests:
            broke_on, held = ("no responses" if complete else None), (False if complete else None)
        return StressStep(
            load=self.stress.loads[self.current],
            requests=t.requests,
            rps=rps,
            p50_ms=stats.p50_ms,
            p95_ms=stats.p95_ms,
            p99_ms=stats.p99_ms,
            error_rate=t.errors / t.requests if t.requests else 0.0,
            held=held,
            complete=complete,
            broke_on=broke_on or "",
        )

    def _judge(self) -> None:
        self.judged.append(self._step(complete=True))
        self.current += 1
        self._totals = _StepTotals()

    def progress(self) -> StressProgress:
        """Where the stress run stands: the judged steps and the one in progress."""
        steps = list(self.judged)
        if not self.over and self.current < len(self.stress.loads):
            steps.append(self._step(complete=False))
        held = [s.load for s in self.judged if s.held]
        broken = next((s.load for s in self.judged if s.held is False), None)
        all_held = len(self.judged) == len(self.stress.loads) and broken is None
        return StressProgress(
            over=self.stress.over,
            until=self.stress.until,
            step_s=self.stress.step_s,
            warmup_s=self.stress.warmup_s,
            max_load=self.stress.loads[-1],
            steps=tuple(steps),
            breaking_point=broken,
            max_sustainable=max(held) if held else None,
            concluded=broken is not None or all_held,
        )
