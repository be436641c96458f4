"""The run plan: everything a worker needs, resolved once before the run and sent down the pipe.

Data flows one way: collection files -> ``RunPlan`` -> engine process -> ``Snapshot`` -> widgets.
All variables are substituted and header/body bytes prepared before a ``RunPlan`` exists, so
workers never touch YAML or variables; a flow's per-user values are slots in byte templates
(``engine.plan.template``), filled at send time. Every class here is a frozen, picklable
dataclass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from engine.plan.template import RequestTemplate

Model = Literal["closed", "open"]
Flow = Literal["sequence", "weighted"]
ClientKind = Literal["fast", "httpx"]


def status_text(codes: object) -> str:
    """Expected status codes as people say them: ``200``, ``200 or 201``."""
    items = codes if isinstance(codes, tuple | list | frozenset | set) else (codes,)
    return " or ".join(str(code) for code in items)


@dataclass(frozen=True, slots=True)
class Check:
    """One response check. kind: "status" (expected: tuple of ints), "body_contains" (str),
    "json_path" (path like ``$.a.b[0]``; expected value or None meaning "exists")."""

    kind: Literal["status", "body_contains", "json_path"]
    expected: object = None
    path: str = ""

    def describe(self) -> str:
        if self.kind == "status":
            return f"status {status_text(self.expected)}"
        if self.kind == "body_contains":
            return f"body contains {self.expected!r}"
        if self.expected is None:
            return f"{self.path} exists"
        return f"{self.path} == {self.expected!r}"


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """A request with every variable resolved. ``target`` is path + query as sent on the wire."""

    name: str
    method: str
    url: str
    scheme: Literal["http", "https"]
    host: str
    port: int
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    timeout_s: float = 10.0
    weight: float = 1.0
    checks: tuple[Check, ...] = ()
    insecure: bool = False
    # None: the request is the same bytes every time. Otherwise the parts that hold per-user
    # or per-send values (``url``, ``target``, ``headers`` and ``body`` then show them as
    # ``{{name}}``, for display only).
    template: RequestTemplate | None = None


@dataclass(frozen=True, slots=True)
class Extraction:
    """One value taken from a response into variable ``var`` of the user.

    kind "json": ``source`` is a JSON path; "header": ``source`` is the header name
    (lower case) and ``regex`` optional; "body_regex": ``source`` is the regex."""

    var: int
    name: str
    kind: Literal["json", "header", "body_regex"]
    source: str
    regex: str | None = None
    shown: str = ""  # as written: {json: $.token}


@dataclass(frozen=True, slots=True)
class DataRows:
    """A scenario's data file, read at planning: column ``i`` fills variable ``columns[i]``."""

    file: str
    name: str  # the ``as`` name: columns are {{<name>.<column>}}
    mode: Literal["unique", "cycle", "random"]
    columns: tuple[int, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class FlowPlan:
    """What makes a scenario a flow: per-user variables, setup, extractions, data, cookies.

    ``variables`` names every per-user value (id = position; id 0 holds the cookies) and
    ``initial`` its value when a user starts. ``setup`` and ``steps`` index
    ``RunPlan.requests``: setup once per user, then the steps in sequence (or one picked by
    weight per iteration). ``extractions`` is index-aligned with ``RunPlan.requests``."""

    variables: tuple[str, ...]
    initial: tuple[str, ...]
    setup: tuple[int, ...]
    steps: tuple[int, ...]
    extractions: tuple[tuple[Extraction, ...], ...]
    data: DataRows | None = None
    cookies: bool = False


@dataclass(frozen=True, slots=True)
class Stage:
    """Move linearly from the previous stage's target to ``target`` over ``duration_s``.

    Closed model: target is virtual users. Open model: target is requests per second.
    """

    duration_s: float
    target: float
    label: str = ""


@dataclass(frozen=True, slots=True)
class LoadProfile:
    """The load shape, normalised to stages whatever the YAML said (constant, ramp, spike...).

    ``start_target`` is where the first stage ramps from (0 for a ramp-up, equal to the first
    target for a constant load). ``iterations`` (closed model) ends a user after that many
    iterations; the run then ends when all users are done or the stages run out.
    """

    model: Model
    stages: tuple[Stage, ...]
    start_target: float = 0.0
    think_time_s: tuple[float, float] = (0.0, 0.0)
    iterations: int | None = None
    max_in_flight: int = 1000
    graceful_stop_s: float = 5.0

    @property
    def duration_s(self) -> float:
        return sum(s.duration_s for s in self.stages)


@dataclass(frozen=True, slots=True)
class StressPlan:
    """Stress mode: the profile holds each of ``loads`` for ``step_s``; the supervisor judges
    each step on its results after ``warmup_s`` and stops at the first that meets an ``until``
    condition."""

    over: Literal["users", "rate"]
    loads: tuple[float, ...]
    step_s: float
    until: tuple[str, ...]
    warmup_s: float = 1.0


@dataclass(frozen=True, slots=True)
class RunPlan:
    collection_name: str
    scenario_name: str
    base_url: str
    requests: tuple[PreparedRequest, ...]
    profile: LoadProfile
    flow: Flow = "sequence"
    thresholds: tuple[str, ...] = ()
    # the thresholds are the default ones (the scenario set none): reports say "default"
    thresholds_default: bool = False
    # where workers spool every raw result (``engine.run.rundir``); None: no spool
    run_dir: str | None = None
    workers: int = 1
    http2: bool = False
    client: ClientKind = "fast"
    max_results: int = 100_000
    window_s: float = 0.5
    redact_headers: tuple[str, ...] = field(default=())
    # secret values (env file, process environment, sensitive header values): kept out of
    # error messages, logs and reports by ``engine.redact.redact_text``
    redact_values: tuple[str, ...] = field(default=())
    # a Ray address (``engine.plan.cluster_address``): the workers run as actors on that
    # cluster instead of as local processes; None runs them on this machine
    cluster: str | None = None
    # None for a static scenario (every request prepared bytes, sent as they are)
    flow_plan: FlowPlan | None = None
    # stress mode (None for any other scenario)
    stress: StressPlan | None = None
