"""``collection.yaml`` from YAML text: name, base_url, variables, headers, timeout, scenarios."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from yaml.nodes import Node

from engine.collection.model import DATA_MODES, Collection, DataDef, ScenarioDef
from engine.collection.nodes import NodeReader, compose_text, sort_by_line
from engine.collection.requestfile import string_map, url_problem
from engine.collection.stressfile import STRESS_KEYS, misplaced_stress_keys, read_stress
from engine.durations import parse_think_time
from engine.errors import ProblemList
from engine.plan.cluster_address import ADDRESS_HINT, check_cluster_address
from engine.thresholds import parse_threshold

COLLECTION_KEYS = ("name", "base_url", "variables", "headers", "timeout", "env_file", "scenarios")
SCENARIO_KEYS = (
    "model",
    "profile",
    "users",
    "rate",
    "duration",
    "ramp_up",
    "spike_to",
    "spike_duration",
    "stages",
    "think_time",
    "iterations",
    "max_in_flight",
    "max_results",
    "flow",
    "requests",
    "workers",
    "http2",
    "client",
    "insecure",
    "timeout",
    "graceful_stop",
    "thresholds",
    "cluster",
    "setup",
    "data",
    "cookies",
    *STRESS_KEYS,
)
DATA_KEYS = ("file", "as", "mode")
DATA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
STAGE_KEYS = ("duration", "target")
MODELS = ("closed", "open")
PROFILES = ("constant", "ramp", "spike", "stages")
FLOWS = ("sequence", "weighted")
CLIENTS = ("fast", "httpx")
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


@dataclass(slots=True)
class CollectionFile:
    """The parsed file, plus where each scenario names a request (checked once requests load)."""

    collection: Collection
    request_refs: list[tuple[str, str, int]] = field(default_factory=list)  # scenario, ref, line
    base_url_known: bool = True  # False: the file has problems and no base_url could be read


def _stages(reader: NodeReader, node: Node) -> list[tuple[float, float]]:
    stages: list[tuple[float, float]] = []
    for item in reader.sequence(node, "stages") or []:
        keys = reader.mapping(item, STAGE_KEYS, "a stage")
        if keys is None:
            continue
        if "duration" not in keys or "target" not in keys:
            reader.add(
                item, "a stage needs duration and target", "e.g. - {duration: 30s, target: 50}"
            )
            continue
        duration = reader.duration(keys["duration"], "stage duration")
        target = reader.number(keys["target"], "stage target")
        if duration is not None and target is not None:
            stages.append((duration, float(target)))
    return stages


def _data(reader: NodeReader, node: Node, where: str) -> DataDef | None:
    """``data: users.csv`` or ``data: {file: users.csv, as: user, mode: unique}``."""
    if reader.value(node) is None:
        return None
    line = reader.line(node)
    if isinstance(reader.value(node), str):
        text = reader.text(node, f"{where}: data", allow_empty=False)
        return DataDef(file=text, line=line) if text is not None else None
    keys = reader.mapping(node, DATA_KEYS, f"{where}: data")
    if keys is None:
        return None
    if "file" not in keys:
        reader.add(node, f"{where}: data has no file", "e.g. data: {file: users.csv, as: user}")
        return None
    file = reader.text(keys["file"], f"{where}: data file", allow_empty=False)
    if file is None:
        return None
    data = DataDef(file=file, line=reader.line(keys["file"]))
    if "as" in keys:
        name = reader.text(keys["as"], f"{where}: data as", allow_empty=False)
        if name is not None and not DATA_NAME.match(name):
            hint = "letters, digits and _: as: user gives {{user.<column>}}"
            reader.add(keys["as"], f"{where}: data as {name!r} is not a valid name", hint)
        elif name is not None:
            data.as_name = name
    if "mode" in keys:
        mode = reader.choice(keys["mode"], f"{where}: data mode", DATA_MODES)
        if mode is not None:
            data.mode = mode
    return data


def _scenario(
    reader: NodeReader, name: str, node: Node, refs: list[tuple[str, str, int]]
) -> ScenarioDef:
    s = ScenarioDef(name=name)
    keys = reader.mapping(node, SCENARIO_KEYS, f"scenario {name!r}")
    if keys is None:
        return s
    where = f"scenario {name!r}"
    if "model" in keys:
        model = reader.choice(keys["model"], f"{where}: model", (*MODELS, "stress"))
        if model == "stress":
            s.stress = read_stress(reader, node, keys, where)
            s.model = "open" if s.stress.over == "rate" else "closed"
        elif model is not None:
            s.model = model
    if s.stress is None:
        misplaced_stress_keys(reader, keys, where)
    for key, attr, choices in (
        ("profile", "profile", PROFILES),
        ("flow", "flow", FLOWS),
        ("client", "client", CLIENTS),
    ):
        if key in keys:
            value = reader.choice(keys[key], f"{where}: {key}", choices)
            if value is not None:
                setattr(s, attr, value)
    for key, attr in (
        ("duration", "duration_s"),
        ("ramp_up", "ramp_up_s"),
        ("spike_duration", "spike_duration_s"),
        ("graceful_stop", "graceful_stop_s"),
    ):
        if key in keys:
            seconds = reader.duration(keys[key], f"{where}: {key}")
            if seconds is not None:
                setattr(s, attr, seconds)
    if "timeout" in keys and reader.value(keys["timeout"]) is not None:
        s.timeout_s = reader.duration(keys["timeout"], f"{where}: timeout")
    for key, minimum in (("users", 0), ("max_in_flight", 1), ("workers", 1), ("max_results", 1)):
        if key in keys:
            number = reader.number(keys[key], f"{where}: {key}", minimum=minimum, integer=True)
            if number is not None:
                setattr(s, key, int(number))
    if "iterations" in keys and reader.value(keys["iterations"]) is not None:
        number = reader.number(keys["iterations"], f"{where}: iterations", minimum=1, integer=True)
        s.iterations = int(number) if number is not None else None
    for key in ("rate", "spike_to"):
        if key in keys:
            number = reader.number(keys[key], f"{where}: {key}")
            if number is not None:
                setattr(s, key, float(number))
    for key in ("http2", "insecure", "cookies"):
        if key in keys:
            setattr(s, key, bool(reader.boolean(keys[key], f"{where}: {key}")))
    if "think_time" in keys:
        bounds = reader.checked(
            keys["think_time"], f"{where}: think_time", parse_think_time, "e.g. 100ms..300ms"
        )
        if bounds is not None:
            raw = reader.value(keys["think_time"])
            s.think_time = raw if isinstance(raw, str) else str(raw)
    if "cluster" in keys and reader.value(keys["cluster"]) is not None:
        s.cluster = reader.checked(
            keys["cluster"], f"{where}: cluster", check_cluster_address, ADDRESS_HINT
        )
    if "stages" in keys:
        s.stages = _stages(reader, keys["stages"])
        if "profile" not in keys:
            s.profile = "stages"
    if "requests" in keys:
        for item in reader.sequence(keys["requests"], f"{where}: requests") or []:
            ref = reader.scalar_text(item, f"{where}: requests item")
            if ref is not None:
                s.requests.append(ref)
                refs.append((name, ref, reader.line(item)))
    if "setup" in keys:
        for item in reader.sequence(keys["setup"], f"{where}: setup") or []:
            ref = reader.scalar_text(item, f"{where}: setup item")
            if ref is not None:
                s.setup.append(ref)
                refs.append((name, ref, reader.line(item)))
    if "data" in keys:
        s.data = _data(reader, keys["data"], where)
    if "thresholds" in keys:
        items = reader.sequence(keys["thresholds"], f"{where}: thresholds")
        if items == []:  # "thresholds: []": no thresholds at all, not even the default
            s.default_thresholds = False
        for item in items or []:
            expr = reader.text(item, f"{where}: threshold")
            hint = "e.g. p95 < 300ms, error_rate < 1%, rps > 100"
            threshold = (
                reader.checked(item, where, parse_threshold, hint) if expr is not None else None
            )
            if threshold is not None:
                s.thresholds.append(threshold.expr)
                if threshold.request is not None:
                    refs.append((name, threshold.request, reader.line(item)))
    if s.stress is None:
        _check_profile(reader, node, s, keys)
    return s


def _check_profile(reader: NodeReader, node: Node, s: ScenarioDef, keys: dict[str, Node]) -> None:
    """Problems that only show when the keys are read together."""
    where = f"scenario {s.name!r}"
    if s.profile == "stages" and not s.stages and "stages" not in keys:
        reader.add(
            node,
            f"{where}: profile stages needs a stages list",
            "stages: [{duration: 30s, target: 50}]",
        )
    if s.profile == "spike" and not s.spike_to:
        reader.add(
            node, f"{where}: profile spike needs spike_to", "e.g. spike_to: 100 (users, or req/s)"
        )
    if s.profile == "spike" and not s.spike_duration_s:
        reader.add(node, f"{where}: profile spike needs spike_duration", "e.g. spike_duration: 5s")
    if s.model == "open" and s.profile in ("constant", "ramp") and not s.rate and "rate" in keys:
        reader.add(keys["rate"], f"{where}: the open model needs a rate above 0", "e.g. rate: 100")
    elif s.model == "open" and s.profile in ("constant", "ramp") and "rate" not in keys:
        reader.add(
            node, f"{where}: the open model needs a rate", "e.g. rate: 100 (requests per second)"
        )
    steady = s.profile in ("constant", "ramp")
    if steady and s.model == "closed" and s.users == 0 and "users" in keys:
        reader.add(
            keys["users"], f"{where}: users: 0 would send nothing", "e.g. users: 10 (at least 1)"
        )
    if steady and s.duration_s == 0 and s.ramp_up_s == 0 and "duration" in keys:
        reader.add(
            keys["duration"],
            f"{where}: a duration of 0 runs nothing",
            "e.g. duration: 30s (with iterations, the run ends when they are done)",
        )


def read_collection_file(
    text: str, root: Path, path: Path | None, problems: ProblemList
) -> CollectionFile:
    """The collection settings and scenarios (no requests); problems are added, not raised."""
    start = len(problems.problems)
    result = _read_collection_file(text, root, path, problems)
    sort_by_line(problems, start)
    return result


def _read_collection_file(
    text: str, root: Path, path: Path | None, problems: ProblemList
) -> CollectionFile:
    collection = Collection(root=root, name=root.name or "collection")
    result = CollectionFile(collection)
    reader = NodeReader(path, problems)
    before = len(problems.problems)
    node = compose_text(text, path, problems)
    if node is None:
        if len(problems.problems) == before:  # no syntax error: nothing in the file at all
            problems.add(
                path,
                1,
                "collection.yaml is empty",
                "write at least: name: My API and base_url: http://127.0.0.1:8089",
            )
        return result
    keys = reader.mapping(node, COLLECTION_KEYS, "collection.yaml")
    if keys is None:
        return result
    if "name" in keys:
        name = reader.scalar_text(keys["name"], "name")
        if name is not None and name.strip():
            collection.name = name
        elif name is not None:
            reader.add(keys["name"], "name must not be empty", "e.g. name: My API")
    if "base_url" in keys:
        base = reader.text(keys["base_url"], "base_url")
        if base is not None:
            problem = url_problem(base)
            if base and "://" not in base and not base.startswith("{{"):
                problem = f"base_url {base!r} has no scheme"
            if problem:
                reader.add(keys["base_url"], problem, "e.g. base_url: http://127.0.0.1:8089")
            collection.base_url = base.strip()
    if "variables" in keys:
        for key_node, value_node in reader.items(keys["variables"], "variables") or []:
            var = reader.scalar_text(key_node, "variable name")
            value = reader.scalar_text(value_node, f"variable {var!r}")
            if var is not None and not VARIABLE_NAME.match(var):
                reader.add(
                    key_node, f"variable name {var!r} is not valid", "use letters, digits and _"
                )
            elif var is not None and value is not None:
                collection.variables[var] = value
    if "headers" in keys:
        collection.headers = string_map(reader, keys["headers"], "headers", headers=True)
    if "timeout" in keys:
        timeout = reader.duration(keys["timeout"], "timeout")
        if timeout is not None:
            collection.timeout_s = timeout
    if "env_file" in keys:
        collection.env_file = reader.text(keys["env_file"], "env_file", allow_empty=False)
    if "scenarios" in keys:
        for name_node, scenario_node in reader.items(keys["scenarios"], "scenarios") or []:
            name = reader.scalar_text(name_node, "scenario name")
            if name is None:
                continue
            if name in collection.scenarios:
                reader.add(name_node, f"scenario {name!r} is defined twice", "rename one")
            collection.scenarios[name] = _scenario(reader, name, scenario_node, result.request_refs)
    return result
