"""The parts of an OpenAPI document an importer reads: local ``$ref``s and examples.

``$ref`` resolution is local only (``#/components/...``, JSON pointers with ``~0``/``~1`` and
%-escapes): a spec split over files should be bundled first. A reference that leads nowhere
is a ``CollectionError`` naming the reference and the line it is written on. An example value
is taken from ``example``/``examples``/``default``/``const``/``enum``, else built from the
schema (objects by their properties, arrays of one item, strings by format), with a depth
limit and a guard against schemas that refer to themselves.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from engine.errors import CollectionError

MAX_DEPTH = 8
MAX_REF_CHAIN = 32
BUNDLE_HINT = "bundle the spec into one file first, e.g. npx @redocly/cli bundle spec.yaml"
_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00",
    "email": "user@example.com",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "uri": "https://example.com",
    "url": "https://example.com",
    "hostname": "example.com",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "byte": "AA==",
    "password": "password",
}
_NOTHING = object()


def plain(value: Any) -> Any:
    """``value`` with YAML's dates and other non-JSON scalars turned into text."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class Spec:
    """One loaded document: follows local ``$ref``s, reporting broken ones with their line."""

    def __init__(self, doc: dict[str, Any], path: Path, text: str) -> None:
        self.doc = doc
        self.path = path
        self.text = text

    def _line(self, ref: str) -> int | None:
        for number, line in enumerate(self.text.splitlines(), start=1):
            if "$ref" in line and ref in line:
                return number
        return None

    def _fail(self, ref: str, message: str, hint: str) -> CollectionError:
        return CollectionError.single(self.path, self._line(ref), message, hint)

    def pointer(self, ref: str) -> Any:
        """The node a local reference ``#/a/b`` points at."""
        if not ref.startswith("#"):
            raise self._fail(ref, f"$ref {ref!r} points into another file", BUNDLE_HINT)
        node: Any = self.doc
        for raw in [p for p in ref[1:].split("/") if p]:
            part = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise self._fail(
                    ref,
                    f"broken $ref {ref!r}: there is no {part!r} there",
                    "fix the reference or add what it names under components",
                )
        return node

    def resolve(self, node: Any) -> Any:
        """``node`` with its ``$ref`` (and the chain behind it) followed; keys written beside a
        ``$ref`` (OpenAPI 3.1) are laid over the target."""
        for _ in range(MAX_REF_CHAIN):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                return node
            ref = node["$ref"]
            target = self.pointer(ref)
            extra = {k: v for k, v in node.items() if k != "$ref"}
            node = {**target, **extra} if extra and isinstance(target, dict) else target
        raise self._fail(str(node.get("$ref")), "$ref chain too long (a cycle?)", "")

    # -- examples ------------------------------------------------------------------------
    def example_of(self, holder: dict[str, Any]) -> Any:
        """An example written on a parameter or media type (``example``, first ``examples``
        value), or ``_NOTHING``."""
        if "example" in holder:
            return plain(holder["example"])
        examples = holder.get("examples")
        if isinstance(examples, dict):
            for item in examples.values():
                item = self.resolve(item)
                if isinstance(item, dict) and "value" in item:
                    return plain(item["value"])
        return _NOTHING

    def schema_value(self, schema: Any, *, write: bool = True) -> Any:
        """A value fitting ``schema``, or ``_NOTHING`` when it says nothing at all."""
        return self._build(schema, 0, (), write)

    def given_value(self, schema: Any) -> Any:
        """A value the schema itself gives (example, default, const, enum), or ``_NOTHING``."""
        schema = self.resolve(schema)
        if not isinstance(schema, dict):
            return _NOTHING
        for key in ("example", "default", "const"):
            if key in schema:
                return plain(schema[key])
        for key in ("examples", "enum"):
            if isinstance(schema.get(key), list) and schema[key]:
                return plain(schema[key][0])
        return _NOTHING

    def _build(self, schema: Any, depth: int, refs: tuple[str, ...], write: bool) -> Any:
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            if schema["$ref"] in refs or depth > MAX_DEPTH:
                return _NOTHING  # a schema that contains itself: stop here
            refs = (*refs, schema["$ref"])
        schema = self.resolve(schema)
        if not isinstance(schema, dict) or depth > MAX_DEPTH:
            return _NOTHING
        given = self.given_value(schema)
        if given is not _NOTHING:
            return given
        for key in ("oneOf", "anyOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                return self._build(schema[key][0], depth + 1, refs, write)
        if isinstance(schema.get("allOf"), list):
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                value = self._build(part, depth + 1, refs, write)
                if isinstance(value, dict):
                    merged.update(value)
            return merged
        kind = schema.get("type")
        if isinstance(kind, list):  # 3.1: [string, "null"]
            kind = next((k for k in kind if k != "null"), None)
        if kind is None and "properties" in schema:
            kind = "object"
        if kind == "object":
            out = {}
            for name, prop in (schema.get("properties") or {}).items():
                resolved = self.resolve(prop)
                if isinstance(resolved, dict) and resolved.get(
                    "readOnly" if write else "writeOnly"
                ):
                    continue
                value = self._build(prop, depth + 1, refs, write)
                if value is not _NOTHING:
                    out[str(name)] = value
            return out
        if kind == "array":
            item = self._build(schema.get("items"), depth + 1, refs, write)
            return [] if item is _NOTHING else [item]
        if kind == "string":
            return _FORMATS.get(str(schema.get("format")), "string")
        if kind == "integer":
            return int(schema.get("minimum", 1) or 1)
        if kind == "number":
            return float(schema.get("minimum", 1.0) or 1.0)
        if kind == "boolean":
            return True
        return _NOTHING


def is_nothing(value: Any) -> bool:
    return value is _NOTHING
