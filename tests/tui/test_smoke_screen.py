"""F9, the smoke check in the app: every request (or the scenario shown on the scenarios
screen) sent once against a real server, each row with its checks."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from deli_tui.app import DeliApp
from deli_tui.screens.smoke import SmokeScreen
from tests.servers.asgi import RunningServer
from tests.tui.conftest import write_collection

SAFETY_S = 30.0


async def smoke_done(pilot: Pilot) -> SmokeScreen:  # type: ignore[type-arg]
    deadline = time.monotonic() + SAFETY_S
    while not (isinstance(pilot.app.screen, SmokeScreen) and pilot.app.screen.done):
        assert time.monotonic() < deadline, "the smoke check did not end"
        await pilot.pause(0.05)
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, SmokeScreen)
    return screen


async def test_f9_sends_every_request_once_and_shows_each_check(
    tmp_path: Path, make_app: Callable[..., DeliApp], demo_server: RunningServer
) -> None:
    root = write_collection(tmp_path / "shop", demo_server.url)
    (root / "zz_missing.yaml").write_text("name: missing\nurl: /status/404\n")
    app = make_app(root)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("f9")
        screen = await smoke_done(pilot)
        names = [r.name for r in screen.results]
        assert sorted(names) == ["create user", "get user", "health", "missing"]
        passed = {r.name: r.passed for r in screen.results}
        assert passed == {"create user": True, "get user": True, "health": True, "missing": False}
        verdict = str(screen.query_one("#smoke-verdict").render())
        assert verdict.startswith("FAILED: 4 requests, 1 failed")
        detail = str(screen.query_one("#smoke-detail").render())
        assert f"GET {demo_server.url}" in detail  # the first row's request and checks
        await pilot.press("r")
        screen = await smoke_done(pilot)
        assert len(screen.results) == 4
        await pilot.press("escape")
        assert not isinstance(app.screen, SmokeScreen)


async def test_f9_on_the_scenarios_screen_checks_that_scenario(
    tmp_path: Path, make_app: Callable[..., DeliApp], demo_server: RunningServer
) -> None:
    root = write_collection(tmp_path / "shop", demo_server.url)
    text = (root / "collection.yaml").read_text()
    (root / "collection.yaml").write_text(text + "  one:\n    users: 1\n    requests: [health]\n")
    app = make_app(root)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        app.screen.open_scenario("one")  # type: ignore[attr-defined]
        await pilot.press("f9")
        screen = await smoke_done(pilot)
        assert [r.name for r in screen.results] == ["health"]
        assert "scenario one" in str(screen.query_one("#smoke-title").render())
