"""SVG snapshots of the run dashboard at 80x24 and 160x48 from deterministic Snapshot data.

The stored SVGs live in tests/tui/snapshots/. After an intended change of the layout, look at
the new pictures and regenerate them with ``UPDATE_SNAPSHOTS=1 pytest tests/tui/test_snapshots.py``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from textual.app import App

from deli_tui.screens.run import RunScreen
from engine.run.protocol import Finished, Message
from tests.tui.sample_snapshots import ReplayLink, make_snapshot, stress_snapshot

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"


class DashboardApp(App[None]):
    """The run screen fed a fixed list of engine messages."""

    TITLE = "deli-tui"

    def __init__(self, messages: list[Message]) -> None:
        super().__init__()
        self.messages = messages

    def on_mount(self) -> None:
        self.push_screen(RunScreen(lambda: ReplayLink(list(self.messages))))


async def dashboard_svg(
    messages: list[Message], size: tuple[int, int], keys: tuple[str, ...] = ()
) -> str:
    app = DashboardApp(messages)
    async with app.run_test(size=size) as pilot:
        deadline = time.monotonic() + 30
        final = messages[-1]
        while True:
            screen = app.screen
            if isinstance(screen, RunScreen) and screen.snapshot is not None:  # noqa: SIM102
                if not isinstance(final, Finished) or screen.finished is not None:
                    break
            assert time.monotonic() < deadline, "the dashboard never showed the snapshot"
            await pilot.pause(0.05)
        await pilot.press(*keys)
        await pilot.pause()
        await pilot.pause()
        return app.export_screenshot(title="deli-tui")


CASES: dict[str, list[Message]] = {
    "run_closed": [make_snapshot()],
    "run_open": [make_snapshot(model="open")],
    "run_finished": [
        make_snapshot(),
        Finished(make_snapshot(seq=60, phase="finished"), passed=False, reason="completed"),
    ],
    "run_stress": [stress_snapshot()],
}


def assert_matches(name: str, svg: str) -> None:
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
            f"the dashboard differs from {stored.name}; the new picture is in {actual}. "
            "If the change is intended: UPDATE_SNAPSHOTS=1 pytest tests/tui/test_snapshots.py"
        )


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
@pytest.mark.parametrize("case", list(CASES))
async def test_run_dashboard_matches_stored_svg(case: str, size: tuple[int, int]) -> None:
    svg = await dashboard_svg(CASES[case], size)
    assert_matches(f"{case}_{size[0]}x{size[1]}", svg)


@pytest.mark.parametrize(("view", "keys"), [("charts", ("v",)), ("requests", ("o", "o"))])
async def test_the_other_views_at_80x24_match_stored_svgs(view: str, keys: tuple[str, ...]) -> None:
    svg = await dashboard_svg([make_snapshot(seq=80)], (80, 24), keys)
    assert_matches(f"run_{view}_80x24", svg)
