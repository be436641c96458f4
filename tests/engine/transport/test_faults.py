"""Every fault the fault server produces is classified, with a useful message, in bounded time."""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import time
from collections.abc import Callable

import psutil
import pytest

from engine.plan.model import RunPlan
from engine.results import (
    ERR_CONNECT,
    ERR_NONE,
    ERR_PROTOCOL,
    ERR_READ,
    ERR_TIMEOUT,
    ERR_TLS,
    error_class_name,
)
from engine.transport import make_client
from tests.servers.faults import FaultServer

MakePlan = Callable[..., RunPlan]
CLIENTS = ["fast", "httpx"]


async def one(plan: RunPlan, want_body: bool = False, **kw) -> tuple:
    client = make_client(plan, max_connections=2, **kw)
    try:
        return await asyncio.wait_for(client.request(0, want_body), 30)
    finally:
        await client.aclose()


@pytest.mark.parametrize("kind", CLIENTS)
async def test_refused_port_is_a_connect_error(closed_port: int, make_plan: MakePlan, kind: str):
    result = await one(make_plan(f"http://127.0.0.1:{closed_port}/", client=kind))
    assert result[0] == 0
    assert error_class_name(result[1]) == "connect"
    assert "refused" in result[2] and str(closed_port) in result[2]


@pytest.mark.parametrize(("kind", "http2"), [("fast", False), ("fast", True), ("httpx", False)])
async def test_connect_that_hangs_times_out_on_time(
    stalled_port: int, make_plan: MakePlan, kind: str, http2: bool
):
    started = time.monotonic()
    plan = make_plan(f"http://127.0.0.1:{stalled_port}/", client=kind, http2=http2, timeout_s=0.5)
    result = await one(plan)
    assert result[1] == ERR_TIMEOUT, result
    assert "0.5 s" in result[2] and "connect" in result[2]
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("kind", CLIENTS)
async def test_unresolvable_host_is_a_connect_error(make_plan: MakePlan, kind: str):
    started = time.monotonic()
    try:
        socket.getaddrinfo("deli-tui-test.invalid", 80)
        pytest.fail("the .invalid name resolved")
    except socket.gaierror:
        pass
    assert time.monotonic() - started < 5, "name resolution here is too slow for this test"
    result = await one(make_plan("http://deli-tui-test.invalid/", client=kind, timeout_s=10))
    assert result[1] == ERR_CONNECT
    assert "deli-tui-test.invalid" in result[2]


@pytest.mark.parametrize("kind", CLIENTS)
async def test_close_without_answer_is_a_read_error(
    faults: FaultServer, make_plan: MakePlan, kind: str
):
    result = await one(make_plan(f"{faults.url}/close", client=kind))
    assert result[1] == ERR_READ, result
    assert result[2]


@pytest.mark.parametrize("kind", CLIENTS)
async def test_reset_mid_response_is_a_read_error(
    faults: FaultServer, make_plan: MakePlan, kind: str
):
    result = await one(make_plan(f"{faults.url}/reset", client=kind))
    assert result[1] == ERR_READ, result
    if kind == "fast":
        assert "reset" in result[2] and "mid-body" in result[2]


@pytest.mark.parametrize("kind", CLIENTS)
async def test_no_headers_times_out_on_time(faults: FaultServer, make_plan: MakePlan, kind: str):
    started = time.monotonic()
    result = await one(make_plan(f"{faults.url}/noheaders", client=kind, timeout_s=0.5))
    elapsed = time.monotonic() - started
    assert result[1] == ERR_TIMEOUT, result
    assert "0.5 s" in result[2]
    assert 0.4 < elapsed < 5


async def test_trickled_body_times_out_while_reading_the_body(
    faults: FaultServer, make_plan: MakePlan
):
    started = time.monotonic()
    plan = make_plan(f"{faults.url}/trickle?ms=200&n=50", timeout_s=0.7)
    result = await one(plan)
    assert result[1] == ERR_TIMEOUT
    assert "body" in result[2]
    assert time.monotonic() - started < 5


async def test_trickled_body_completes_within_the_timeout(faults: FaultServer, make_plan: MakePlan):
    result = await one(make_plan(f"{faults.url}/trickle?ms=10&n=10", timeout_s=5), True)
    assert result[:2] == (200, ERR_NONE)
    assert result[8] == b"t" * 10


@pytest.mark.parametrize("kind", CLIENTS)
async def test_malformed_status_line_is_a_protocol_error(
    faults: FaultServer, make_plan: MakePlan, kind: str
):
    result = await one(make_plan(f"{faults.url}/badstatus", client=kind))
    assert result[1] == ERR_PROTOCOL, result
    assert result[2]


@pytest.mark.parametrize("kind", CLIENTS)
async def test_broken_chunked_encoding_is_a_protocol_error(
    faults: FaultServer, make_plan: MakePlan, kind: str
):
    result = await one(make_plan(f"{faults.url}/badchunk", client=kind))
    assert result[1] == ERR_PROTOCOL, result


async def test_5xx_bursts_are_statuses_not_transport_errors(
    faults: FaultServer, make_plan: MakePlan
):
    client = make_client(make_plan(f"{faults.url}/burst5xx?every=5&burst=2"), max_connections=1)
    statuses = [(await client.request(0, False))[:2] for _ in range(10)]
    await client.aclose()
    assert statuses.count((503, ERR_NONE)) == 4
    assert statuses.count((200, ERR_NONE)) == 6


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("http2", [False, True])
async def test_untrusted_certificate_is_a_tls_error(
    untrusted_tls_faults: FaultServer,
    tls_files: dict[str, str],
    make_plan: MakePlan,
    kind: str,
    http2: bool,
):
    plan = make_plan(f"{untrusted_tls_faults.url}/ok", client=kind, http2=http2)
    result = await one(plan, ca_file=tls_files["ca"])
    assert result[1] == ERR_TLS, result
    assert "verif" in result[2].lower()


async def test_insecure_skips_verification(untrusted_tls_faults: FaultServer, make_plan: MakePlan):
    result = await one(make_plan(f"{untrusted_tls_faults.url}/ok", insecure=True), True)
    assert result[:2] == (200, ERR_NONE)
    assert result[8] == b"ok\n"


async def test_huge_body_is_counted_not_kept(faults: FaultServer, make_plan: MakePlan):
    gc.collect()
    process = psutil.Process(os.getpid())
    before = process.memory_info().rss
    result = await one(make_plan(f"{faults.url}/huge?mb=300", timeout_s=60))
    after = process.memory_info().rss
    assert result[:2] == (200, ERR_NONE)
    assert 300 * (1 << 20) <= result[3] < 300 * (1 << 20) + 1000
    assert result[8] is None
    assert after - before < 50 * (1 << 20), f"RSS grew {(after - before) >> 20} MiB"
