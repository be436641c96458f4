"""Reading an importer's input file: its text, parsed as JSON (Postman, HAR) or as YAML or
JSON (OpenAPI), with every failure a ``CollectionError`` naming the file and, for a syntax
error, its line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from engine.errors import CollectionError


def read_source(path: Path, what: str, hint: str) -> str:
    """The text of ``path`` (UTF-8, a BOM allowed)."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CollectionError.single(
            path, None, f"cannot read the {what}: {exc.strerror or exc}", "check the path"
        ) from None
    except UnicodeDecodeError as exc:
        raise CollectionError.single(
            path, None, f"the {what} is not UTF-8 text ({exc.reason})", hint
        ) from None


def read_json(path: Path, what: str, hint: str) -> Any:
    """The JSON document in ``path``."""
    return parse_json(read_source(path, what, hint), path, what, hint)


def parse_json(text: str, path: Path, what: str, hint: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CollectionError.single(
            path, exc.lineno, f"the {what} is not JSON: {exc.msg}", hint
        ) from None


def parse_yaml(text: str, path: Path, what: str, hint: str) -> Any:
    """The YAML document in ``text`` (plain data: the safe loader)."""
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "cannot be read"
        raise CollectionError.single(
            path, line, f"the {what} is not YAML: {problem}", hint
        ) from None
    except yaml.YAMLError as exc:
        raise CollectionError.single(path, None, f"the {what} is not YAML: {exc}", hint) from None
