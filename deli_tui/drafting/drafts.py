"""Editor drafts: the raw texts of the request form, and their conversion.

A draft holds exactly what the user typed (it may be invalid); ``*_from_draft`` turns it into
a model object or into a list of ``FieldProblem`` saying which field is wrong and why. Pure
functions, so the rules are tested without a terminal.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Self

import yaml

from deli_tui.drafting.extract_text import extract_text, parse_extract_text
from engine.collection.model import HTTP_METHODS, MISSING, CheckDef, RequestDef
from engine.durations import format_duration
from engine.errors import CollectionError

BODY_KINDS = ("none", "json", "yaml", "text")


def parse_duration(text: str) -> float:
    """Seconds in ``text`` (``500ms``, ``30s``, ``2m``); ValueError with a plain message."""
    from engine.durations import parse_duration as engine_parse_duration

    try:
        return float(engine_parse_duration(text))
    except CollectionError as exc:
        raise ValueError(exc.problems[0].message) from None
    except TypeError as exc:
        raise ValueError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """``field`` is the form field (widget id suffix) at fault; ``message`` says what is wrong."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(slots=True)
class FormDraft:
    """The raw texts of a form; subclasses list the fields. Round-trips through a plain dict
    (recovery copies), ignoring keys a newer or older version no longer has."""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(slots=True)
class RequestDraft(FormDraft):
    name: str | None = None  # None: a recovery copy from before names were editable
    description: str = ""
    method: str = "GET"
    url: str = ""
    headers: str = ""
    params: str = ""
    body_kind: str = "none"
    body: str = ""
    timeout: str = ""
    weight: str = "1"
    checks: str = ""
    insecure: bool = False
    extract: str = ""


def _normal(draft: FormDraft) -> dict[str, Any]:
    return {
        k: "\n".join(line.rstrip() for line in v.strip().splitlines()) if isinstance(v, str) else v
        for k, v in draft.as_dict().items()
    }


def same_request_text(a: RequestDraft, b: RequestDraft) -> bool:
    """True when ``a`` and ``b`` differ at most in whitespace at the ends of lines or texts
    (a request edited only so is not dirty)."""
    return _normal(a) == _normal(b)


def number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _pairs_text(pairs: dict[str, str]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in pairs.items())


def _check_lines(checks: CheckDef) -> list[str]:
    lines: list[str] = []
    if checks.status:
        lines.append("status: " + ", ".join(str(s) for s in checks.status))
    lines.extend(f"body_contains: {text}" for text in checks.body_contains)
    for path, expected in checks.json:
        if expected is MISSING:
            lines.append(f"json: {path}")
        else:
            lines.append(f"json: {path} == {json.dumps(expected)}")
    return lines


def draft_from_request(req: RequestDef) -> RequestDraft:
    """The form texts showing ``req``."""
    body = req.body
    if body is None:
        kind, text = "none", ""
    elif isinstance(body, dict | list):
        kind, text = "yaml", yaml.safe_dump(body, sort_keys=False, allow_unicode=True)
    else:
        kind, text = "text", body
        try:
            if isinstance(json.loads(body), dict | list):
                kind = "json"
        except ValueError:
            pass
    return RequestDraft(
        name=req.name,
        description=req.description,
        method=req.method,
        url=req.url,
        headers=_pairs_text(req.headers),
        params=_pairs_text(req.params),
        body_kind=kind,
        body=text,
        timeout="" if req.timeout_s is None else format_duration(req.timeout_s),
        weight=number_text(req.weight),
        checks="\n".join(_check_lines(req.checks)),
        insecure=req.insecure,
        extract=extract_text(req.extract),
    )


