"""From a loaded collection and a scenario to a ``RunPlan``: variables resolved, bytes prepared.

This is the last place that knows about YAML-level concepts; workers get only the plan.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from engine.collection.datafile import read_data_file
from engine.collection.model import Collection, RequestDef, ScenarioDef, StressDef
from engine.collection.nodes import did_you_mean
from engine.collection.variables import VariableScope, build_scope, read_env_file, references
from engine.durations import parse_think_time
from engine.errors import CollectionError, Problem
from engine.plan.flows import FlowVariables, build_flow_plan, data_rows, needs_flow
from engine.plan.model import FlowPlan, LoadProfile, PreparedRequest, RunPlan, Stage, StressPlan
from engine.plan.prepare import Preparer
from engine.plan.stress import stress_loads, stress_plan, stress_problems, stress_profile
from engine.redact import DEFAULT_REDACT, is_sensitive_header, redact_text
from engine.thresholds import DEFAULT_THRESHOLDS

DEFAULT_USERS = 10
DEFAULT_MAX_RESULTS = 100_000  # raw results each worker keeps in memory (the error inspector)
DEFAULT_DURATION_S = 10.0
SPIKE_EDGE_S = 1.0  # how long the jump to and from the spike takes, at most
# where a variable's value comes from when it is no secret: the collection's own files, or a
# dynamic value ({{$guid}}) drawn for a single send
PUBLIC_ORIGINS = ("collection", "dynamic")


@dataclass(slots=True)
class PlanOverrides:
    """Command-line (or run dialog) values that replace the scenario's; None keeps it."""

    users: int | None = None
    rate: float | None = None
    duration_s: float | None = None
    ramp_up_s: float | None = None
    workers: int | None = None
    http2: bool | None = None
    client: str | None = None
    max_results: int | None = None
    insecure: bool | None = None
    model: str | None = None
    cluster: str | None = None
    default_thresholds: bool = True  # False: --no-default-thresholds
    stress: StressDef | None = None  # --stress: the run becomes a stress run


def default_scenario() -> ScenarioDef:
    """What runs when the collection has no scenario: 10 users for 10 s."""
    return ScenarioDef(name="default", users=DEFAULT_USERS, duration_s=DEFAULT_DURATION_S)


def apply_overrides(s: ScenarioDef, o: PlanOverrides) -> ScenarioDef:
    """The scenario with the overrides applied; ``rate`` implies the open model."""
    s = replace(
        s,
        stages=list(s.stages),
        requests=list(s.requests),
        thresholds=list(s.thresholds),
        setup=list(s.setup),
        stress=replace(s.stress, until=list(s.stress.until)) if s.stress else None,
    )
    if o.stress is not None:
        s.stress = o.stress
        s.thresholds = []  # a stress run's steps are judged by until, not thresholds
    if s.stress is not None:
        s.model = "open" if s.stress.over == "rate" else "closed"
    if o.model is not None:
        s.model = o.model
    if o.rate is not None:
        s.model, s.rate = "open", float(o.rate)
    elif o.users is not None and o.model is None:
        s.model = "closed"
    if o.users is not None:
        s.users = int(o.users)
    if o.duration_s is not None:
        s.duration_s = float(o.duration_s)
        if s.profile in ("stages", "spike"):
            s.profile = "constant"
    if o.ramp_up_s is not None:
        s.ramp_up_s = float(o.ramp_up_s)
    for key in ("workers", "http2", "client", "cluster"):
        value = getattr(o, key)
        if value is not None:
            setattr(s, key, value)
    if o.insecure:
        s.insecure = True
    return s


def _spike_stages(s: ScenarioDef, base: float) -> list[Stage]:
    edge = min(SPIKE_EDGE_S, s.spike_duration_s / 4) if s.spike_duration_s else SPIKE_EDGE_S
    around = max(0.0, s.duration_s - s.spike_duration_s - 2 * edge) / 2
    stages = [
        Stage(around, base, "before spike"),
        Stage(edge, s.spike_to, "spike"),
        Stage(s.spike_duration_s, s.spike_to, "spike"),
        Stage(edge, base, "after spike"),
        Stage(around, base, "after spike"),
    ]
    return [stage for stage in stages if stage.duration_s > 0]


