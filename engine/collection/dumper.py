"""Collections back to YAML text: stable key order, defaults left out, loads back equal."""

from __future__ import annotations

from typing import Any

import yaml

from engine.collection.model import (
    MISSING,
    Collection,
    DataDef,
    ExtractDef,
    RequestDef,
    ScenarioDef,
    StressDef,
)
from engine.durations import exact_duration_text
from engine.jsonpath import JsonNull


class _Dumper(yaml.SafeDumper):
    """Block style, multi-line text as ``|`` blocks, lists indented under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(JsonNull, lambda d, v: d.represent_none(None))


def _yaml(data: dict[str, Any]) -> str:
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )


def _one_or_list(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else list(values)


def request_data(req: RequestDef) -> dict[str, Any]:
    """The request as a YAML mapping in a stable order, without default values."""
    data: dict[str, Any] = {"name": req.name}
    if req.description:
        data["description"] = req.description
    data["method"] = req.method
    data["url"] = req.url
    if req.headers:
        data["headers"] = dict(req.headers)
    if req.params:
        data["params"] = dict(req.params)
    if req.body is not None:
        data["body"] = req.body
    if req.timeout_s is not None:
        data["timeout"] = exact_duration_text(req.timeout_s)
    if req.weight != 1.0:
        data["weight"] = int(req.weight) if req.weight.is_integer() else req.weight
    checks: dict[str, Any] = {}
    if req.checks.status:
        checks["status"] = _one_or_list(req.checks.status)
    if req.checks.body_contains:
        checks["body_contains"] = _one_or_list(req.checks.body_contains)
    if req.checks.json:
        checks["json"] = [
            {"path": path} if expected is MISSING else {"path": path, "equals": expected}
            for path, expected in req.checks.json
        ]
    if checks:
        data["checks"] = checks
    if req.insecure:
        data["insecure"] = True
    if req.extract:
        data["extract"] = {e.name: extract_data(e) for e in req.extract}
    return data


def extract_data(e: ExtractDef) -> dict[str, str]:
    """One extraction's source as YAML: ``{json: $.token}``..."""
    keys = ("json", "header", "regex", "body_regex")
    return {key: getattr(e, key) for key in keys if getattr(e, key) is not None}


def dump_request(req: RequestDef) -> str:
    """The request file text; loading it gives back an equal ``RequestDef``."""
    return _yaml(request_data(req))


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def stress_data(stress: StressDef) -> dict[str, Any]:
    """The settings of a ``model: stress`` scenario, in the order people write them."""
    return {
        "model": "stress",
        "over": stress.over,
        "start": _number(stress.start),
        "step": _number(stress.step),
        "step_duration": exact_duration_text(stress.step_duration_s),
        "max": _number(stress.max),
        "until": list(stress.until),
    }


def scenario_data(s: ScenarioDef) -> dict[str, Any]:
    """A scenario as YAML in ``collection.yaml`` order, without default values."""
    d = ScenarioDef(name=s.name)
    if s.stress is not None:
        data: dict[str, Any] = stress_data(s.stress)
        _run_settings(s, d, data)
        if s.cluster:
            data["cluster"] = s.cluster
        return data
    data = {"model": s.model}
    if s.profile != d.profile:
        data["profile"] = s.profile
    if s.users != d.users or (s.model == "closed" and s.profile != "stages"):
        data["users"] = s.users
    if s.rate != d.rate or s.model == "open":
        data["rate"] = _number(s.rate)
    pairs: list[tuple[str, Any, Any]] = [
        ("duration", s.duration_s, d.duration_s),
        ("ramp_up", s.ramp_up_s, d.ramp_up_s),
    ]
    for key, value, default in pairs:
        if value != default or (key == "duration" and s.profile != "stages"):
            data[key] = exact_duration_text(value)
    if s.spike_to != d.spike_to:
        data["spike_to"] = _number(s.spike_to)
    if s.spike_duration_s != d.spike_duration_s:
        data["spike_duration"] = exact_duration_text(s.spike_duration_s)
    if s.stages:
        data["stages"] = [
            {"duration": exact_duration_text(duration), "target": _number(target)}
            for duration, target in s.stages
        ]
    elif s.profile == "stages":
        data["stages"] = []
    _run_settings(s, d, data)
    if s.thresholds or not s.default_thresholds:
        data["thresholds"] = list(s.thresholds)
    if s.cluster:
        data["cluster"] = s.cluster
    return data


def _run_settings(s: ScenarioDef, d: ScenarioDef, data: dict[str, Any]) -> None:
    """What any scenario may set besides its load: flow, requests, client, timeouts."""
    for key in ("think_time", "iterations", "max_in_flight", "max_results", "flow"):
        if getattr(s, key) != getattr(d, key):
            data[key] = getattr(s, key)
    if s.setup:
        data["setup"] = list(s.setup)
    if s.requests:
        data["requests"] = list(s.requests)
    if s.data is not None:
        data["data"] = data_file_data(s.data)
    if s.cookies:
        data["cookies"] = True
    for key in ("workers", "http2", "client", "insecure"):
        if getattr(s, key) != getattr(d, key):
            data[key] = getattr(s, key)
    if s.timeout_s is not None:
        data["timeout"] = exact_duration_text(s.timeout_s)
    if s.graceful_stop_s != d.graceful_stop_s:
        data["graceful_stop"] = exact_duration_text(s.graceful_stop_s)


def data_file_data(d: DataDef) -> dict[str, str]:
    """A scenario's ``data:`` mapping, defaults left out."""
    out = {"file": d.file}
    if d.as_name != DataDef(file="").as_name:
        out["as"] = d.as_name
    if d.mode != DataDef(file="").mode:
        out["mode"] = d.mode
    return out


def collection_data(collection: Collection) -> dict[str, Any]:
    """``collection.yaml`` as a YAML mapping in a stable order, without default values."""
    data: dict[str, Any] = {"name": collection.name}
    if collection.base_url:
        data["base_url"] = collection.base_url
    if collection.variables:
        data["variables"] = dict(collection.variables)
    if collection.headers:
        data["headers"] = dict(collection.headers)
    if collection.timeout_s != 10.0:
        data["timeout"] = exact_duration_text(collection.timeout_s)
    if collection.env_file:
        data["env_file"] = collection.env_file
    if collection.scenarios:
        data["scenarios"] = {name: scenario_data(s) for name, s in collection.scenarios.items()}
    return data


def dump_collection_file(collection: Collection) -> str:
    """The ``collection.yaml`` text, scenarios included; loading it gives the same settings."""
    return _yaml(collection_data(collection))
