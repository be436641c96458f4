"""Stress mode in the plan: the load of each step, the stages that hold it, the checks of
``until``. A step is a jump to its load (a stage of no duration) and a hold for ``step_s``."""

from __future__ import annotations

from collections.abc import Sequence

from engine.plan.model import LoadProfile, Model, Stage, StressPlan
from engine.thresholds import parse_threshold

WARMUP_S = 1.0  # the first second of a step is left out of its judgement
MIN_JUDGED_S = 1.0  # and at least this much of each step is judged
MAX_STEPS = 1000
OVER = ("users", "rate")
UNTIL_HINT = "e.g. until: [p95 > 200ms, error_rate > 1%]"


def stress_loads(start: float, step: float, maximum: float) -> tuple[float, ...]:
    """``start``, ``start + step``, ... up to ``maximum``, which is always the last step."""
    loads: list[float] = []
    k = 0
    while k < MAX_STEPS:
        load = start + k * step
        if load > maximum + 1e-9:
            break
        loads.append(load)
        k += 1
    if not loads or loads[-1] < maximum - 1e-9:
        loads.append(maximum)
    return tuple(loads)


def stress_problems(
    over: str, start: float, step: float, step_s: float, maximum: float, until: Sequence[str]
) -> list[tuple[str, str]]:
    """(setting, what is wrong with it) for these stress settings; empty when they can run."""
    problems = []
    if over not in OVER:
        problems.append(("over", f"over must be users or rate, not {over!r}"))
    whole = over == "users"
    for name, value in (("start", start), ("step", step), ("max", maximum)):
        if value <= 0:
            problems.append((name, f"{name} must be more than 0"))
        elif whole and not float(value).is_integer():
            problems.append((name, f"{name} must be a whole number of users"))
    if maximum < start:
        problems.append(("max", f"max ({maximum:g}) is below start ({start:g})"))
    elif step > 0 and (maximum - start) / step + 1 > MAX_STEPS:
        problems.append(("step", f"that makes more than {MAX_STEPS} steps; take a larger step"))
    if step_s < WARMUP_S + MIN_JUDGED_S:
        problems.append(
            (
                "step_duration",
                f"step_duration must be at least {WARMUP_S + MIN_JUDGED_S:g}s: the first "
                f"{WARMUP_S:g}s of each step is warm-up, and a step is judged on at least "
                f"{MIN_JUDGED_S:g}s of results (e.g. 10s)",
            )
        )
    if not until:
        problems.append(
            ("until", f"until needs at least one condition that marks a step broken, {UNTIL_HINT}")
        )
    for expr in until:
        problem = until_problem(expr)
        if problem:
            problems.append(("until", problem))
    return problems


def until_problem(expr: str) -> str | None:
    """Why ``expr`` cannot judge a stress step, or None."""
    try:
        t = parse_threshold(expr)
    except ValueError as exc:
        return str(exc).replace("threshold", "until condition", 1)
    if t.request is not None:
        return f"until condition {expr!r}: a step is judged as a whole, not per request"
    if t.metric == "skipped":
        return f"until condition {expr!r}: skipped sends are counted for the whole run only"
    return None


def stress_profile(
    model: Model,
    loads: Sequence[float],
    step_s: float,
    *,
    think_time_s: tuple[float, float] = (0.0, 0.0),
    max_in_flight: int = 1000,
    graceful_stop_s: float = 5.0,
) -> LoadProfile:
    """Each load held for ``step_s``, reached by a jump (a stage of no duration)."""
    unit = "users" if model == "closed" else "/s"
    stages: list[Stage] = []
    for i, load in enumerate(loads, start=1):
        label = f"step {i}/{len(loads)}: {load:g}{'' if unit == '/s' else ' '}{unit}"
        stages += [Stage(0.0, load, label), Stage(step_s, load, label)]
    return LoadProfile(
        model=model,
        stages=tuple(stages),
        start_target=loads[0],
        think_time_s=think_time_s,
        max_in_flight=max_in_flight,
        graceful_stop_s=graceful_stop_s,
    )


def stress_plan(
    over: str, start: float, step: float, step_s: float, maximum: float, until: Sequence[str]
) -> StressPlan:
    return StressPlan(
        over="rate" if over == "rate" else "users",
        loads=stress_loads(start, step, maximum),
        step_s=step_s,
        until=tuple(until),
        warmup_s=WARMUP_S,
    )
