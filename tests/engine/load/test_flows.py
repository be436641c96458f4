"""Flows against a real server that issues a token per user: setup once per user, values
passed from one response to the next request, data rows per user, dynamic values, cookie jars;
HTTP/1.1 and HTTP/2, closed and open model. The server's own log is the reference."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.collection.loader import load_collection
from engine.metrics.ring import ResultRing
from engine.metrics.window import WindowData
from engine.plan.build import PlanOverrides, build_plan
from engine.plan.model import RunPlan
from engine.results import ERR_EXTRACT, ERR_NONE
from engine.run.worker import run_load
from tests.engine.collection_files import SAMPLE
from tests.engine.flow_files import shop_collection
from tests.servers.asgi import RunningServer, hypercorn_server, uvicorn_server
from tests.servers.flow_app import FlowApp

SAFETY_S = 30.0


@pytest.fixture
def h1_shop() -> Iterator[tuple[RunningServer, FlowApp]]:
    app = FlowApp()
    with uvicorn_server(app) as server:
        yield server, app


@pytest.fixture
def h2_shop() -> Iterator[tuple[RunningServer, FlowApp]]:
    app = FlowApp()
    with hypercorn_server(app) as server:
        yield server, app


def _plan(
    tmp_path: Path, server: RunningServer, scenario: str, users: int = 5, **o: object
) -> RunPlan:
    root = shop_collection(tmp_path, server.url, scenario, users)
    return build_plan(load_collection(root), "shop", PlanOverrides(**o), environ={})  # type: ignore[arg-type]


async def _run(plan: RunPlan, workers: int = 1) -> tuple[list[WindowData], list[ResultRing]]:
    start = time.monotonic() + 0.05
    windows: list[WindowData] = []
    results = await asyncio.wait_for(
        asyncio.gather(
            *(run_load(plan, w, workers, start, windows.append) for w in range(workers))
        ),
        SAFETY_S,
    )
    windows += [final for final, _, _ in results if final is not None]
    return windows, [ring for _, ring, _ in results]


def _per_request(plan: RunPlan, windows: list[WindowData]) -> dict[str, int]:
    return {
        r.name: sum(w.per_request[i].requests for w in windows if w.per_request)
        for i, r in enumerate(plan.requests)
    }


def _errors(windows: list[WindowData]) -> dict[int, int]:
    out: dict[int, int] = {}
    for w in windows:
        for code, n in w.errors:
            out[code] = out.get(code, 0) + n
    return out


SEQUENCE = """\
    users: 5
    duration: 30s
    iterations: 4
    setup: [Login]
    requests: [List items, Get item]
    data: {file: users.csv, as: user, mode: unique}
    cookies: true
"""


@pytest.mark.parametrize("protocol", ["http1", "http2", "httpx"])
async def test_every_user_logs_in_once_and_requests_the_ids_it_was_given(
    tmp_path: Path,
    protocol: str,
    h1_shop: tuple[RunningServer, FlowApp],
    h2_shop: tuple[RunningServer, FlowApp],
) -> None:
    server, app = h2_shop if protocol == "http2" else h1_shop
    client = "httpx" if protocol == "httpx" else "fast"
    plan = _plan(tmp_path, server, SEQUENCE, http2=protocol == "http2", client=client)
    assert plan.flow_plan is not None
    windows, rings = await _run(plan)
    assert _per_request(plan, windows) == {"Login": 5, "List items": 20, "Get item": 20}
    assert _errors(windows) == {}
    assert {row.error for ring in rings for row in ring.rows()} == {ERR_NONE}
    # the server agrees: one login per user (each with its own row), no request without a
    # valid token, and every id fetched was the second one listed to the same user just before
    assert app.logins == {f"u{i}": 1 for i in range(5)}
    assert app.unauthorised == 0
    assert app.requests == 5 + 20 + 20
    for user, listed in app.listed.items():
        fetched = [item for u, item in app.fetched if u == user]
        assert fetched == listed[1::3]
    assert app.cookie_mismatch == 0
    # {{$guid}}: a new value for every request that uses it
    assert len(app.request_ids) == 40 == len(set(app.request_ids))
    assert app.with_cookie == 40 and app.cookie_mismatch == 0


OPEN = """\
    model: open
    rate: 40
    duration: 1s
    setup: [Login]
    requests: [List items, Get item]
    data: {file: users.csv, as: user, mode: cycle}
    cookies: true
