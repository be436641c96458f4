"""Saved run files in a collection for the runs and compare screen tests, and the way there."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from deli_tui.screens.runs import RunsScreen
from tests.engine.history.runs import write_old_run, write_run


def saved_runs(root: Path) -> dict[str, Path]:
    """Four runs of two scenarios (the oldest saved without a digest), plus clutter."""
    runs = root / ".deli" / "runs"
    made = {
        "smoke-1": write_old_run(runs / "20240501T090000Z-smoke.json", latency_ms=(10.0, 20.0)),
        "smoke-2": write_run(
            runs / "20240502T090000Z-smoke.json",
            latency_ms=(10.0, 24.0),
            finished_at="2024-05-02T09:00:00Z",
        ),
        "soak-1": write_run(
            runs / "20240503T090000Z-soak.json",
            scenario="soak",
            users=50.0,
            errors=8,
            finished_at="2024-05-03T09:00:00Z",
        ),
        "smoke-3": write_run(
            runs / "20240504T090000Z-smoke.json",
            latency_ms=(12.0, 40.0),
            errors=2,
            reason="stopped",
            finished_at="2024-05-04T09:00:00Z",
        ),
    }
    (runs / "notes.txt").write_text("not a run")
    (runs / "20240504T090000Z-smoke").mkdir()
    return made


async def open_runs(pilot: Pilot) -> RunsScreen:  # type: ignore[type-arg]
    """F7, and the runs screen it shows."""
    await pilot.press("f7")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, RunsScreen)
    return screen
