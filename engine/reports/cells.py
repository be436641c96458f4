"""What every report shows the same way: a request's row, a threshold's measured value, the
error classes in order. The summary table and the HTML report both build from these."""

from __future__ import annotations

from collections.abc import Iterable

from engine.plan.model import RunPlan
from engine.results import ERROR_CLASSES
from engine.run.protocol import (
    Finished,
    RequestStats,
    Snapshot,
    StressProgress,
    StressStep,
    ThresholdResult,
)
from engine.thresholds import LATENCY_METRICS, parse_threshold
from engine.units import format_ms, format_percent, format_rate


def unpack_run(
    first: Snapshot | RunPlan, second: bool | Finished, reason: str
) -> tuple[Snapshot, bool, str]:
    """Accept ``(snapshot, passed, reason)`` or ``(plan, finished)``: the same report."""
    if isinstance(first, Snapshot) and isinstance(second, bool):
        return first, second, reason
    if isinstance(second, Finished):
        return second.snapshot, second.passed, reason or second.reason
    raise TypeError("expected (snapshot, passed, reason) or (plan, finished)")


def request_cells(r: RequestStats) -> tuple[str, ...]:
    """One request's row of the per-request tables (summary and HTML): name, requests,
    req/s, errors, p50, p95, p99, max."""
    lat = r.latency
    return (
        r.name,
        str(r.requests),
        format_rate(r.rps),
        str(r.errors),
        format_ms(lat.p50_ms),
        format_ms(lat.p95_ms),
        format_ms(lat.p99_ms),
        format_ms(lat.max_ms),
    )


def threshold_label(t: ThresholdResult) -> str:
    """A threshold as reports name it: its expression, marked when it is the default."""
    return f"{t.expr} (default)" if t.default else t.expr


def threshold_value(t: ThresholdResult) -> str:
    if t.value is None:
        return "no data"
    try:
        metric = parse_threshold(t.expr).metric
    except ValueError:
        return f"{t.value:g}"
    if metric in LATENCY_METRICS:
        return format_ms(t.value)
    if metric == "error_rate":
        return format_percent(t.value, 1.0)
    if metric == "rps":
        return f"{format_rate(t.value)}/s"
    return f"{t.value:.0f}"


def ordered_errors(errors: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    order = {name: i for i, name in enumerate(ERROR_CLASSES)}
    return sorted(errors, key=lambda e: order.get(e[0], len(order)))


STRESS_HEADER = ("load", "req/s", "p50", "p95", "p99", "errors", "step")


def stress_load(stress: StressProgress, load: float) -> str:
    """A step's load as people say it: ``30 users`` or ``200/s``."""
    return f"{load:g}/s" if stress.over == "rate" else f"{load:g} users"


def stress_step_cells(stress: StressProgress, step: StressStep) -> tuple[str, ...]:
    """One row of the table of steps (summary and HTML report)."""
    return (
        stress_load(stress, step.load),
        format_rate(step.rps),
        format_ms(step.p50_ms),
        format_ms(step.p95_ms),
        format_ms(step.p99_ms),
        f"{step.error_rate * 100:.2f}%",
        "held" if step.held else f"BROKE ({step.broke_on})",
    )


def stress_outcome(stress: StressProgress) -> str:
    """``breaking point: 30 users (p95 > 200ms); highest load that held: 20 users``."""
    broken = next((s for s in stress.judged if s.held is False), None)
    if broken is not None:
        text = f"breaking point: {stress_load(stress, broken.load)} ({broken.broke_on})"
    elif stress.concluded:
        text = f"no breaking point up to {stress_load(stress, stress.max_load)}"
    else:
        return "stopped before a step broke or the last one held"
    held = stress.max_sustainable
    return text + (
        f"; highest load that held: {stress_load(stress, held)}"
        if held is not None
        else "; no step held"
    )
