"""The fast HTTP/1.1 transport against real servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from time import perf_counter_ns

from engine.plan.model import RunPlan
from engine.results import ERR_NONE, ERR_TIMEOUT, Result
from engine.transport import make_client
from engine.transport.http1 import Http1Client
from tests.engine.transport.slot_waits import outcomes_past_the_slot_deadline
from tests.servers.asgi import RunningServer

MakePlan = Callable[..., RunPlan]


async def test_get_returns_status_and_counts_bytes(demo_server: RunningServer, make_plan: MakePlan):
    client = make_client(make_plan(f"{demo_server.url}/bytes/50000"), max_connections=4)
    assert isinstance(client, Http1Client)
    status, err, msg, bytes_in, bytes_out, _, _, ttfb_ns, body = await client.request(0, False)
    await client.aclose()
    assert (status, err, msg) == (200, ERR_NONE, "")
    assert 50_000 < bytes_in < 50_000 + 1000  # body plus the response head
    assert bytes_out > 20
    assert ttfb_ns > 0
    assert body is None


async def test_status_codes_are_returned_not_classified(
    demo_server: RunningServer, make_plan: MakePlan
):
    client = make_client(make_plan(f"{demo_server.url}/status/503"), max_connections=1)
    status, err, *_ = await client.request(0, False)
    await client.aclose()
    assert (status, err) == (503, ERR_NONE)


async def test_keep_alive_reuses_one_connection(demo_server: RunningServer, make_plan: MakePlan):
    client = make_client(make_plan(f"{demo_server.url}/"), max_connections=4)
    results = [await client.request(0, False) for _ in range(5)]
    await client.aclose()
    assert [r[0] for r in results] == [200] * 5
    connect_ns = [r[5] for r in results]
    assert connect_ns[0] > 0
    assert connect_ns[1:] == [0, 0, 0, 0]


async def test_concurrent_requests_open_one_connection_each(
    demo_server: RunningServer, make_plan: MakePlan
):
    client = make_client(make_plan(f"{demo_server.url}/delay/50"), max_connections=8)
    first = await asyncio.gather(*(client.request(0, False) for _ in range(8)))
    second = await asyncio.gather(*(client.request(0, False) for _ in range(8)))
    await client.aclose()
    assert all(r[0] == 200 for r in first + second)
    assert sum(1 for r in first if r[5] > 0) == 8
    assert sum(1 for r in second if r[5] > 0) == 0


async def test_connections_are_capped_and_waiters_served(
    demo_server: RunningServer, make_plan: MakePlan
):
    client = make_client(make_plan(f"{demo_server.url}/delay/20"), max_connections=2)
    results = await asyncio.gather(*(client.request(0, False) for _ in range(6)))
    await client.aclose()
    assert [r[0] for r in results] == [200] * 6
    assert sum(1 for r in results if r[5] > 0) == 2


async def test_want_body_returns_the_body(demo_server: RunningServer, make_plan: MakePlan):
    client = make_client(make_plan(f"{demo_server.url}/json"), max_connections=1)
    status, _, _, _, _, _, _, _, body = await client.request(0, True)
    await client.aclose()
    assert status == 200
    assert body is not None and b'"name": "deli"' in body


async def test_post_body_is_sent_and_echoed(demo_server: RunningServer, make_plan: MakePlan):
    payload = b'{"hello": "world", "n": 1}'
    plan = make_plan(("POST", f"{demo_server.url}/echo", payload))
    client = make_client(plan, max_connections=1)
    status, _, _, _, bytes_out, _, _, _, body = await client.request(0, True)
    await client.aclose()
    assert status == 200
    assert body == payload
    assert bytes_out > len(payload)


async def test_head_request_completes_without_a_body(
    demo_server: RunningServer, make_plan: MakePlan
):
    plan = make_plan(("HEAD", f"{demo_server.url}/bytes/1000", b""), f"{demo_server.url}/")
    client = make_client(plan, max_connections=1)
    head = await client.request(0, True)
    again = await client.request(0, False)
    after = await client.request(1, True)  # the same connection still parses correctly
    await client.aclose()
    assert head[0] == 200 and head[8] == b""
    assert again[:2] == (200, 0) and again[5] == 0
    assert after[0] == 200 and after[8] == b"ok\n" and after[5] == 0


async def test_chunked_eof_delimited_and_informational_responses(
    faults: RunningServer, make_plan: MakePlan
):
    plan = make_plan(
        f"{faults.url}/chunked", f"{faults.url}/eof", f"{faults.url}/continue",
        f"{faults.url}/connclose", f"{faults.url}/ok",
    )  # fmt: skip
    client = make_client(plan, max_connections=2)
    bodies = [await client.request(i, True) for i in range(5)]
    await client.aclose()
    assert [(r[0], r[1], r[8]) for r in bodies] == [
        (200, 0, b"hello world"),
        (200, 0, b"until the end"),
        (200, 0, b"after\n"),
        (200, 0, b"bye\n"),
        (200, 0, b"ok\n"),
    ]
    assert bodies[4][5] > 0  # Connection: close forced a new connection


async def test_https_with_a_trusted_ca(
    h2_tls_server: RunningServer, tls_files: dict[str, str], make_plan: MakePlan
):
    client = make_client(
        make_plan(f"{h2_tls_server.url}/json"), max_connections=2, ca_file=tls_files["ca"]
    )
    first = await client.request(0, True)
    second = await client.request(0, False)
    await client.aclose()
    assert first[:2] == (200, 0)
    assert first[5] > 0 and first[6] > 0  # connect and TLS handshake timed separately
    assert second[5] == 0 and second[6] == 0
    assert first[8] is not None and b"deli" in first[8]


async def test_ca_bundle_from_the_environment(
    h2_tls_server: RunningServer, tls_files: dict[str, str], make_plan: MakePlan, monkeypatch
):
    monkeypatch.setenv("DELI_CA_BUNDLE", tls_files["ca"])
    client = make_client(make_plan(f"{h2_tls_server.url}/"), max_connections=1)
    result = await client.request(0, False)
    await client.aclose()
    assert result[:2] == (200, 0)


async def test_stale_keep_alive_connection_is_retried_on_a_new_one(
    faults: RunningServer, make_plan: MakePlan
):
    plan = make_plan(f"{faults.url}/then-close", f"{faults.url}/ok")
    client = make_client(plan, max_connections=2)
    first = await client.request(0, False)
    second = await client.request(1, True)  # its connection is closed unanswered: sent again
    await client.aclose()
    assert first[:2] == (200, 0)
    assert second[:2] == (200, 0) and second[8] == b"ok\n"
    assert second[5] > 0  # on a fresh connection


async def test_ssl_cert_file_is_honoured(
    h2_tls_server: RunningServer, tls_files: dict[str, str], make_plan: MakePlan, monkeypatch
):
    monkeypatch.delenv("DELI_CA_BUNDLE", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", tls_files["ca"])
    client = make_client(make_plan(f"{h2_tls_server.url}/"), max_connections=1)
    result = await client.request(0, False)
    await client.aclose()
    assert result[:2] == (200, 0)


async def test_connection_cap_is_shared_across_hosts(
    demo_server: RunningServer, faults: RunningServer, make_plan: MakePlan
):
    client = make_client(make_plan(f"{demo_server.url}/", f"{faults.url}/ok"), max_connections=1)
    results = [await client.request(i % 2, False) for i in range(4)]
    both = await asyncio.wait_for(
        asyncio.gather(client.request(0, False), client.request(1, False)), 10
    )
    await client.aclose()
    assert [r[:2] for r in results + list(both)] == [(200, 0)] * 6
    assert all(r[5] > 0 for r in results)  # each switch closed the other host's idle connection
    assert client.open <= 1  # type: ignore[attr-defined]


def test_a_wait_for_a_connection_past_its_timeout_is_a_timeout_under_uvloop(
    demo_server: RunningServer, make_plan: MakePlan
):
    """At the cap, a request that waits for a connection past its timeout gets a timeout
    result, never a cancellation. The workers run uvloop, whose timers can fire while
    ``loop.time()`` (kept in whole ms) still reads just short of the deadline: a timeout
    of 10.2 ms waits 10 ms."""
    url = demo_server.url
    plan = make_plan(f"{url}/", f"{url}/delay/10000", f"{url}/", timeout_s=30.0)
    outcomes = outcomes_past_the_slot_deadline(plan)
    expected = (ERR_TIMEOUT, "timed out after 0.0102 s waiting for a connection")
    assert outcomes == [expected] * 30


async def test_start_calls_back_once_later_with_the_end_time(
    demo_server: RunningServer, make_plan: MakePlan
):
    """The load models' path: on_done(result, end_ns) comes exactly once per send, never from
    inside start(), with end_ns after the send; also on reused connections and when sends
    outnumber connections."""
    client = make_client(make_plan(f"{demo_server.url}/delay/5"), max_connections=3)
    loop = asyncio.get_running_loop()
    calls: list[tuple[int, int, int]] = []
    inside_start = [False]
    finished = loop.create_future()
    total = 12

    def send(n: int) -> None:
        t0 = perf_counter_ns()

        def on_done(result: tuple, end_ns: int) -> None:
            assert not inside_start[0]
            calls.append((n, result[0], end_ns - t0))
            if len(calls) == total:
                finished.set_result(None)

        inside_start[0] = True
        client.start(0, False, on_done)
        inside_start[0] = False

    for n in range(6):  # 6 sends on 3 connections: 3 wait for a free one
        send(n)
    while len(calls) < 6:
        await asyncio.sleep(0.01)
    for n in range(6, total):  # now on reused connections (the fast path)
        send(n)
    await asyncio.wait_for(finished, 10)
    await client.aclose()
    assert sorted(n for n, _, _ in calls) == list(range(total))
    assert all(status == 200 for _, status, _ in calls)
    assert all(elapsed >= 5_000_000 for _, _, elapsed in calls)  # /delay/5 holds 5 ms


async def test_a_request_cancelled_by_its_caller_leaves_the_connection_usable(
    demo_server: RunningServer, make_plan: MakePlan
):
    client = make_client(make_plan(f"{demo_server.url}/delay/50"), max_connections=1)
    pending = asyncio.ensure_future(client.request(0, False))
    await asyncio.sleep(0.01)
    pending.cancel()
    result = await asyncio.wait_for(client.request(0, False), 10)
    await client.aclose()
    assert result[0] == 200
    assert result[5] == 0  # the same connection, reused


async def test_warm_opens_idle_connections_within_the_cap(
    demo_server: RunningServer, make_plan: MakePlan
):
    client = make_client(make_plan(f"{demo_server.url}/delay/20"), max_connections=3)
    assert isinstance(client, Http1Client)
    await client.warm(5)  # asks for more than the cap: gets 3
    results = await asyncio.gather(*(client.request(0, False) for _ in range(4)))
    await client.aclose()
    assert all(r[0] == 200 for r in results)
    assert [r[5] for r in results[:3]] == [0, 0, 0]  # no connect: the warmed ones
    assert client.open <= 3


async def test_connections_idle_past_the_expiry_are_closed(
    demo_server: RunningServer, make_plan: MakePlan
):
    """After a burst the pool shrinks back: idle connections past idle_expiry_ns are closed
    by the sweep (the longest idle first), and the next request opens a fresh one."""
    client = make_client(make_plan(f"{demo_server.url}/delay/20"), max_connections=4)
    assert isinstance(client, Http1Client)
    client.idle_expiry_ns = 200_000_000
    burst = await asyncio.gather(*(client.request(0, False) for _ in range(4)))
    assert client.open == 4
    deadline = asyncio.get_running_loop().time() + 10
    while client.open and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    assert client.open == 0
    again = await client.request(0, False)
    await client.aclose()
    assert all(r[0] == 200 for r in [*burst, again])
    assert again[5] > 0  # connected anew


async def test_a_flow_send_on_a_stale_connection_is_retried_with_its_own_filled_bytes(
    faults: RunningServer, make_plan: MakePlan
) -> None:
    """The retry sends the same filled request: were the template's display text sent
    instead, the server would answer 404 to ``/{{route}}``."""
    from dataclasses import replace

    from engine.plan.template import PATH, RequestTemplate

    plan = make_plan(f"{faults.url}/then-close", f"{faults.url}/%7B%7Broute%7D%7D")
    flow_request = replace(
        plan.requests[1], template=RequestTemplate(target=(b"/", (1, PATH)), headers=(), body=())
    )
    plan = replace(plan, requests=(plan.requests[0], flow_request))
    client = make_client(plan, max_connections=2)
    first = await client.request(0, False)
    headers: list[tuple[bytes, bytes]] = []
    done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
    client.start_with(1, ["", "ok"], True, headers, lambda result, end: done.set_result(result))
    second = await done
    await client.aclose()
    assert first[:2] == (200, 0)
    assert second[:2] == (200, 0) and second[8] == b"ok\n"
    assert second[5] > 0  # on a fresh connection
    assert headers == [(b"Content-Length", b"3")]  # the response's, once
