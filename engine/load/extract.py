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
    kind = value.__class__
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is int:  # an id, most often: str() is ~10x faster than json.dumps
        return str(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


_raw_decode = json.JSONDecoder().raw_decode


def parse_json(body: bytes) -> Any:
    """The JSON document in ``body``, or ``ABSENT``. ``raw_decode`` on the decoded text,
    then a check that only whitespace follows: 1.1 us for a 90-byte document, where
    ``json.loads(body)`` took 2.7 us (it guesses the encoding and matches whitespace
    twice with a regex)."""
    try:
        text = body.decode()
        doc, end = _raw_decode(text)
    except (ValueError, UnicodeDecodeError):
        try:  # leading whitespace, which raw_decode does not skip
            return json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return ABSENT
    if end != len(text) and text[end:].strip():
        return ABSENT
    return doc


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
    steps: list[tuple[Extraction, str, Any, re.Pattern[bytes] | None]] = []
    for e in extractions:
        where = f"extract {e.name} {e.shown}"
        if e.kind == "json":
            steps.append((e, where, parse_json_path(e.source), None))
        elif e.kind == "header":
            regex = re.compile(e.regex.encode()) if e.regex is not None else None
            steps.append((e, where, e.source.encode("latin-1"), regex))
        else:
            steps.append((e, where, None, re.compile(e.source.encode())))
    frozen = tuple(steps)

    def run(
        body: bytes | None, headers: ResponseHeaders | None, values: MutableSequence[str]
    ) -> str | None:
        doc: Any = ABSENT
        for e, where, arg, regex in frozen:
            kind = e.kind
            if kind == "json":
                if doc is ABSENT:
                    if not body:
                        return f"{where}: the body is empty"
                    doc = parse_json(body)
                    if doc is ABSENT:
                        return f"{where}: the body is not JSON: {sample(body)}"
                value = walk(doc, arg)
                if value is ABSENT or value is None:
                    found = "is null" if value is None else "not found"
                    return f"{where}: {found} in the body: {sample(body)}"
                values[e.var] = as_text(value)
            elif kind == "header":
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
