"""SVG snapshots of the run dashboard at 80x24 and 160x48 from deterministic Snapshot data.

The stored SVGs live in tests/tui/snapshots/. After an intended change of the layout, look at
the new pictures and regenerate them with ``UPDATE_SNAPSHOTS=1 pytest tests/tui``.
"""

from __future__ import annotations

import time

import pytest
from textual.app import App

from deli_tui.screens.run import RunScreen
from engine.run.protocol import Finished, Message
from tests.tui.sample_snapshots import ReplayLink, make_snapshot, stress_snapshot
from tests.tui.stored_svg import assert_snapshot


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


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
@pytest.mark.parametrize("case", list(CASES))
async def test_run_dashboard_matches_stored_svg(case: str, size: tuple[int, int]) -> None:
    svg = await dashboard_svg(CASES[case], size)
    assert_snapshot(f"{case}_{size[0]}x{size[1]}", svg)


@pytest.mark.parametrize(("view", "keys"), [("charts", ("v",)), ("requests", ("o", "o"))])
async def test_the_other_views_at_80x24_match_stored_svgs(view: str, keys: tuple[str, ...]) -> None:
    svg = await dashboard_svg([make_snapshot(seq=80)], (80, 24), keys)
    assert_snapshot(f"run_{view}_80x24", svg)
