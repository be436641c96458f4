"""Regenerate screenshots/*.svg from the real app on the demo collection and demo server.

    python screenshots/make_screenshots.py

Starts the embedded demo server on a free port, opens a copy of ``sample_collections/demo``
(so no run result lands in the repository) in ``DeliApp`` under Textual's test driver, and
saves the collection screen, the scenario screen, the run dashboard live (120x36 and 80x24,
there also its charts view), the finished run, the runs list and two runs compared. The
runs are real: the engine process sends load to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from textual.pilot import Pilot  # noqa: E402

from deli_tui.app import DeliApp, open_workspace  # noqa: E402
from deli_tui.demo import DemoServerProcess  # noqa: E402
from deli_tui.screens.run import RunScreen  # noqa: E402
from engine.collection.model import ScenarioDef  # noqa: E402

SAFETY_S = 60.0
WIDE = (120, 36)
NARROW = (80, 24)


async def wait_for(pilot: Pilot, check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + SAFETY_S
    while not check():
        if time.monotonic() > deadline:
            screen = pilot.app.screen
            lost = getattr(screen, "lost", None)
            raise RuntimeError(f"timed out waiting for {what} on {screen!r} (lost: {lost})")
        await pilot.pause(0.1)


def run_screen(app: DeliApp) -> RunScreen | None:
    screen = app.screen
    return screen if isinstance(screen, RunScreen) else None


def live_for(app: DeliApp, windows: int) -> bool:
    screen = run_screen(app)
    return screen is not None and screen.snapshot is not None and screen.snapshot.seq >= windows


def finished(app: DeliApp) -> bool:
    screen = run_screen(app)
    return screen is not None and screen.finished is not None


async def shoot(pilot: Pilot, name: str) -> None:
    await pilot.pause()
    await pilot.pause()
    path = pilot.app.save_screenshot(f"{name}.svg", str(HERE))
    print(f"wrote {Path(path).relative_to(ROOT)}")


async def browse_and_run(root: Path, base_url: str) -> None:
    workspace = open_workspace(root, None, base_url)
    app = DeliApp(workspace)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause(0.5)
        await shoot(pilot, "collection")
        await pilot.press("f3")
        await pilot.pause(0.5)
        await shoot(pilot, "scenario")
        await pilot.press("f2")
        app.start_run("smoke")
        await wait_for(pilot, lambda: live_for(app, 12), "a live run")
        await shoot(pilot, "run_live")
        await pilot.press("s")
        await wait_for(pilot, lambda: finished(app), "the end")
        await shoot(pilot, "run_finished")
        # a second run of the same scenario, with more users, to its end: compared with the first
        await pilot.press("escape")
        app.start_run("smoke", more_users(app, "smoke", 3))
        await wait_for(pilot, lambda: finished(app), "the end of the second run")
        await pilot.press("escape")
        await pilot.press("f7")
        await pilot.pause(0.5)
        await shoot(pilot, "runs")
        await pilot.press("c")
        await pilot.pause(0.5)
        await shoot(pilot, "compare")


def more_users(app: DeliApp, name: str, factor: int) -> ScenarioDef:
    """An unsaved version of scenario ``name`` with ``factor`` times its users."""
    scenario = app.workspace.collection.scenarios[name]
    return dataclasses.replace(scenario, users=scenario.users * factor)


async def narrow_run(root: Path, base_url: str) -> None:
    workspace = open_workspace(root, None, base_url)
    app = DeliApp(workspace, run_scenario="smoke")
    async with app.run_test(size=NARROW) as pilot:
        await wait_for(pilot, lambda: live_for(app, 12), "a live run")
        await shoot(pilot, "run_live_80x24")
        await pilot.press("v")  # the charts view of a small terminal
        await wait_for(pilot, lambda: live_for(app, 30), "more windows")
        await shoot(pilot, "run_charts_80x24")
        await pilot.press("s")
        await wait_for(pilot, lambda: finished(app), "the end")


def main() -> int:
    demo = DemoServerProcess()
    demo.start()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "demo"
        shutil.copytree(ROOT / "sample_collections" / "demo", root)
        try:
            asyncio.run(browse_and_run(root, demo.url))
            asyncio.run(narrow_run(root, demo.url))
        finally:
            demo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
