"""The Extract tab's text: one extraction per line, as ``name: source``.

``token: json $.token``, ``session: header Set-Cookie sid=([^;]+)`` (the regex is optional),
``csrf: body_regex name="csrf" value="([^"]+)"``. Converted to and from the request's
``extract:`` entries; every line that cannot be one says why, by line.
"""

from __future__ import annotations

from engine.collection.model import ExtractDef
from engine.collection.requestfile import EXTRACT_NAME, HEADER_NAME, regex_problem
from engine.jsonpath import parse_json_path

EXTRACT_HINT = (
    "One per line: token: json $.token | session: header Set-Cookie sid=([^;]+) | "
    'csrf: body_regex value="([^"]+)"'
)
_KINDS = ("json", "header", "body_regex")
_FORMS = "expected 'name: json $.path', 'name: header Name [regex]' or 'name: body_regex regex'"


def extract_text(extractions: list[ExtractDef]) -> str:
    """The tab's text for ``extractions``."""
    lines = []
    for e in extractions:
        if e.json is not None:
            lines.append(f"{e.name}: json {e.json}")
        elif e.header is not None:
            regex = f" {e.regex}" if e.regex is not None else ""
            lines.append(f"{e.name}: header {e.header}{regex}")
        else:
            lines.append(f"{e.name}: body_regex {e.body_regex}")
    return "\n".join(lines)


def _line(name: str, kind: str, arg: str) -> tuple[ExtractDef | None, str]:
    """One line's extraction, or the reason it is not one."""
    if not EXTRACT_NAME.match(name):
        return None, f"{name!r} is not a variable name (letters, digits and _)"
    if kind not in _KINDS:
        return None, _FORMS
    if not arg:
        return None, f"{kind} needs {'a JSON path' if kind == 'json' else 'a value'}"
    if kind == "json":
        try:
            parse_json_path(arg)
        except ValueError as exc:
            return None, str(exc)
        return ExtractDef(name, json=arg), ""
    if kind == "body_regex":
        problem = regex_problem(arg)
        return (None, problem) if problem else (ExtractDef(name, body_regex=arg), "")
    header, _, regex = arg.partition(" ")
    if not HEADER_NAME.match(header):
        return None, f"{header!r} is not a header name"
    regex = regex.strip()
    if regex and (problem := regex_problem(regex)):
        return None, problem
    return ExtractDef(name, header=header, regex=regex or None), ""


def parse_extract_text(text: str) -> tuple[list[ExtractDef], list[str]]:
    """The extractions in the tab's ``text``, and what is wrong (``line N: ...``)."""
    found: list[ExtractDef] = []
    problems: list[str] = []
    names: set[str] = set()
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, rest = line.partition(":")
        kind, _, arg = rest.strip().partition(" ")
        extraction, why = _line(name.strip(), kind, arg.strip()) if sep else (None, _FORMS)
        if extraction is None:
            problems.append(f"line {n}: {why}")
        elif extraction.name in names:
            problems.append(f"line {n}: {extraction.name} is extracted twice")
        else:
            names.add(extraction.name)
            found.append(extraction)
    return found, problems
