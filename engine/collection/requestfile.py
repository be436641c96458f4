"""One request file (``users/get_user.yaml``) from YAML text to a ``RequestDef``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yaml.nodes import Node, SequenceNode

from engine.collection.model import HTTP_METHODS, MISSING, CheckDef, ExtractDef, RequestDef
from engine.collection.nodes import (
    NodeReader,
    compose_text,
    did_you_mean,
    sort_by_line,
    type_name,
)
from engine.errors import ProblemList
from engine.jsonpath import parse_json_path

REQUEST_KEYS = (
    "name",
    "description",
    "method",
    "url",
    "headers",
    "params",
    "body",
    "timeout",
    "weight",
    "checks",
    "insecure",
    "extract",
)
EXTRACT_KEYS = ("json", "header", "regex", "body_regex")
EXTRACT_HINT = (
    "e.g. token: {json: $.token}, session: {header: Set-Cookie, regex: 'sid=([^;]+)'} "
    'or csrf: {body_regex: \'value="([^"]+)"\'}'
)
EXTRACT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CHECK_KEYS = ("status", "body_contains", "json")
JSON_CHECK_KEYS = ("path", "equals")
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
URL_HINT = "write a path relative to base_url (e.g. /users/1) or a full http(s):// URL"


@dataclass(slots=True)
class RequestLines:
    """Where a request's name and url were written, for problems found later (duplicates)."""

    name: int | None = None
    url: int | None = None


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be requested, or None (variables are resolved later, at planning)."""
    if any(ch.isspace() for ch in url.strip()):
        return f"url {url!r} contains spaces"
    if "://" in url and not url.startswith("{{"):
        scheme = url.split("://", 1)[0].lower()
        if scheme not in ("http", "https"):
            return f"url scheme {scheme!r} is not supported; only http and https"
    return None


def string_map(reader: NodeReader, node: Node, what: str, *, headers: bool) -> dict[str, str]:
    """A mapping of text to text (headers, params); numbers and true/false become text."""
    out: dict[str, str] = {}
    example = "Accept: application/json" if headers else "page: 2"
    for key_node, value_node in reader.items(node, what, f"one per line, e.g. {example}") or []:
        key = reader.scalar_text(key_node, f"{what} name")
        value = reader.scalar_text(value_node, f"{what} {key!r}")
        if key is None or value is None:
            continue
        if headers and not HEADER_NAME.match(key):
            reader.add(key_node, f"header name {key!r} is not valid", "use letters, digits and '-'")
            continue
        if headers and ("\n" in value or "\r" in value):
            reader.add(value_node, f"header {key!r} contains a line break", "keep it on one line")
            continue
        out[key] = value
    return out


def _one_or_list(node: Node) -> list[Node]:
    """``status: 200`` and ``status: [200, 201]`` alike."""
    return list(node.value) if isinstance(node, SequenceNode) else [node]


def _status_codes(reader: NodeReader, node: Node) -> list[int]:
    codes: list[int] = []
    for item in _one_or_list(node):
        code = reader.number(item, "checks.status", minimum=100, integer=True)
        if code is None:
            continue
        if code > 599:
            reader.add(item, f"checks.status {code} is not an HTTP status", "use 100..599")
            continue
        codes.append(int(code))
    return codes


def _json_checks(reader: NodeReader, node: Node) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for item in reader.sequence(node, "checks.json") or []:
        keys = reader.mapping(item, JSON_CHECK_KEYS, "a JSON check")
        if keys is None:
            continue
        if "path" not in keys:
            reader.add(item, "JSON check without a path", "write e.g. - {path: $.id, equals: 42}")
            continue
        path = reader.text(keys["path"], "checks.json path", allow_empty=False)
        if path is None:
            continue
        hint = "e.g. $.id, $.items[0].name, $['odd key']"
        if reader.checked(keys["path"], "checks.json path", parse_json_path, hint) is None:
            continue
        expected = reader.value(keys["equals"]) if "equals" in keys else MISSING
        out.append((path, expected))
    return out


def _checks(reader: NodeReader, node: Node) -> CheckDef:
    checks = CheckDef()
    keys = reader.mapping(node, CHECK_KEYS, "checks")
    if keys is None:
        return checks
    if "status" in keys:
        checks.status = _status_codes(reader, keys["status"])
    if "body_contains" in keys:
        for item in _one_or_list(keys["body_contains"]):
            text = reader.text(item, "checks.body_contains", allow_empty=False)
            if text is not None:
                checks.body_contains.append(text)
    if "json" in keys:
        checks.json = _json_checks(reader, keys["json"])
    return checks


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a usable regular expression, or None."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"invalid regex {pattern!r}: {exc}"
    return None


def _extraction(reader: NodeReader, name: str, node: Node) -> ExtractDef | None:
    where = f"extract {name!r}"
    keys = reader.mapping(node, EXTRACT_KEYS, where)
    if keys is None:
        return None
    sources = [k for k in ("json", "header", "body_regex") if k in keys]
    if not keys:
        return None  # its keys were all unknown, and said so
    if len(sources) != 1:
        what = "no source" if not sources else f"{' and '.join(sources)} together"
        reader.add(node, f"{where} has {what}; give one of json, header, body_regex", EXTRACT_HINT)
        return None
    if "regex" in keys and "header" not in keys:
        hint = "regex applies to a header; for the body write body_regex: '...'"
        reader.add(keys["regex"], f"{where}: regex without header", hint)
        return None
    found = ExtractDef(name=name, line=reader.line(node))
    for key in ("json", "header", "regex", "body_regex"):
        if key not in keys:
            continue
        text = reader.text(keys[key], f"{where}: {key}", allow_empty=False)
        if text is None:
            return None
        if key == "json":
            hint = "e.g. $.token, $.items[0].id, $['odd key']"
            if reader.checked(keys[key], f"{where}: json", parse_json_path, hint) is None:
                return None
        elif key == "header" and not HEADER_NAME.match(text):
            reader.add(keys[key], f"{where}: {text!r} is not a header name", "e.g. Set-Cookie")
            return None
        elif key in ("regex", "body_regex") and (problem := regex_problem(text)) is not None:
            reader.add(keys[key], f"{where}: {problem}", "check the brackets and escapes")
            return None
        setattr(found, key, text)
    return found


def _extractions(reader: NodeReader, node: Node) -> list[ExtractDef]:
    out: list[ExtractDef] = []
    for key_node, value_node in reader.items(node, "extract", EXTRACT_HINT) or []:
        name = reader.scalar_text(key_node, "extract name")
        if name is None:
            continue
        if not EXTRACT_NAME.match(name):
            hint = "letters, digits and _, e.g. token or item_id"
            reader.add(key_node, f"extract name {name!r} is not a valid variable name", hint)
            continue
        found = _extraction(reader, name, value_node)
        if found is not None:
            out.append(found)
    return out


def _body(reader: NodeReader, node: Node) -> str | dict[str, Any] | list[Any] | None:
    value = reader.value(node)
    if value is None or isinstance(value, str | dict | list):
        return value
    reader.add(
        node,
        f"body must be text, a mapping or a list (sent as JSON), not {type_name(value)}",
        f"put it in quotes to send it as text: body: '{value}'",
    )
    return None


def read_request(
    text: str, relpath: Path, path: Path | None, problems: ProblemList
) -> tuple[RequestDef | None, RequestLines]:
    """The request in ``text``, or None when it is unusable; problems are added, not raised."""
    start = len(problems.problems)
    result = _read_request(text, relpath, path, problems)
    sort_by_line(problems, start)
    return result


def _read_request(
    text: str, relpath: Path, path: Path | None, problems: ProblemList
) -> tuple[RequestDef | None, RequestLines]:
    lines = RequestLines()
    reader = NodeReader(path, problems)
    before = len(problems.problems)
    root = compose_text(text, path, problems)
    if root is None:
        if len(problems.problems) == before:
            problems.add(path, 1, "the request file is empty", "write at least name: and url:")
        return None, lines
    keys = reader.mapping(root, REQUEST_KEYS, "a request")
    if keys is None:
        return None, lines
    req = RequestDef(relpath=Path(relpath), name=Path(relpath).stem)
    if "name" in keys:
        lines.name = reader.line(keys["name"])
        name = reader.scalar_text(keys["name"], "name")
        if name is not None and not name.strip():
            reader.add(keys["name"], "name must not be empty", "e.g. name: Get user")
        elif name is not None:
            req.name = name
    if "method" in keys:
        method = reader.text(keys["method"], "method")
        if method is not None:
            if method.upper() not in HTTP_METHODS:
                reader.add(
                    keys["method"],
                    f"method {method!r} is not an HTTP method",
                    did_you_mean(method.upper(), HTTP_METHODS),
                )
            else:
                req.method = method.upper()
    if "url" not in keys:
        reader.add(root, "the request has no url", URL_HINT)
    else:
        lines.url = reader.line(keys["url"])
        url = reader.text(keys["url"], "url", allow_empty=False)
        if url is not None:
            problem = url_problem(url)
            if problem:
                reader.add(keys["url"], problem, URL_HINT)
            req.url = url.strip()
    if "headers" in keys:
        req.headers = string_map(reader, keys["headers"], "headers", headers=True)
    if "params" in keys:
        req.params = string_map(reader, keys["params"], "params", headers=False)
    if "body" in keys:
        req.body = _body(reader, keys["body"])
    if "timeout" in keys and reader.value(keys["timeout"]) is not None:
        req.timeout_s = reader.duration(keys["timeout"], "timeout")
    if "weight" in keys:
        weight = reader.number(keys["weight"], "weight")
        if weight is not None:
            req.weight = float(weight)
    if "checks" in keys:
        req.checks = _checks(reader, keys["checks"])
    if "insecure" in keys:
        req.insecure = bool(reader.boolean(keys["insecure"], "insecure"))
    if "description" in keys:
        req.description = reader.text(keys["description"], "description") or ""
    if "extract" in keys:
        req.extract = _extractions(reader, keys["extract"])
    return req, lines
