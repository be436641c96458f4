"""Request bodies as importers find them (JSON text, form pairs) turned into collection bodies.

A JSON object or array becomes a YAML mapping or list (sent as JSON); form pairs become
``a=1&b=2`` text with ``{{name}}`` references left readable, not %-encoded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote_plus

from engine.collection.variables import VARIABLE_REF

FORM_TYPE = "application/x-www-form-urlencoded"


def json_body(text: str) -> str | dict[str, Any] | list[Any]:
    """The parsed JSON when ``text`` is a JSON object or array, else the text itself."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, dict | list) else text


def is_json_type(content_type: str) -> bool:
    """``application/json``, ``application/problem+json``, with or without parameters."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _encode(text: str) -> str:
    """``quote_plus`` of the literal parts; ``{{name}}`` references stay as written."""
    out, last = [], 0
    for m in VARIABLE_REF.finditer(text):
        out += [quote_plus(text[last : m.start()]), m.group(0)]
        last = m.end()
    out.append(quote_plus(text[last:]))
    return "".join(out)


def form_text(pairs: Iterable[tuple[str, str]]) -> str:
    """``application/x-www-form-urlencoded`` text for ``pairs``, references kept readable."""
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs)


def hide_secret_fields(
    value: Any, hide: Callable[[str, str], str], is_secret: Callable[[str], bool]
) -> Any:
    """``value`` (a parsed JSON body) with text under secret-looking keys replaced by
    ``hide(key, text)``, at any depth."""
    if isinstance(value, dict):
        return {
            k: hide(str(k), v)
            if isinstance(v, str) and is_secret(str(k))
            else hide_secret_fields(v, hide, is_secret)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [hide_secret_fields(v, hide, is_secret) for v in value]
    return value
