"""Extractions judged by the worker: values taken from a response into a user's variables.

Compiled once per request (JSON paths parsed, regexes compiled as bytes patterns, so the body
is searched as it came, never decoded whole); per response the body is parsed as JSON at most
once. A value that is not found is a message saying which extraction and what the response
held (a sample), which the load model records as an ``extract`` error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, MutableSequence
from typing import Any

from engine.jsonpath import ABSENT, parse_json_path, walk
from engine.plan.model import Extraction

SAMPLE_CHARS = 160
ResponseHeaders = list[tuple[bytes, bytes]]
# run(body, headers, values): None when every value was found (and stored in ``values``),
# else the message of the first one that was not
Extract = Callable[["bytes | None", "ResponseHeaders | None", MutableSequence[str]], "str | None"]


def sample(data: bytes | None) -> str:
    """The start of ``data`` on one line, for an error message."""
    if not data:
        return "(empty)"
    text = " ".join(data[: SAMPLE_CHARS * 2].decode("utf-8", "replace").split())
    return text if len(text) <= SAMPLE_CHARS else text[: SAMPLE_CHARS - 3] + "..."


def as_text(value: Any) -> str:
    """A JSON value as the text put into later requests: strings as they are, numbers and
    true/false as JSON writes them, objects and lists as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _group(m: re.Match[bytes]) -> str:
    return (m.group(1) if m.re.groups else m.group(0)).decode("utf-8", "replace")


def needs_body(extractions: tuple[Extraction, ...]) -> bool:
    return any(e.kind != "header" for e in extractions)


def needs_headers(extractions: tuple[Extraction, ...]) -> bool:
    return any(e.kind == "header" for e in extractions)


def compile_extractions(extractions: tuple[Extraction, ...]) -> Extract | None:
    """The extractions of one request as one function; None when it has none."""
    if not extractions:
        return None
    steps: list[tuple[Extraction, Any, re.Pattern[bytes] | None]] = []
    for e in extractions:
        if e.kind == "json":
            steps.append((e, parse_json_path(e.source), None))
        elif e.kind == "header":
            regex = re.compile(e.regex.encode()) if e.regex is not None else None
            steps.append((e, e.source.encode("latin-1"), regex))
        else:
            steps.append((e, None, re.compile(e.source.encode())))
    frozen = tuple(steps)

    def run(
        body: bytes | None, headers: ResponseHeaders | None, values: MutableSequence[str]
    ) -> str | None:
        doc: Any = ABSENT
        for e, arg, regex in frozen:
            where = f"extract {e.name} {e.shown}"
            if e.kind == "json":
                if doc is ABSENT:
                    if not body:
                        return f"{where}: the body is empty"
                    try:
                        doc = json.loads(body)
                    except (ValueError, UnicodeDecodeError):
                        return f"{where}: the body is not JSON: {sample(body)}"
                value = walk(doc, arg)
                if value is ABSENT or value is None:
                    found = "is null" if value is None else "not found"
                    return f"{where}: {found} in the body: {sample(body)}"
                values[e.var] = as_text(value)
            elif e.kind == "header":
                matched = [v for n, v in headers or () if n.lower() == arg]
                if not matched:
                    names = ", ".join(
                        sorted({n.decode("latin-1").lower() for n, _ in headers or ()})
                    )
                    return f"{where}: the response has no {e.source} header (it has: {names})"
                if regex is None:
                    values[e.var] = matched[0].decode("utf-8", "replace")
                    continue
                for candidate in matched:
                    m = regex.search(candidate)
                    if m is not None:
                        values[e.var] = _group(m)
                        break
                else:
                    shown = sample(b" | ".join(matched))
                    return f"{where}: no {e.source} value matches: {shown}"
            else:
                assert regex is not None
                m = regex.search(body) if body else None
                if m is None:
                    return f"{where}: no match in the body: {sample(body)}"
                values[e.var] = _group(m)
        return None

    return run
