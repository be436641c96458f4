"""A new collection on disk: ``collection.yaml`` with a smoke scenario and one request to start.

``deli-tui new DIR`` and the app's "New collection" both write it; what is written loads.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from engine.collection.loader import COLLECTION_FILE, load_collection
from engine.collection.model import Collection
from engine.collection.requestfile import url_problem
from engine.collection.saver import atomic_write
from engine.errors import CollectionError

DEFAULT_BASE_URL = "http://127.0.0.1:8089"

COLLECTION_TEMPLATE = """\
# A deli-tui collection: settings and load scenarios. Each request is a file of its own.
name: {name}
base_url: {base_url}
timeout: 10s
scenarios:
  smoke:
    model: closed
    users: 5
    duration: 20s
    thresholds:
      - p95 < 500ms
      - error_rate < 1%
"""
REQUEST_TEMPLATE = """\
name: Home
method: GET
url: /
checks:
  status: 200
"""


def _scalar(text: str) -> str:
    """``text`` as a YAML scalar: plain when it reads back as itself, else quoted."""
    try:
        if yaml.safe_load(f"k: {text}") == {"k": text}:
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def create_collection(
    root: Path | str, name: str | None = None, base_url: str = DEFAULT_BASE_URL
) -> Collection:
    """Write a new collection in ``root`` (made if missing) and return it loaded.

    Raises CollectionError when ``root`` already holds a collection or files that would be
    read as requests, or when ``base_url`` cannot be used."""
    root = Path(root)
    name = (name or root.resolve().name or "collection").strip()
    if (root / COLLECTION_FILE).exists() or (root / "collection.yml").exists():
        raise CollectionError.single(
            root / COLLECTION_FILE,
            None,
            "this directory already holds a collection",
            f"open it with: deli-tui {root}",
        )
    if root.exists() and not root.is_dir():
        raise CollectionError.single(root, None, "not a directory", "give a directory path")
    if root.is_dir() and any(p.suffix in (".yaml", ".yml") for p in root.rglob("*")):
        raise CollectionError.single(
            root,
            None,
            "this directory holds YAML files, which would be read as requests",
            "pick an empty or new directory",
        )
    problem = url_problem(base_url) or (None if "://" in base_url else "it has no scheme")
    if problem:
        raise CollectionError.single(
            root / COLLECTION_FILE,
            None,
            f"base_url {base_url!r}: {problem}",
            f"e.g. {DEFAULT_BASE_URL}",
        )
    if not name:
        raise CollectionError.single(root, None, "the name is empty", "give a name, e.g. shop")
    root.mkdir(parents=True, exist_ok=True)
    text = COLLECTION_TEMPLATE.format(name=_scalar(name), base_url=_scalar(base_url))
    atomic_write(root / COLLECTION_FILE, text)
    atomic_write(root / "home.yaml", REQUEST_TEMPLATE)
    return load_collection(root)
