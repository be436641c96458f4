"""Postman test scripts read for what a collection can say without JavaScript.

The usual one-liners translate: a status assertion becomes a ``status`` check; setting a
variable from the response (``pm.environment.set("token", pm.response.json().token)``, the
``collectionVariables`` / ``globals`` / legacy ``postman.setEnvironmentVariable`` forms, a
``var data = pm.response.json()`` first, a response header) becomes an extraction. Every
statement that does not translate is handed back, so the importer can list it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.collection.model import RequestDef

_NAME = r"[A-Za-z_$][\w$]*"
_STRING = r"""(?:"(?P<{0}>[^"\\]*)"|'(?P<{0}_sq>[^'\\]*)')"""
_TEST_OPEN = re.compile(
    r"""pm\.test\(\s*(?:"[^"]*"|'[^']*'|`[^`]*`)\s*,\s*(?:function\s*\(\s*\)|\(\s*\)\s*=>)\s*\{"""
)
_TEST_CLOSE = re.compile(r"\}\s*\)")
_SET = re.compile(
    r"^(?:pm\.(?:environment|collectionVariables|globals|variables)\.set"
    r"|postman\.set(?:Environment|Global)Variable)\(\s*"
    + _STRING.format("var")
    + r"\s*,\s*(?P<expr>.+)\)$"
)
_JSON_SOURCE = (
    r"(?:pm\.response\.json\(\)|JSON\.parse\(\s*(?:responseBody|pm\.response\.text\(\))\s*\))"
)
_ASSIGN = re.compile(rf"^(?:var|let|const)\s+(?P<name>{_NAME})\s*=\s*{_JSON_SOURCE}$")
_ACCESS = re.compile(r"""\.([A-Za-z_$][\w$]*)|\[\s*(\d+)\s*\]|\[\s*(?:"([^"]*)"|'([^']*)')\s*\]""")
_HEADER = re.compile(
    r"^(?:pm\.response\.headers\.get|postman\.getResponseHeader)\(\s*"
    + _STRING.format("header")
    + r"\s*\)$"
)
_COOKIE = re.compile(r"^pm\.cookies\.get\(\s*" + _STRING.format("cookie") + r"\s*\)$")
_STATUS = re.compile(
    r"^(?:pm\.response\.to\.have\.status\(\s*(?P<a>\d{3})\s*\)"
    r"|pm\.expect\(\s*pm\.response\.(?:code|status)\s*\)\.to\.(?:eql|equal|be\.equal)\(\s*(?P<b>\d{3})\s*\)"
    r"|tests\[[^\]]*\]\s*=\s*responseCode\.code\s*===?\s*(?P<c>\d{3}))$"
)


@dataclass(slots=True)
class ScriptTranslation:
    """What a test script says in collection terms, and the statements that do not translate."""

    extract: dict[str, dict[str, str]] = field(default_factory=dict)
    statuses: list[int] = field(default_factory=list)
    untranslated: list[str] = field(default_factory=list)


def _group(m: re.Match[str], name: str) -> str:
    value = m.group(name)
    return value if value is not None else m.group(f"{name}_sq")


def _json_path(accessors: str) -> str | None:
    """``.items[0]["odd key"]`` as ``$.items[0]['odd key']``; None when it is not only that."""
    path, pos = "$", 0
    for m in _ACCESS.finditer(accessors):
        if m.start() != pos:
            return None
        pos = m.end()
        if m.group(1) is not None:
            path += f".{m.group(1)}"
        elif m.group(2) is not None:
            path += f"[{m.group(2)}]"
        else:
            key = m.group(3) if m.group(3) is not None else m.group(4)
            path += f"['{key}']" if "'" not in key else f'["{key}"]'
    return path if pos == len(accessors) else None


def _extraction(expr: str, json_vars: set[str]) -> dict[str, str] | None:
    expr = expr.strip()
    m = re.match(rf"^(?:{_JSON_SOURCE}|(?P<var>{_NAME}))(?P<rest>.*)$", expr)
    if m is not None and (m.group("var") is None or m.group("var") in json_vars):
        path = _json_path(m.group("rest").strip())
        if path is not None:
            return {"json": path}
    header = _HEADER.match(expr)
    if header is not None:
        return {"header": _group(header, "header")}
    cookie = _COOKIE.match(expr)
    if cookie is not None:
        name = re.escape(_group(cookie, "cookie"))
        return {"header": "Set-Cookie", "regex": f"{name}=([^;]+)"}
    return None


def _statements(lines: list[str]) -> list[str]:
    """The script's statements, with ``pm.test(..., function () {`` wrappers taken off."""
    text = "\n".join(re.sub(r"^\s*//.*$", "", line) for line in lines)
    text = _TEST_CLOSE.sub(";", _TEST_OPEN.sub(";", text))
    parts = re.split(r"[;\n]", text)
    return [p.strip() for p in parts if p.strip() and p.strip() not in ("{", "}")]


def translate_test_script(lines: list[str]) -> ScriptTranslation:
    """Read a Postman test script (its ``exec`` lines)."""
    out = ScriptTranslation()
    json_vars: set[str] = set()
    for statement in _statements(lines):
        assign = _ASSIGN.match(statement)
        if assign is not None:
            json_vars.add(assign.group("name"))
            continue
        status = _STATUS.match(statement)
        if status is not None:
            code = int(status.group("a") or status.group("b") or status.group("c"))
            if code not in out.statuses:
                out.statuses.append(code)
            continue
        setter = _SET.match(statement)
        how = _extraction(setter.group("expr"), json_vars) if setter is not None else None
        if setter is not None and how is not None:
            out.extract[_group(setter, "var")] = how
            continue
        out.untranslated.append(statement)
    return out


def _lines(event: dict[str, Any]) -> list[str]:
    script = event.get("script") or {}
    exec_ = script.get("exec") if isinstance(script, dict) else None
    if isinstance(exec_, str):
        return exec_.splitlines()
    return [str(line) for line in exec_ or []]


def _shown(statements: list[str], limit: int = 5) -> str:
    shown = [s if len(s) <= 80 else s[:77] + "..." for s in statements[:limit]]
    more = f" (and {len(statements) - limit} more)" if len(statements) > limit else ""
    return " | ".join(shown) + more


def translate_events(
    events: Any, req: RequestDef, where: str, warn: Callable[[str], None]
) -> dict[str, dict[str, str]]:
    """Apply a request's scripts to ``req`` (status checks); returns the extractions found.

    Pre-request scripts and test statements that do not translate are passed to ``warn``.
    """
    extract: dict[str, dict[str, str]] = {}
    for event in events or []:
        if not isinstance(event, dict):
            continue
        lines = [line for line in _lines(event) if line.strip()]
        if not lines:
            continue
        if event.get("listen") != "test":
            warn(f"{where}: {event.get('listen', 'a')} script not translated: {_shown(lines)}")
            continue
        found = translate_test_script(lines)
        for code in found.statuses:
            if code not in req.checks.status:
                req.checks.status.append(code)
        extract.update(found.extract)
        if found.untranslated:
            warn(f"{where}: test script not translated: {_shown(found.untranslated)}")
    return extract