def profile_from_scenario(s: ScenarioDef) -> LoadProfile:
    """The scenario's load shape as stages (targets: users, or req/s in the open model)."""
    if s.stress is not None:
        st = s.stress
        return stress_profile(
            "open" if st.over == "rate" else "closed",
            stress_loads(st.start, st.step, st.max),
            st.step_duration_s,
            think_time_s=parse_think_time(s.think_time),
            max_in_flight=s.max_in_flight,
            graceful_stop_s=s.graceful_stop_s,
        )
    target = float(s.rate if s.model == "open" else s.users)
    start = 0.0
    if s.profile == "stages":
        stages = [Stage(d, t, f"stage {i}") for i, (d, t) in enumerate(s.stages, start=1)]
    elif s.profile == "spike":
        start = target
        stages = _spike_stages(s, target)
    elif s.profile == "ramp" or s.ramp_up_s > 0:
        ramp = s.ramp_up_s if s.ramp_up_s > 0 else s.duration_s
        stages = [Stage(ramp, target, "ramp-up")]
        if s.ramp_up_s > 0 and s.duration_s > 0:
            stages.append(Stage(s.duration_s, target, "hold"))
    else:
        start = target
        stages = [Stage(s.duration_s, target, "constant")]
    return LoadProfile(
        model="open" if s.model == "open" else "closed",
        stages=tuple(stages),
        start_target=start,
        think_time_s=parse_think_time(s.think_time),
        iterations=s.iterations,
        max_in_flight=s.max_in_flight,
        graceful_stop_s=s.graceful_stop_s,
    )


def _pick_scenario(collection: Collection, name: str | None) -> ScenarioDef:
    if name is None:
        return next(iter(collection.scenarios.values()), None) or default_scenario()
    if name in collection.scenarios:
        return collection.scenarios[name]
    names = list(collection.scenarios)
    hint = did_you_mean(name, names) if names else "the collection defines no scenarios"
    raise CollectionError.single(
        collection.collection_file, None, f"no scenario named {name!r}", hint
    )


def _find(collection: Collection, s: ScenarioDef, refs: list[str], key: str) -> list[RequestDef]:
    out = []
    for ref in refs:
        req = collection.find_request(ref)
        if req is None:
            names = [r.name for r in collection.requests]
            raise CollectionError.single(
                collection.collection_file,
                None,
                f"scenario {s.name!r} names request {ref!r} in {key}, which does not exist",
                did_you_mean(ref, names) if names else "add request files to the collection",
            )
        out.append(req)
    return out


def _selected(collection: Collection, s: ScenarioDef) -> tuple[list[RequestDef], list[RequestDef]]:
    """(setup requests, the flow's requests); without ``requests:`` the flow is every
    request that is not in setup."""
    setup = _find(collection, s, s.setup, "setup")
    if not s.requests:
        return setup, [r for r in collection.requests if r not in setup]
    return setup, _find(collection, s, s.requests, "requests")


def _scope(
    collection: Collection,
    requests: list[RequestDef],
    env_file: Path | None,
    environ: Mapping[str, str] | None,
) -> VariableScope:
    env_path: Path | None = None
    env_values: dict[str, str] = {}
    if env_file is not None:
        env_path = Path(env_file)
        env_values = read_env_file(env_path)
    elif collection.env_file:
        env_path = collection.root / collection.env_file
        if env_path.is_file():
            env_values = read_env_file(env_path)
    wanted = references(collection.base_url) | references(collection.headers)
    for req in requests:
        wanted |= references([req.url, req.headers, req.params, req.body, req.checks.body_contains])
    environ = os.environ if environ is None else environ
    return build_scope(collection.variables, env_values, environ, wanted, env_path)


