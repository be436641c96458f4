"""The fast HTTP/2 transport (h2) against hypercorn: TLS+ALPN, h2c prior knowledge, streams."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from engine.plan.model import RunPlan
from engine.results import (
    ERR_CONNECT,
    ERR_NONE,
    ERR_PROTOCOL,
    ERR_READ,
    ERR_REFUSED,
    ERR_TIMEOUT,
)
from engine.transport import make_client
from engine.transport.http2 import MAX_RETRIES, Http2Client
from tests.engine.transport.slot_waits import outcomes_past_the_slot_deadline
from tests.servers.asgi import RunningServer
from tests.servers.faults import FaultServer

MakePlan = Callable[..., RunPlan]


async def test_h2_over_tls_with_alpn(
    h2_tls_server: RunningServer, tls_files: dict[str, str], make_plan: MakePlan
):
    plan = make_plan(f"{h2_tls_server.url}/json", f"{h2_tls_server.url}/status/404", http2=True)
    client = make_client(plan, max_connections=10, ca_file=tls_files["ca"])
    assert isinstance(client, Http2Client)
    first = await client.request(0, True)
    second = await client.request(1, False)
    await client.aclose()
    status, err, _, bytes_in, bytes_out, connect_ns, tls_ns, ttfb_ns, body = first
    assert (status, err) == (200, ERR_NONE)
    assert body is not None and b'"name": "deli"' in body
    assert connect_ns > 0 and tls_ns > 0 and ttfb_ns > 0
    assert bytes_in >= len(body) and bytes_out > 0
    assert second[:2] == (404, ERR_NONE)
    assert second[5] == 0 and second[6] == 0  # same connection


async def test_h2c_prior_knowledge(h2c_server: RunningServer, make_plan: MakePlan):
    client = make_client(make_plan(f"{h2c_server.url}/bytes/200000", http2=True), max_connections=4)
    result = await client.request(0, False)
    await client.aclose()
    assert result[:2] == (200, ERR_NONE)
    assert 200_000 <= result[3] < 201_000
    assert result[8] is None


async def test_post_body_is_echoed_over_h2c(h2c_server: RunningServer, make_plan: MakePlan):
    payload = b'{"big": "' + b"y" * 200_000 + b'"}'  # beyond one frame and the first window
    plan = make_plan(("POST", f"{h2c_server.url}/echo", payload), http2=True)
    client = make_client(plan, max_connections=4)
    result = await client.request(0, True)
    await client.aclose()
    assert result[:2] == (200, ERR_NONE)
    assert result[8] == payload


async def test_hundred_concurrent_streams_share_one_connection(
    h2_tls_server: RunningServer, tls_files: dict[str, str], make_plan: MakePlan
):
    plan = make_plan(f"{h2_tls_server.url}/delay/100", http2=True)
    client = make_client(plan, max_connections=100, ca_file=tls_files["ca"])
    results = await asyncio.wait_for(
        asyncio.gather(*(client.request(0, False) for _ in range(100))), 60
    )
    await client.aclose()
    assert [r[:2] for r in results] == [(200, ERR_NONE)] * 100
    assert sum(1 for r in results if r[5] > 0) == 1  # exactly one connection was opened


async def test_streams_beyond_the_cap_wait_their_turn(
    h2c_server: RunningServer, make_plan: MakePlan
):
    client = make_client(make_plan(f"{h2c_server.url}/delay/20", http2=True), max_connections=3)
    results = await asyncio.wait_for(
        asyncio.gather(*(client.request(0, False) for _ in range(12))), 60
    )
    await client.aclose()
    assert [r[0] for r in results] == [200] * 12


async def test_large_body_flows_through_flow_control(
    h2c_server: RunningServer, make_plan: MakePlan
):
    client = make_client(
        make_plan(f"{h2c_server.url}/bytes/30000000", http2=True, timeout_s=60), max_connections=2
    )
    result = await client.request(0, False)
    await client.aclose()
    assert result[:2] == (200, ERR_NONE)
    assert result[3] >= 30_000_000


async def test_server_without_h2_gives_a_clear_error(
    h1_only_tls_faults: FaultServer, tls_files: dict[str, str], make_plan: MakePlan
):
    plan = make_plan(f"{h1_only_tls_faults.url}/ok", http2=True)
    client = make_client(plan, max_connections=2, ca_file=tls_files["ca"])
    result = await client.request(0, False)
    await client.aclose()
    assert result[1] == ERR_PROTOCOL
    assert "HTTP/2" in result[2] and "http/1.1" in result[2]


async def test_h2c_against_an_http1_server_fails_cleanly(faults: FaultServer, make_plan: MakePlan):
    client = make_client(make_plan(f"{faults.url}/ok", http2=True, timeout_s=3), max_connections=2)
    result = await asyncio.wait_for(client.request(0, False), 10)
    await client.aclose()
    assert result[0] == 0 and result[1] != ERR_NONE
    assert result[2]


async def test_slow_stream_times_out_and_the_connection_stays_usable(
    h2c_server: RunningServer, make_plan: MakePlan
):
    plan = make_plan(
        f"{h2c_server.url}/delay/3000", f"{h2c_server.url}/", http2=True, timeout_s=0.4
    )
    client = make_client(plan, max_connections=4)
    slow, fast = await asyncio.wait_for(
        asyncio.gather(client.request(0, False), client.request(1, False)), 10
    )
    after = await client.request(1, False)
    await client.aclose()
    assert slow[1] == ERR_TIMEOUT and "0.4 s" in slow[2]
    assert fast[:2] == (200, ERR_NONE)
    assert after[:2] == (200, ERR_NONE) and after[5] == 0  # same connection, stream cancelled


async def test_refused_and_unresolvable_are_connect_errors(closed_port: int, make_plan: MakePlan):
    plan = make_plan(
        f"http://127.0.0.1:{closed_port}/", "http://deli-tui-test.invalid/", http2=True
    )
    client = make_client(plan, max_connections=4)
    refused = await client.request(0, False)
    unresolved = await client.request(1, False)
    await client.aclose()
    assert refused[1] == ERR_CONNECT and "refused" in refused[2]
    assert unresolved[1] == ERR_CONNECT and "deli-tui-test.invalid" in unresolved[2]


def test_hpack_block_caches_decode_and_encode_like_plain_hpack():
    import random

    import hpack

    from engine.transport.h2_state import BlockCachingDecoder, BlockCachingEncoder

    rng = random.Random(7)
    lists = [
        [(b":status", b"200"), (b"server", b"nginx"), (b"date", b"Sat, 28 Nov 2026 10:00:00")],
        [(b":status", b"404"), (b"content-length", b"12")],
        [(b":status", b"200"), (b"x-new", b"value-%d" % 1)],
    ]
    plain_enc, caching_enc = hpack.Encoder(), BlockCachingEncoder()
    plain_dec, caching_dec = hpack.Decoder(), BlockCachingDecoder()
    for step in range(300):
        headers = list(rng.choice(lists))
        if step % 50 == 49:  # a new entry now and then moves every dynamic index
            headers.append((b"x-step", str(step).encode()))
        sensitive = rng.random() < 0.5  # never-indexed literals leave the table unchanged
        encoded = [hpack.HeaderTuple(n, v) if not sensitive else hpack.NeverIndexedHeaderTuple(n, v)
                   for n, v in headers]  # fmt: skip
        block = plain_enc.encode(encoded)
        assert caching_enc.encode(encoded) == block
        assert caching_dec.decode(block, raw=True) == plain_dec.decode(block, raw=True)


async def test_reset_stream_is_a_read_error_and_the_connection_lives_on(
    h2_faults: FaultServer, make_plan: MakePlan
):
    plan = make_plan(f"{h2_faults.url}/rst", f"{h2_faults.url}/ok", http2=True, timeout_s=3)
    client = make_client(plan, max_connections=4)
    reset = await asyncio.wait_for(client.request(0, False), 10)
    ok = await asyncio.wait_for(client.request(1, True), 10)
    await client.aclose()
    assert reset[1] == ERR_READ and "INTERNAL_ERROR" in reset[2]
    assert ok[:2] == (200, ERR_NONE) and ok[8] == b"ok\n" and ok[5] == 0


async def test_a_stream_every_goaway_leaves_unprocessed_fails_as_refused_after_the_retries(
    h2_faults: FaultServer, make_plan: MakePlan
):
    """``/goaway`` answers each stream with a GOAWAY naming the stream before it: the stream
    was never processed, so it is sent again on a new connection, up to the retry limit."""
    plan = make_plan(f"{h2_faults.url}/ok", f"{h2_faults.url}/goaway", http2=True, timeout_s=3)
    client = make_client(plan, max_connections=4)
    first = await asyncio.wait_for(client.request(0, False), 10)
    gone = await asyncio.wait_for(client.request(1, False), 10)
    again = await asyncio.wait_for(client.request(0, False), 10)
    await client.aclose()
    assert first[:2] == (200, ERR_NONE)
    assert gone[1] == ERR_REFUSED and "GOAWAY" in gone[2]
    assert f"not processed in {MAX_RETRIES + 1} attempts" in gone[2]
    assert isinstance(client, Http2Client) and client.retried == MAX_RETRIES
    # a connection for the first send and one opened at each GOAWAY, before the retry
    assert client.connections_opened == MAX_RETRIES + 2
    assert again[:2] == (200, ERR_NONE) and again[5] == 0  # on the one opened in advance


async def test_an_illegal_frame_is_a_protocol_error(h2_faults: FaultServer, make_plan: MakePlan):
    client = make_client(make_plan(f"{h2_faults.url}/garbage", http2=True), max_connections=2)
    result = await asyncio.wait_for(client.request(0, False), 10)
    await client.aclose()
    assert result[1] == ERR_PROTOCOL and result[2]


def test_a_wait_for_a_stream_past_its_timeout_is_a_timeout_under_uvloop(
    h2c_server: RunningServer, make_plan: MakePlan
):
    """At the stream cap, a request that waits past its timeout gets a timeout result, never
    a cancellation (uvloop's timers can fire just short of ``loop.time()``'s deadline)."""
    url = h2c_server.url
    plan = make_plan(f"{url}/", f"{url}/delay/10000", f"{url}/", timeout_s=30.0, http2=True)
    outcomes = outcomes_past_the_slot_deadline(plan)
    expected = (ERR_TIMEOUT, "timed out after 0.0102 s waiting for a stream")
    assert outcomes == [expected] * 30
