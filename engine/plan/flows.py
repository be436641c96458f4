"""Planning a flow: which names are per-user values, and the ``FlowPlan`` the workers follow.

A name is per-user when a request of the scenario extracts it, when it is a column of the
scenario's data file (``{{user.name}}``), or when it is a dynamic value (``{{$guid}}``).
Everything else was resolved to text at planning. An extracted name that is also a
collection variable starts with that value; otherwise a request may only use it after a
request that extracts it (setup, or earlier in a sequence), which is checked here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from engine.collection.datafile import DataTable
from engine.collection.model import Collection, ExtractDef, RequestDef, ScenarioDef
from engine.collection.variables import reference_line
from engine.dynamic import DYNAMIC_VALUES
from engine.errors import CollectionError, Problem
from engine.plan.model import DataRows, Extraction, FlowPlan, LoadProfile, PreparedRequest
from engine.plan.template import COOKIES_NAME


class FlowVariables:
    """The per-user names of one plan and their ids (id 0: the cookies)."""

    def __init__(
        self,
        extracted: set[str],
        data: tuple[str, DataTable] | None,
        defaults: dict[str, str],
        fixed: set[str] | None = None,
    ) -> None:
        self.fixed = fixed or set()  # given a value for the whole plan: never per user
        self.extracted = extracted
        self.columns = {f"{data[0]}.{c}": c for c in data[1].columns} if data else {}
        self.defaults = {k: v for k, v in defaults.items() if k in extracted}
        self.names: list[str] = [COOKIES_NAME]
        self.ids: dict[str, int] = {COOKIES_NAME: 0}
        for name in sorted(extracted):
            self.id_of(name)
        for name in self.columns:
            self.id_of(name)

    def is_flow_name(self, name: str) -> bool:
        if name in self.fixed:
            return False
        return name in self.extracted or name in self.columns or name in DYNAMIC_VALUES

    def id_of(self, name: str) -> int:
        var = self.ids.get(name)
        if var is None:
            var = self.ids[name] = len(self.names)
            self.names.append(name)
        return var

    def initial(self) -> tuple[str, ...]:
        return tuple(self.defaults.get(name, "") for name in self.names)


def unknown_dynamic(path: Path | None, name: str) -> Problem:
    known = ", ".join("{{" + n + "}}" for n in DYNAMIC_VALUES)
    return Problem(
        path, reference_line(path, name), f"unknown dynamic value {{{{{name}}}}}", f"use {known}"
    )


def extraction_of(e: ExtractDef, var: int) -> Extraction:
    """``e`` as a worker runs it, its value going to variable ``var``."""
    if e.json is not None:
        return Extraction(var, e.name, "json", e.json, None, e.describe())
    if e.header is not None:
        return Extraction(var, e.name, "header", e.header.lower(), e.regex, e.describe())
    return Extraction(var, e.name, "body_regex", e.body_regex or "", None, e.describe())


def _extractions(req: RequestDef, variables: FlowVariables) -> tuple[Extraction, ...]:
    return tuple(extraction_of(e, variables.id_of(e.name)) for e in req.extract)


def _order_problems(
    collection: Collection,
    s: ScenarioDef,
    variables: FlowVariables,
    defs: Sequence[RequestDef],
    prepared: Sequence[PreparedRequest],
    setup: Sequence[int],
    steps: Sequence[int],
) -> list[Problem]:
    """A request that uses an extracted value no earlier request can have given it."""
    problems: list[Problem] = []
    extracts = [{e.name for e in d.extract} for d in defs]
    known = set(variables.defaults)
    seen: set[tuple[int, str]] = set()

    def check(index: int, before: set[str], where: str) -> None:
        template = prepared[index].template
        if template is None:
            return
        used = {variables.names[v] for v in template.variables()} & variables.extracted
        for name in sorted(used - before - known):
            if (index, name) in seen:
                continue
            seen.add((index, name))
            by = [defs[i].name for i in range(len(defs)) if name in extracts[i]]
            path = collection.request_path(defs[index])
            problems.append(
                Problem(
                    path,
                    reference_line(path, name),
                    f"{{{{{name}}}}} is used by request {defs[index].name!r} {where}, but it is "
                    f"extracted only by {', '.join(repr(b) for b in by)}",
                    "extract it in a setup request (setup: [...]) or an earlier request of a "
                    f"sequence flow, or give it a starting value under variables: "
                    f"in collection.yaml (scenario {s.name!r})",
                ),
            )

    before: set[str] = set()
    for index in setup:
        check(index, before, "in setup before any request gives it")
        before |= extracts[index]
    for index in steps:
        if s.flow == "weighted":
            check(index, before, "in a weighted flow (only setup requests come first)")
        else:
            check(index, before, "before any request gives it")
            before = before | extracts[index]
    return problems


def expected_users(profile: LoadProfile) -> int:
    """Closed model: the most users at once. Open model: arrivals over the whole run (each
    is a user of its own)."""
    if profile.model == "closed":
        return math.ceil(max([profile.start_target, *(st.target for st in profile.stages)]))
    total, previous = 0.0, profile.start_target
    for stage in profile.stages:
        total += (previous + stage.target) / 2 * stage.duration_s
        previous = stage.target
    return math.ceil(total - 1e-9)


def data_rows(
    collection: Collection,
    s: ScenarioDef,
    table: DataTable,
    variables: FlowVariables,
    profile: LoadProfile,
) -> DataRows:
    """The data file's rows for the plan; ``unique`` needs a row for every user."""
    assert s.data is not None
    if s.data.mode == "unique":
        users = expected_users(profile)
        if len(table.rows) < users:
            what = "users at once" if profile.model == "closed" else "arrivals (each one a user)"
            raise CollectionError.single(
                collection.collection_file,
                s.data.line,
                f"scenario {s.name!r}: data file {s.data.file!r} has {len(table.rows)} rows, "
                f"but mode unique needs one per user and the scenario has up to {users} {what}",
                "add rows, lower the load, or use mode: cycle (rows in turn) or random",
            )
    columns = tuple(variables.id_of(f"{s.data.as_name}.{c}") for c in table.columns)
    return DataRows(s.data.file, s.data.as_name, s.data.mode, columns, table.rows)  # type: ignore[arg-type]


def build_flow_plan(
    collection: Collection,
    s: ScenarioDef,
    variables: FlowVariables,
    defs: Sequence[RequestDef],
    prepared: Sequence[PreparedRequest],
    n_setup: int,
    steps: Sequence[int],
    data: DataRows | None,
) -> tuple[FlowPlan, list[Problem]]:
    """The flow part of the plan, and the problems of order found in it."""
    setup = tuple(range(n_setup))
    extractions = tuple(_extractions(d, variables) for d in defs)
    problems = _order_problems(collection, s, variables, defs, prepared, setup, steps)
    plan = FlowPlan(
        variables=tuple(variables.names),
        initial=variables.initial(),
        setup=setup,
        steps=tuple(steps),
        extractions=extractions,
        data=data,
        cookies=s.cookies,
    )
    return plan, problems


def needs_flow(
    s: ScenarioDef, defs: Sequence[RequestDef], prepared: Sequence[PreparedRequest]
) -> bool:
    """Whether the scenario is a flow (else every request is static bytes, as always)."""
    return bool(
        s.setup
        or s.data is not None
        or s.cookies
        or any(d.extract for d in defs)
        or any(p.template is not None for p in prepared)
    )