def build_plan(
    collection: Collection,
    scenario: str | None = None,
    overrides: PlanOverrides | None = None,
    *,
    env_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    fixed: Mapping[str, str] | None = None,
) -> RunPlan:
    """The plan for one run of ``scenario``; raises CollectionError listing every problem.

    ``fixed``: values that win over every source and are never per-user (a single send
    uses them for the session's extracted values, a data row and dynamic values)."""
    o = overrides or PlanOverrides()
    s = apply_overrides(_pick_scenario(collection, scenario), o)
    if s.stress is not None:
        st = s.stress
        wrong = stress_problems(st.over, st.start, st.step, st.step_duration_s, st.max, st.until)
        wrong += [
            ("", f"{option} does not apply to a stress run: its steps set the load")
            for option, value in (
                ("--users", o.users),
                ("--rate", o.rate),
                ("--duration", o.duration_s),
                ("--ramp-up", o.ramp_up_s),
            )
            if value is not None
        ]
        if wrong:
            where = f"scenario {s.name!r}: "
            raise CollectionError(
                [Problem(collection.collection_file, None, where + m) for _, m in wrong]
            )
    elif s.model == "open" and s.rate <= 0 and s.profile in ("constant", "ramp"):
        raise CollectionError.single(
            collection.collection_file,
            None,
            f"scenario {s.name!r}: the open model needs a rate",
            "add rate: 100 to the scenario, or pass --rate 100",
        )
    setup, steps = _selected(collection, s)
    if not steps:
        raise CollectionError.single(
            collection.root if not s.setup else collection.collection_file,
            None,
            "the collection has no requests to run"
            + (f" after scenario {s.name!r}'s setup" if s.setup else ""),
            "add a request file, e.g. home.yaml with name: Home and url: /",
        )
    # setup first; a request listed twice is planned once
    defs = list({id(d): d for d in [*setup, *steps]}.values())
    profile = profile_from_scenario(s)
    scope = _scope(collection, defs, env_file, environ)
    for name, value in (fixed or {}).items():
        scope.values[name] = value
        scope.origins[name] = "dynamic" if name.startswith("$") else "session"
    table = (
        read_data_file(collection.root, s.data, collection.collection_file)
        if s.data is not None
        else None
    )
    extracted = {e.name for d in defs for e in d.extract}
    variables = FlowVariables(
        extracted - set(fixed or ()),
        (s.data.as_name, table) if s.data and table else None,
        scope.values,
        fixed=set(fixed or ()),
    )
    preparer = Preparer(collection, s, scope, variables)
    prepared = [p for p in (preparer.prepare(r) for r in defs) if p is not None]
    if preparer.problems:
        raise CollectionError(preparer.problems)
    flow_plan: FlowPlan | None = None
    if needs_flow(s, defs, prepared):
        data = data_rows(collection, s, table, variables, profile) if table else None
        index = {id(d): i for i, d in enumerate(defs)}
        flow_plan, problems = build_flow_plan(
            collection, s, variables, defs, prepared, len(setup),
            [index[id(d)] for d in steps], data,
        )  # fmt: skip
        if problems:
            raise CollectionError(problems)
    sensitive = {n.lower() for p in prepared for n, _ in p.headers if is_sensitive_header(n)}
    secrets = secret_values(scope, prepared, address_variables(collection, defs))
    thresholds = tuple(s.thresholds)
    # a stress run's steps are judged by until: no threshold of its own, nor the default one
    by_default = (
        not thresholds and s.default_thresholds and o.default_thresholds and s.stress is None
    )
    return RunPlan(
        collection_name=collection.name,
        scenario_name=s.name,
        # the target shown in every snapshot and report: secrets (user:password@) left out
        base_url=redact_text(
            preparer.markers.shown(preparer.base_url, variables.names)
            or f"{prepared[0].scheme}://{prepared[0].host}:{prepared[0].port}",
            secrets,
        ),
        requests=tuple(prepared),
        profile=profile,
        flow="weighted" if s.flow == "weighted" else "sequence",
        thresholds=DEFAULT_THRESHOLDS if by_default else thresholds,
        thresholds_default=by_default,
        workers=s.workers,
        http2=s.http2,
        client="httpx" if s.client == "httpx" else "fast",
        max_results=o.max_results or s.max_results or DEFAULT_MAX_RESULTS,
        redact_headers=tuple(dict.fromkeys([*DEFAULT_REDACT, *sorted(sensitive)])),
        redact_values=secrets,
        cluster=s.cluster,
        flow_plan=flow_plan,
        stress=stress_of(s),
    )