def parse_pairs(text: str, field_name: str, problems: list[FieldProblem]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            problems.append(FieldProblem(field_name, f"line {n}: expected 'name: value'"))
            continue
        pairs[key.strip()] = value.strip()
    return pairs


def _parse_checks(text: str, problems: list[FieldProblem]) -> CheckDef:
    checks = CheckDef()
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        kind, _, rest = line.partition(":")
        kind, rest = kind.strip(), rest.strip()
        if kind == "status":
            try:
                codes = [int(s) for s in rest.replace(",", " ").split()]
            except ValueError:
                codes = []
            if not codes or any(not 100 <= c <= 599 for c in codes):
                problems.append(FieldProblem("checks", f"line {n}: status wants codes 100-599"))
            checks.status.extend(codes)
        elif kind == "body_contains" and rest:
            checks.body_contains.append(rest)
        elif kind == "json" and rest:
            path, eq, expected = rest.partition("==")
            if not path.strip().startswith("$"):
                problems.append(FieldProblem("checks", f"line {n}: a JSON path starts with $"))
                continue
            if not eq:
                checks.json.append((path.strip(), MISSING))
                continue
            try:
                value = yaml.safe_load(expected.strip())
            except yaml.YAMLError:
                value = expected.strip()
            checks.json.append((path.strip(), value))
        else:
            problems.append(
                FieldProblem(
                    "checks",
                    f"line {n}: expected 'status: 200', 'body_contains: text' "
                    "or 'json: $.path == value'",
                )
            )
    return checks


def _parse_body(draft: RequestDraft, problems: list[FieldProblem]) -> Any:
    kind, text = draft.body_kind, draft.body
    if kind == "none" or not text.strip():
        return None
    if kind == "json":
        try:
            json.loads(text)
        except ValueError as exc:
            problems.append(FieldProblem("body", f"not valid JSON: {exc}"))
        return text
    if kind == "yaml":
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}: " if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            problems.append(FieldProblem("body", f"not valid YAML: {where}{problem}"))
            return None
        if not isinstance(value, dict | list):
            problems.append(FieldProblem("body", "a YAML body must be a mapping or a list"))
            return None
        return value
    return text


def request_from_draft(
    draft: RequestDraft, base: RequestDef
) -> tuple[RequestDef | None, list[FieldProblem]]:
    """A new RequestDef from ``base`` with the draft's values, or the problems found."""
    problems: list[FieldProblem] = []
    name = base.name if draft.name is None else draft.name.strip()
    if not name:
        problems.append(FieldProblem("name", "a request needs a name"))
    method = draft.method.strip().upper()
    if method not in HTTP_METHODS:
        problems.append(FieldProblem("method", f"{draft.method!r} is not one of {HTTP_METHODS}"))
    url = draft.url.strip()
    if not url:
        problems.append(FieldProblem("url", "a URL or a path is required"))
    elif any(c.isspace() for c in url):
        problems.append(FieldProblem("url", "a URL cannot contain spaces"))
    headers = parse_pairs(draft.headers, "headers", problems)
    params = parse_pairs(draft.params, "params", problems)
    body = _parse_body(draft, problems)
    timeout_s: float | None = None
    if draft.timeout.strip():
        try:
            timeout_s = parse_duration(draft.timeout.strip())
            if timeout_s <= 0:
                problems.append(FieldProblem("timeout", "must be more than 0s"))
        except ValueError as exc:
            problems.append(FieldProblem("timeout", str(exc)))  # it says how to write one
    weight = 1.0
    try:
        weight = float(draft.weight.strip() or "1")
        if weight <= 0:
            problems.append(FieldProblem("weight", "must be more than 0"))
    except ValueError:
        problems.append(FieldProblem("weight", f"{draft.weight!r} is not a number"))
    checks = _parse_checks(draft.checks, problems)
    extract, extract_problems = parse_extract_text(draft.extract)
    problems += [FieldProblem("extract", message) for message in extract_problems]
    if problems:
        return None, problems
    req = dataclasses.replace(
        base,
        name=name,
        description=draft.description.strip(),
        method=method,
        url=url,
        headers=headers,
        params=params,
        body=body,
        timeout_s=timeout_s,
        weight=weight,
        checks=checks,
        insecure=draft.insecure,
        extract=extract,
    )
    return req, []
