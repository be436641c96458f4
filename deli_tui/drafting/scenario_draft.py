"""The scenario form's draft: raw texts, validated field by field into a ``ScenarioDef``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from deli_tui.drafting.drafts import FieldProblem, FormDraft, number_text, parse_duration
from engine.collection.collectionfile import DATA_NAME
from engine.collection.model import DATA_MODES, DataDef, ScenarioDef
from engine.durations import format_duration
from engine.errors import CollectionError
from engine.plan.cluster_address import check_cluster_address

MODELS = ("closed", "open")
PROFILES = ("constant", "ramp", "spike", "stages")


@dataclass(slots=True)
class ScenarioDraft(FormDraft):
    model: str = "closed"
    profile: str = "constant"
    users: str = "10"
    rate: str = "0"
    duration: str = "30s"
    ramp_up: str = "0s"
    spike_to: str = "0"
    spike_duration: str = "0s"
    stages: str = ""
    think_time: str = "0s"
    iterations: str = ""
    workers: str = "1"
    http2: bool = False
    timeout: str = ""
    thresholds: str = ""
    cluster: str = ""
    setup: str = ""  # request names, comma-separated
    data_file: str = ""
    data_as: str = DataDef(file="").as_name
    data_mode: str = DataDef(file="").mode
    cookies: bool = False


def draft_from_scenario(s: ScenarioDef) -> ScenarioDraft:
    return ScenarioDraft(
        model=s.model,
        profile=s.profile,
        users=str(s.users),
        rate=number_text(s.rate),
        duration=format_duration(s.duration_s),
        ramp_up=format_duration(s.ramp_up_s),
        spike_to=number_text(s.spike_to),
        spike_duration=format_duration(s.spike_duration_s),
        stages=", ".join(f"{format_duration(d)}:{number_text(t)}" for d, t in s.stages),
        think_time=s.think_time,
        iterations="" if s.iterations is None else str(s.iterations),
        workers=str(s.workers),
        http2=s.http2,
        timeout="" if s.timeout_s is None else format_duration(s.timeout_s),
        thresholds="\n".join(s.thresholds),
        cluster=s.cluster or "",
        setup=", ".join(s.setup),
        data_file=s.data.file if s.data else "",
        data_as=s.data.as_name if s.data else DataDef(file="").as_name,
        data_mode=s.data.mode if s.data else DataDef(file="").mode,
        cookies=s.cookies,
    )


def _message(exc: Exception) -> str:
    if isinstance(exc, CollectionError):
        return exc.problems[0].message
    return str(exc)


def _duration(text: str, name: str, problems: list[FieldProblem], allow_zero: bool) -> float:
    try:
        value = parse_duration(text.strip())
    except ValueError as exc:
        problems.append(FieldProblem(name, str(exc)))  # it says how to write one
        return 0.0
    if value < 0 or (value == 0 and not allow_zero):
        problems.append(FieldProblem(name, "must be more than 0s"))
    return value


def _number(text: str, name: str, problems: list[FieldProblem], integer: bool) -> float:
    try:
        value = int(text.strip()) if integer else float(text.strip())
    except ValueError:
        kind = "a whole number" if integer else "a number"
        problems.append(FieldProblem(name, f"{text.strip()!r} is not {kind}"))
        return 0
    if value < 0:
        problems.append(FieldProblem(name, "cannot be negative"))
    return value


def parse_stages(text: str, problems: list[FieldProblem]) -> list[tuple[float, float]]:
    """``"10s:10, 30s:50, 10s:0"`` -> [(10.0, 10.0), (30.0, 50.0), (10.0, 0.0)]."""
    stages: list[tuple[float, float]] = []
    for n, part in enumerate((p for p in text.replace("\n", ",").split(",") if p.strip()), 1):
        duration, sep, target = part.strip().partition(":")
        if not sep:
            problems.append(FieldProblem("stages", f"stage {n}: expected 'duration:target'"))
            continue
        before = len(problems)
        d = _duration(duration, "stages", problems, allow_zero=False)
        t = _number(target, "stages", problems, integer=False)
        if len(problems) > before:
            problems[before:] = [
                FieldProblem("stages", f"stage {n}: {p.message}") for p in problems[before:]
            ]
            continue
        stages.append((d, t))
    if not stages and not any(p.field == "stages" for p in problems):
        problems.append(FieldProblem("stages", "give at least one stage, e.g. 10s:10, 30s:50"))
    return stages


def scenario_from_draft(
    draft: ScenarioDraft, base: ScenarioDef
) -> tuple[ScenarioDef | None, list[FieldProblem]]:
    """A new ScenarioDef from ``base`` with the draft's values, or the problems found."""
    from engine.durations import parse_think_time
    from engine.thresholds import parse_threshold

    problems: list[FieldProblem] = []
    if draft.model not in MODELS:
        problems.append(FieldProblem("model", f"must be one of {MODELS}"))
    if draft.profile not in PROFILES:
        problems.append(FieldProblem("profile", f"must be one of {PROFILES}"))
    closed = draft.model == "closed"
    users = int(_number(draft.users, "users", problems, integer=True)) if closed else base.users
    rate = _number(draft.rate, "rate", problems, integer=False) if not closed else base.rate
    if closed and users == 0 and draft.profile in ("constant", "ramp"):
        problems.append(FieldProblem("users", "must be at least 1"))
    if not closed and rate == 0 and draft.profile in ("constant", "ramp"):
        problems.append(FieldProblem("rate", "must be more than 0 requests/s"))
    stages = base.stages
    duration_s, ramp_up_s = base.duration_s, base.ramp_up_s
    spike_to, spike_duration_s = base.spike_to, base.spike_duration_s
    if draft.profile == "stages":
        stages = parse_stages(draft.stages, problems)
    else:
        duration_s = _duration(draft.duration, "duration", problems, allow_zero=False)
        ramp_up_s = _duration(draft.ramp_up, "ramp_up", problems, allow_zero=True)
    if draft.profile == "spike":
        spike_to = _number(draft.spike_to, "spike_to", problems, integer=False)
        spike_duration_s = _duration(
            draft.spike_duration, "spike_duration", problems, allow_zero=False
        )
    think = draft.think_time.strip() or "0s"
    try:
        parse_think_time(think)
    except ValueError as exc:
        problems.append(FieldProblem("think_time", str(exc)))
    iterations = None
    if draft.iterations.strip():
        iterations = int(_number(draft.iterations, "iterations", problems, integer=True))
    workers = int(_number(draft.workers, "workers", problems, integer=True))
    if workers == 0:
        problems.append(FieldProblem("workers", "must be at least 1"))
    timeout_s = None
    if draft.timeout.strip():
        timeout_s = _duration(draft.timeout, "timeout", problems, allow_zero=False)
    thresholds = [t.strip() for t in draft.thresholds.splitlines() if t.strip()]
    for n, expr in enumerate(thresholds, 1):
        try:
            parse_threshold(expr)
        except (ValueError, CollectionError) as exc:
            problems.append(FieldProblem("thresholds", f"line {n}: {_message(exc)}"))
    cluster = None
    if draft.cluster.strip():
        try:
            cluster = check_cluster_address(draft.cluster)
        except ValueError as exc:
            problems.append(FieldProblem("cluster", str(exc)))
    setup = [name.strip() for name in draft.setup.split(",") if name.strip()]
    data = _data(draft, problems)
    if problems:
        return None, problems
    scenario = dataclasses.replace(
        base,
        model=draft.model,
        profile=draft.profile,
        users=users,
        rate=rate,
        duration_s=duration_s,
        ramp_up_s=ramp_up_s,
        spike_to=spike_to,
        spike_duration_s=spike_duration_s,
        stages=list(stages),
        think_time=think,
        iterations=iterations,
        workers=workers,
        http2=draft.http2,
        timeout_s=timeout_s,
        thresholds=thresholds,
        cluster=cluster,
        setup=setup,
        data=data,
        cookies=draft.cookies,
    )
    return scenario, []


def _data(draft: ScenarioDraft, problems: list[FieldProblem]) -> DataDef | None:
    """The data file fields as a ``DataDef`` (None without a file)."""
    if not draft.data_file.strip():
        return None
    name = draft.data_as.strip()
    if not DATA_NAME.match(name):
        problems.append(FieldProblem("data_as", "letters, digits and _, e.g. user"))
    if draft.data_mode not in DATA_MODES:
        problems.append(FieldProblem("data_mode", f"must be one of {', '.join(DATA_MODES)}"))
    return DataDef(draft.data_file.strip(), name, draft.data_mode)
