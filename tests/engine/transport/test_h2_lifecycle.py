"""HTTP/2 connections ending as real servers end them (GOAWAY, REFUSED_STREAM, a lowered stream
limit, a close with streams open), driven by the worker's closed model: the run's totals
equal the server's own counts, and what the server never processed is sent again, not lost."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import replace

from engine.metrics.ring import ResultRing
from engine.plan.model import LoadProfile, Stage
from engine.results import ERR_READ, ERR_REFUSED, error_class_name
from engine.run.worker import run_load
from engine.transport.http2 import MAX_RETRIES
from tests.engine.conftest import plan_for
from tests.servers.h2_lifecycle import H2Behaviour, H2Counts, h2_lifecycle_server

SAFETY_S = 30.0  # a bound on one run, never a speed assertion


class Totals:
    """A run's counts, from its windows and its results."""

    def __init__(self, requests: int, successes: int, errors: Counter[str], ring: ResultRing):
        self.requests = requests
        self.successes = successes
        self.errors = errors
        self.messages = {row.message for row in ring.rows() if row.error}


async def run_against(behaviour: H2Behaviour, users: int = 20, seconds: float = 1.0) -> tuple:
    """Run ``users`` closed-model users over HTTP/2 for ``seconds``; (totals, server counts)."""
    with h2_lifecycle_server(behaviour) as server:
        plan = plan_for(f"{server.url}/", http2=True, timeout_s=5.0)
        profile = LoadProfile(
            model="closed", stages=(Stage(seconds, float(users)),), start_target=float(users)
        )
        plan = replace(plan, profile=profile, max_results=1_000_000)
        windows = []
        final, ring, _ = await asyncio.wait_for(
            run_load(plan, 0, 1, time.monotonic() + 0.05, windows.append), SAFETY_S
        )
        windows.append(final)
        await asyncio.sleep(0.05)  # the server thread finishes its bookkeeping
        errors: Counter[str] = Counter()
        for w in windows:
            for code, n in w.errors:
                errors[error_class_name(code)] += n
        totals = Totals(
            sum(w.requests for w in windows), sum(w.successes for w in windows), errors, ring
        )
        return totals, server.counts


async def test_goaway_every_n_requests_loses_nothing_and_every_success_is_one_the_server_sent():
    totals, server = await run_against(H2Behaviour(goaway_every=50))
    assert isinstance(server, H2Counts)
    assert server.goaways >= 3, "the run must cross several GOAWAYs"
    assert server.ignored > 0, "some streams must have gone above a GOAWAY's last stream id"
    assert totals.errors == Counter()
    assert totals.successes == totals.requests == server.answered
    # one new connection per GOAWAY, each answering exactly the requests before its GOAWAY
    assert server.connections in (server.goaways, server.goaways + 1)
    assert all(n == 50 for n in server.per_connection[: server.goaways])


async def test_refused_streams_are_sent_again_and_never_counted_as_errors():
    # one in 20 at random: a request refused on all of its 7 sends is a 1-in-20**7 event
    totals, server = await run_against(H2Behaviour(refuse_every=20))
    assert server.refused > 10
    assert totals.errors == Counter()
    assert totals.successes == totals.requests == server.answered


async def test_a_lowered_stream_limit_is_kept_and_the_streams_beyond_it_are_sent_again():
    totals, server = await run_against(
        H2Behaviour(lower_streams_after=30, lower_streams_to=4), users=20
    )
    assert server.refused > 0, "streams sent before the new limit arrived are refused"
    assert 0 < server.most_streams_after_lower <= 4
    assert totals.errors == Counter()
    assert totals.successes == totals.requests == server.answered


async def test_a_connection_closed_with_streams_open_fails_them_as_read_errors():
    totals, server = await run_against(H2Behaviour(close_after=40))
    assert server.connections >= 3 and server.dropped > 0
    assert set(totals.errors) == {error_class_name(ERR_READ)}
    assert totals.successes == server.answered
    failed = totals.requests - totals.successes
    assert totals.errors[error_class_name(ERR_READ)] == failed >= server.dropped
    assert all("closed by" in m or "reset by" in m for m in totals.messages), totals.messages


async def test_a_server_refusing_every_stream_ends_each_request_after_the_retry_limit():
    started = time.monotonic()
    totals, server = await run_against(H2Behaviour(refuse_every=1), users=5, seconds=0.5)
    assert time.monotonic() - started < SAFETY_S
    assert totals.requests > 0 and totals.successes == 0 and server.answered == 0
    assert totals.errors == Counter({error_class_name(ERR_REFUSED): totals.requests})
    assert server.refused == totals.requests * (MAX_RETRIES + 1)
    assert all(f"not processed in {MAX_RETRIES + 1} attempts" in m for m in totals.messages)
