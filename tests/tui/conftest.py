"""Fixtures for the TUI tests: a small collection written into tmp_path, and the app on it."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from deli_tui.app import DeliApp, open_workspace

COLLECTION_YAML = """\
name: shop
base_url: {base_url}
variables:
  user_id: "42"
headers:
  Accept: application/json
timeout: 5s
scenarios:
  smoke:
    model: closed
    users: 2
    duration: 5s
    thresholds:
      - p95 < 500ms
"""

REQUESTS = {
    "users/get_user.yaml": """\
        name: get user
        method: GET
        url: /json
        checks:
          status: 200
          json:
            - path: $.id
              equals: 42
        """,
    "users/create_user.yaml": """\
        name: create user
        method: POST
        url: /echo
        headers:
          Content-Type: application/json
        body:
          name: deli
          tags: [load, test]
        """,
    "health.yaml": """\
        name: health
        method: GET
        url: /
        """,
}


def write_collection(root: Path, base_url: str) -> Path:
    """A collection with a folder, three requests and one scenario."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "collection.yaml").write_text(COLLECTION_YAML.format(base_url=base_url))
    for relpath, text in REQUESTS.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC, so the times shown do not depend on the machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def collection_dir(tmp_path: Path) -> Path:
    """A collection whose base_url is a local port nothing listens on (no traffic leaves)."""
    return write_collection(tmp_path / "shop", "http://127.0.0.1:9")


@pytest.fixture
def make_app() -> Callable[..., DeliApp]:
    """Build the app on a collection directory, as ``deli-tui PATH`` would."""

    def make(root: Path, **kwargs: object) -> DeliApp:
        return DeliApp(open_workspace(root, None, None), **kwargs)  # type: ignore[arg-type]

    return make
