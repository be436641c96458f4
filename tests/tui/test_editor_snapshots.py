"""SVG snapshots of the requests and scenarios screens at 80x24 and 160x48.

A snapshot must match byte for byte. After an intended change of layout, regenerate them
with ``UPDATE_SNAPSHOTS=1 pytest tests/tui`` and review the SVGs in the diff.
"""

from __future__ import annotations

import pytest

from tests.tui.conftest import write_collection
from tests.tui.stored_svg import assert_snapshot


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_requests_screen_snapshot(tmp_path, make_app, size):
    root = write_collection(tmp_path / "shop", "http://127.0.0.1:9")
    app = make_app(root)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert_snapshot(f"requests_{size[0]}x{size[1]}", app.export_screenshot())


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_scenarios_screen_snapshot(tmp_path, make_app, size):
    root = write_collection(tmp_path / "shop", "http://127.0.0.1:9")
    app = make_app(root)
    async with app.run_test(size=size) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        await pilot.pause()
        assert_snapshot(f"scenarios_{size[0]}x{size[1]}", app.export_screenshot())


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_settings_dialog_snapshot(tmp_path, make_app, size):
    root = write_collection(tmp_path / "shop", "http://127.0.0.1:9")
    app = make_app(root)
    async with app.run_test(size=size) as pilot:
        await pilot.press("f8")
        await pilot.pause()
        await pilot.pause()
        assert_snapshot(f"settings_{size[0]}x{size[1]}", app.export_screenshot())


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_help_screen_snapshot(tmp_path, make_app, size):
    root = write_collection(tmp_path / "shop", "http://127.0.0.1:9")
    app = make_app(root)
    async with app.run_test(size=size) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        await pilot.pause()
        assert_snapshot(f"help_{size[0]}x{size[1]}", app.export_screenshot())
