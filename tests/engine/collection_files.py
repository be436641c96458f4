"""Writing small collections to disk for the collection tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.collection.loader import load_collection
from engine.errors import CollectionError, Problem

SAMPLE = Path(__file__).resolve().parents[2] / "sample_collections" / "demo"

BASIC_COLLECTION = """\
name: Shop
base_url: http://127.0.0.1:8089
scenarios:
  smoke:
    users: 2
    duration: 1s
"""
BASIC_REQUEST = "name: Home\nurl: /\n"


def write_collection(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path -> text) under ``root``; collection.yaml gets a default."""
    files = {"collection.yaml": BASIC_COLLECTION, **files}
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def load_problems(root: Path) -> list[Problem]:
    """The problems loading ``root`` reports (the test fails if it loads cleanly)."""
    with pytest.raises(CollectionError) as info:
        load_collection(root)
    return info.value.problems


def problem_at(problems: list[Problem], path: Path, line: int | None) -> Problem:
    """The one problem reported for ``path`` at ``line``."""
    found = [p for p in problems if p.path == path and p.line == line]
    assert found, f"no problem at {path}:{line}; got:\n" + "\n".join(map(str, problems))
    assert len(found) == 1, found
    return found[0]
