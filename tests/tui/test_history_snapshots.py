"""SVG snapshots of the runs screen and the compare screen at 80x24 and 160x48, from saved
run files with fixed times (shown in UTC). Regenerate after an intended change of layout
with ``UPDATE_SNAPSHOTS=1 pytest tests/tui``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from deli_tui.app import DeliApp
from deli_tui.screens.compare import CompareScreen
from tests.tui.saved_runs import open_runs, saved_runs
from tests.tui.stored_svg import assert_snapshot

SIZES = [(80, 24), (160, 48)]


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
async def test_runs_screen_snapshot(
    collection_dir: Path,
    make_app: Callable[..., DeliApp],
    utc: None,
    size: tuple[int, int],
) -> None:
    saved_runs(collection_dir)
    app = make_app(collection_dir)
    async with app.run_test(size=size) as pilot:
        await open_runs(pilot)
        await pilot.press("space")
        await pilot.pause()
        await pilot.pause()
        assert_snapshot(f"runs_{size[0]}x{size[1]}", app.export_screenshot())


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
async def test_compare_screen_snapshot(
    collection_dir: Path,
    make_app: Callable[..., DeliApp],
    utc: None,
    size: tuple[int, int],
) -> None:
    saved_runs(collection_dir)
    app = make_app(collection_dir)
    async with app.run_test(size=size) as pilot:
        await open_runs(pilot)
        await pilot.press("c")  # the stopped smoke run against the one before it
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        await pilot.pause()
        await pilot.pause()
        assert_snapshot(f"compare_{size[0]}x{size[1]}", app.export_screenshot())
