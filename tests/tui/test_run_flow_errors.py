"""A flow's extract errors on the run dashboard: counted under their class like any other, and
the error inspector says which extraction failed, with the start of the body (real engine
processes, real flow server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deli_tui.screens.error_inspector import ErrorInspector
from deli_tui.screens.run import RunScreen
from deli_tui.widgets.error_summary import ErrorSummary
from engine.collection.loader import load_collection
from engine.plan.build import build_plan
from tests.engine.flow_files import shop_collection
from tests.servers.asgi import RunningServer, uvicorn_server
from tests.servers.flow_app import FlowApp
from tests.tui.test_run_screen import RunApp, wait_for

FLOW = """\
    users: 2
    duration: 30s
    iterations: 3
    setup: [Login]
    requests: [List items, Get item]
    data: {file: users.csv, as: user, mode: unique}
"""


@pytest.fixture
def shop() -> Iterator[tuple[RunningServer, FlowApp]]:
    app = FlowApp()
    with uvicorn_server(app) as server:
        yield server, app


async def test_extract_errors_show_on_the_dashboard_and_in_the_inspector(
    tmp_path: Path, shop: tuple[RunningServer, FlowApp]
) -> None:
    server, log = shop
    root = shop_collection(tmp_path / "shop", server.url, FLOW, users=2)
    listing = root / "items" / "list.yaml"
    listing.write_text(listing.read_text().replace("$.items[1].id", "$.items[1].sku"))
    plan = build_plan(load_collection(root), "shop", environ={})
    app = RunApp(lambda: RunScreen.for_plan(plan, None))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        screen = app.screen
        assert isinstance(screen, RunScreen)
        await wait_for(pilot, lambda: screen.finished is not None, "the end of the run")
        finished = screen.finished
        assert finished is not None and dict(finished.snapshot.errors) == {"extract": 6}
        await pilot.pause()
        assert "extract" in screen.query_one(ErrorSummary).text
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ErrorInspector)
        sample = app.screen.samples[0]
        assert (sample.request, sample.error_class) == ("List items", "extract")
        assert sample.message.startswith(
            'extract item_id {json: $.items[1].sku}: not found in the body: {"items": [{"id":'
        )
    assert log.fetched == [] and sum(log.logins.values()) == 2