"""


@pytest.mark.parametrize("protocol", ["http1", "http2"])
async def test_open_model_each_arrival_is_a_fresh_user_running_the_flow_once(
    tmp_path: Path,
    protocol: str,
    h1_shop: tuple[RunningServer, FlowApp],
    h2_shop: tuple[RunningServer, FlowApp],
) -> None:
    server, app = h1_shop if protocol == "http1" else h2_shop
    plan = _plan(tmp_path, server, OPEN, http2=protocol == "http2")
    windows, _ = await _run(plan)
    # 40 arrivals in 1 s, each a login, one list and one get
    assert _per_request(plan, windows) == {"Login": 40, "List items": 40, "Get item": 40}
    assert _errors(windows) == {} and sum(w.skipped for w in windows) == 0
    assert sum(app.logins.values()) == 40 and set(app.logins) == {f"u{i}" for i in range(5)}
    assert app.unauthorised == 0
    listed_second = {item for ids in app.listed.values() for item in ids[1::3]}
    assert {item for _, item in app.fetched} == listed_second and len(app.fetched) == 40
    assert app.with_cookie == 80 and app.cookie_mismatch == 0


async def test_unique_rows_are_split_between_workers(
    tmp_path: Path, h1_shop: tuple[RunningServer, FlowApp]
) -> None:
    server, app = h1_shop
    plan = _plan(tmp_path, server, SEQUENCE.replace("users: 5", "users: 4"), users=4)
    windows, _ = await _run(plan, workers=2)
    assert _per_request(plan, windows) == {"Login": 4, "List items": 16, "Get item": 16}
    assert app.logins == {f"u{i}": 1 for i in range(4)}


async def test_an_extraction_that_finds_nothing_is_an_extract_error_and_ends_the_iteration(
    tmp_path: Path, h1_shop: tuple[RunningServer, FlowApp]
) -> None:
    server, app = h1_shop
    root = shop_collection(tmp_path, server.url, SEQUENCE.replace("users: 5", "users: 2"), 2)
    listing = root / "items" / "list.yaml"
    listing.write_text(listing.read_text().replace("$.items[1].id", "$.items[7].id"))
    plan = build_plan(load_collection(root), "shop", environ={})
    windows, rings = await _run(plan)
    # each iteration ends at List items: Get item is never sent
    assert _per_request(plan, windows) == {"Login": 2, "List items": 8, "Get item": 0}
    assert _errors(windows) == {ERR_EXTRACT: 8}
    assert app.fetched == [] and app.logins == {"u0": 1, "u1": 1}
    messages = [row.message for ring in rings for row in ring.rows() if row.error]
    assert len(messages) == 8
    for message in messages:  # which extraction, and a sample of the body it looked in
        assert message.startswith("extract item_id {json: $.items[7].id}: not found in the body: ")
        assert '{"items": [{"id": 10' in message
    sample = windows[0].error_samples or next(w.error_samples for w in windows if w.error_samples)
    assert sample[0].error_class == "extract" and sample[0].request == "List items"


async def test_the_demo_flow_scenario_runs_clean_against_the_demo_server(
    demo_server: RunningServer,
) -> None:
    plan = build_plan(
        load_collection(SAMPLE),
        "flow",
        PlanOverrides(duration_s=1.0),
        environ={"port": str(demo_server.port)},
    )
    windows, _ = await _run(plan)
    counts = _per_request(plan, windows)
    assert counts["Login"] == 5 and counts["List items"] >= 5 and counts["Get item"] >= 5
    assert _errors(windows) == {}


async def test_a_weighted_flow_logs_in_once_then_picks_requests_by_weight(
    tmp_path: Path, h1_shop: tuple[RunningServer, FlowApp]
) -> None:
    server, app = h1_shop
    scenario = """\
    users: 3
    duration: 30s
    iterations: 10
    flow: weighted
    setup: [Login]
    requests: [List items, Who am I]
    data: {file: users.csv, as: user, mode: unique}
"""
    plan = _plan(tmp_path, server, scenario, users=3)
    windows, _ = await _run(plan)
    counts = _per_request(plan, windows)
    # each iteration is one request picked by weight: 10 per user, after one login each
    assert counts["Login"] == 3 and counts["List items"] + counts["Who am I"] == 30
    assert _errors(windows) == {} and app.unauthorised == 0
    assert app.logins == {"u0": 1, "u1": 1, "u2": 1}


async def test_open_model_arrivals_think_between_their_steps(
    tmp_path: Path, h1_shop: tuple[RunningServer, FlowApp]
) -> None:
    server, app = h1_shop
    scenario = OPEN.replace("rate: 40", "rate: 10") + "    think_time: 50ms\n"
    plan = _plan(tmp_path, server, scenario)
    windows, _ = await _run(plan)
    # the last arrival (at ~0.95 s) still thinks twice after the schedule's end: its flow is
    # finished all the same, within the graceful stop
    assert _per_request(plan, windows) == {"Login": 10, "List items": 10, "Get item": 10}
    assert _errors(windows) == {} and app.unauthorised == 0