def stress_of(s: ScenarioDef) -> StressPlan | None:
    """The stress plan of a ``model: stress`` scenario (None for any other)."""
    if s.stress is None:
        return None
    st = s.stress
    return stress_plan(st.over, st.start, st.step, st.step_duration_s, st.max, st.until)


def _plain_address(name: str, value: str) -> bool:
    """A variable holding only where to send (``baseUrl=http://host:port``): shown as the
    target, not hidden. Credentials inside a URL are still caught by ``redact_text``."""
    if is_sensitive_header(name):
        return False
    parts = urlsplit(value)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and "@" not in parts.netloc
        and not parts.query
    )


def _url_references(url: str) -> tuple[set[str], set[str]]:
    """Variables of ``url`` in its host and port, and in the rest of it (scheme, user and
    password, path, query)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return set(), references(url)
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    userinfo, at, hostport = authority.rpartition("@")
    return references(hostport), references([scheme, userinfo + at, tail])


def address_variables(collection: Collection, defs: list[RequestDef]) -> set[str]:
    """Variables that only say where requests go: used in the host and port of the base_url
    or a request's url, nowhere else (``port=9000`` from the environment is no secret)."""
    in_address, elsewhere = _url_references(collection.base_url)
    elsewhere |= references(collection.headers)
    for req in defs:
        address, rest = _url_references(req.url)
        in_address |= address
        elsewhere |= rest | references(
            [req.headers, req.params, req.body, req.checks.body_contains]
        )
    return {name for name in in_address - elsewhere if not is_sensitive_header(name)}


def secret_values(
    scope: VariableScope, prepared: list[PreparedRequest], address: set[str] | None = None
) -> tuple[str, ...]:
    """Values never to be shown: variables from the env file or the process environment (but
    plain base URLs, and the ``address`` variables: host and port only), and sensitive header
    values (whole, and the ``Bearer x`` credential)."""
    address = address or set()
    values = [
        v
        for k, v in scope.values.items()
        if v
        and scope.origins.get(k) not in PUBLIC_ORIGINS
        and not _plain_address(k, v)
        and k not in address
    ]
    for req in prepared:
        for name, value in req.headers:
            if is_sensitive_header(name) and value:
                values.append(value)
                scheme, _, credential = value.partition(" ")
                if credential.strip() and scheme.isalpha():
                    values.append(credential.strip())
                if name.lower() == "cookie":
                    values += [pair.partition("=")[2].strip() for pair in value.split(";")]
    return tuple(dict.fromkeys(v for v in values if v))


ALL_REQUESTS = "all requests"


def smoke_plans(
    collection: Collection,
    overrides: PlanOverrides | None = None,
    *,
    env_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[RunPlan]:
    """What a smoke check of the whole collection sends: every request no flow covers, in
    the collection's order, then each scenario that is a flow, as one user of it (its setup,
    data row and extracted values are what make its requests sendable: a login's
    ``{{user.name}}`` comes from the scenario's data file)."""
    flows: list[RunPlan] = []
    covered: set[str] = set()
    for name in collection.scenarios:
        plan = build_plan(collection, name, overrides, env_file=env_file, environ=environ)
        if plan.flow_plan is not None:
            flows.append(plan)
            covered |= {r.name for r in plan.requests}
    rest = [r.relpath.as_posix() for r in collection.requests if r.name not in covered]
    if not rest and flows:
        return flows
    scenario = ScenarioDef(name=ALL_REQUESTS, users=1, duration_s=1.0, requests=rest)
    every = replace(collection, scenarios={**collection.scenarios, ALL_REQUESTS: scenario})
    return [build_plan(every, ALL_REQUESTS, overrides, env_file=env_file, environ=environ), *flows]


def plan_for_url(url: str, overrides: PlanOverrides | None = None) -> RunPlan:
    """A plan for a single GET of ``url`` (as ``oha URL``): 10 users for 10 s unless overridden."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise CollectionError.single(
            None, None, f"{url!r} is not an http(s) URL", "e.g. http://127.0.0.1:8089/"
        )
    collection = Collection(root=Path.cwd(), name=url)
    collection.requests.append(RequestDef(relpath=Path("url.yaml"), name=url, url=url))
    return build_plan(collection, None, overrides, environ={})
