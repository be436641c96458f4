"""The stored SVG pictures of the app (tests/tui/snapshots/) and the one check against them.

A picture must match byte for byte. After an intended change of layout, regenerate with
``UPDATE_SNAPSHOTS=1 pytest tests/tui`` and look at the changed SVGs in the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"


def assert_snapshot(name: str, svg: str) -> None:
    """Fail unless ``svg`` is the stored ``name.svg``; the new picture is left beside it as
    ``name.actual.svg``. A missing picture is written and fails once, to be looked at."""
    stored = SNAPSHOTS / f"{name}.svg"
    if UPDATE or not stored.exists():
        stored.parent.mkdir(parents=True, exist_ok=True)
        stored.write_text(svg, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{stored} did not exist; written now: look at it, then commit it")
        return
    if svg != stored.read_text(encoding="utf-8"):
        actual = stored.with_suffix(".actual.svg")
        actual.write_text(svg, encoding="utf-8")
        pytest.fail(
            f"{name} differs from {stored}; the new picture is in {actual}. "
            "If the change is intended: UPDATE_SNAPSHOTS=1 pytest tests/tui"
        )
