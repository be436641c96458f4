"""The httpx engine client (``client: httpx``) returns the same results as the fast transports."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from engine.plan.model import RunPlan
from engine.results import ERR_NONE, ERR_TIMEOUT
from engine.transport import make_client
from engine.transport.httpx_client import HttpxClient
from tests.servers.asgi import RunningServer
from tests.servers.faults import FaultServer

MakePlan = Callable[..., RunPlan]


async def test_status_bytes_and_body(demo_server: RunningServer, make_plan: MakePlan):
    plan = make_plan(f"{demo_server.url}/bytes/20000", f"{demo_server.url}/json", client="httpx")
    client = make_client(plan, max_connections=4)
    assert isinstance(client, HttpxClient)
    counted = await client.request(0, False)
    with_body = await client.request(1, True)
    await client.aclose()
    assert counted[:2] == (200, ERR_NONE)
    assert 20_000 <= counted[3] < 21_000
    assert counted[8] is None
    assert with_body[8] is not None and b'"id": 42' in with_body[8]
    assert with_body[7] > 0  # time to first byte


async def test_post_echo_and_status_not_classified(demo_server: RunningServer, make_plan: MakePlan):
    plan = make_plan(
        ("POST", f"{demo_server.url}/echo", b'{"x": 2}'), f"{demo_server.url}/status/500",
        client="httpx",
    )  # fmt: skip
    client = make_client(plan, max_connections=2)
    echoed = await client.request(0, True)
    failed = await client.request(1, False)
    await client.aclose()
    assert echoed[0] == 200 and echoed[8] == b'{"x": 2}'
    assert failed[:2] == (500, ERR_NONE)


async def test_http2_over_tls(
    h2_tls_server: RunningServer, tls_files: dict[str, str], make_plan: MakePlan
):
    plan = make_plan(f"{h2_tls_server.url}/delay/20", client="httpx", http2=True)
    client = make_client(plan, max_connections=20, ca_file=tls_files["ca"])
    results = await asyncio.gather(*(client.request(0, False) for _ in range(20)))
    await client.aclose()
    assert [r[:2] for r in results] == [(200, ERR_NONE)] * 20


async def test_whole_request_timeout_covers_a_trickled_body(
    faults: FaultServer, make_plan: MakePlan
):
    plan = make_plan(f"{faults.url}/trickle?ms=200&n=50", client="httpx", timeout_s=0.7)
    client = make_client(plan, max_connections=1)
    result = await asyncio.wait_for(client.request(0, False), 10)
    await client.aclose()
    assert result[1] == ERR_TIMEOUT
    assert "body" in result[2]


@pytest.mark.parametrize(("kind", "http2"), [("fast", False), ("fast", True), ("httpx", False)])
async def test_every_client_counts_its_connections_and_times_the_one_a_request_opened(
    h2_tls_server: RunningServer,
    tls_files: dict[str, str],
    make_plan: MakePlan,
    kind: str,
    http2: bool,
):
    plan = make_plan(f"{h2_tls_server.url}/json", client=kind, http2=http2)
    client = make_client(plan, max_connections=4, ca_file=tls_files["ca"])
    opened = await client.request(0, False)
    reused = await client.request(0, False)
    await client.aclose()
    assert opened[:2] == reused[:2] == (200, ERR_NONE)
    assert client.connections_opened == 1
    assert opened[5] > 0 and opened[6] > 0  # connect and TLS times of the connection it opened
    assert reused[5] == reused[6] == 0
