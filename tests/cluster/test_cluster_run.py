"""Runs on a two-node Ray cluster on this machine: the supervisor merges the actors' windows
into one run whose counts the server confirms; a worker lost mid-run is reported and the run
goes on; commands from an attached viewer reach every actor."""

from __future__ import annotations

import math
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from engine.metrics.ring import ResultRing
from engine.plan.model import Check, RunPlan
from engine.reports.html_report import html_report
from engine.reports.json_report import summary_dict
from engine.reports.summary import summary_table
from engine.run.attach import AttachHandle
from engine.run.process import EngineHandle
from engine.run.protocol import (
    Adjust,
    EngineError,
    Finished,
    LatencyStats,
    Message,
    Snapshot,
    Start,
    Stop,
)
from tests.cluster.conftest import CountingApp, settle
from tests.engine.run.test_process import make_plan, receive_until
from tests.servers.asgi import RunningServer

SAFETY_S = 90.0  # only a hang reaches it
SECRET = "s3cret-t0ken"  # travels to the actors in the plan only
HISTOGRAM_ERROR = 0.01  # a bucket's midpoint is within 0.8% of any value in it


def cluster_plan(
    server: RunningServer,
    address: str | None,
    *,
    path: str = "/json",
    users: int = 4,
    duration_s: float = 30.0,
    iterations: int | None = None,
    workers: int = 2,
) -> RunPlan:
    """The engine tests' plan for ``server``, on the cluster at ``address``, sending a secret."""
    plan = make_plan(
        server,
        users=users,
        duration_s=duration_s,
        iterations=iterations,
        workers=workers,
        path=path,
    )
    request = plan.requests[0]
    request = replace(request, headers=(*request.headers, ("authorization", f"Bearer {SECRET}")))
    return replace(plan, requests=(request,), cluster=address, redact_values=(SECRET,))


def run_until(
    engine: EngineHandle | AttachHandle,
    done: Callable[[Message], bool],
    timeout: float = SAFETY_S,
) -> list[Message]:
    return receive_until(engine, done, timeout)  # type: ignore[arg-type]


def run_to_the_end(plan: RunPlan) -> Finished:
    with EngineHandle.start() as engine:
        engine.send(Start(plan))
        last = run_until(engine, lambda m: isinstance(m, Finished))[-1]
    assert isinstance(last, Finished)
    return last


def exact_percentile_us(values: list[int], q: float) -> int:
    """Nearest-rank percentile of raw samples."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def assert_within_histogram_error(stats: LatencyStats, raw_us: list[int]) -> None:
    for q, got_ms in ((50, stats.p50_ms), (90, stats.p90_ms), (99, stats.p99_ms)):
        want_us = exact_percentile_us(raw_us, q)
        assert abs(got_ms * 1000 - want_us) <= want_us * HISTOGRAM_ERROR + 1, (q, got_ms, want_us)


@pytest.fixture
def server(counting_server: tuple[RunningServer, CountingApp]) -> RunningServer:
    return counting_server[0]


def test_two_node_run_counts_what_the_server_counts_and_its_percentiles_are_the_raw_ones(
    ray_cluster: str, counting_server: tuple[RunningServer, CountingApp]
) -> None:
    server, app = counting_server
    finished = run_to_the_end(cluster_plan(server, ray_cluster, iterations=150))
    settle()
    snap = finished.snapshot
    assert finished.passed, finished.reason
    assert snap.requests == 4 * 150 == app.count
    workers = snap.workers
    assert [w.state for w in workers] == ["done", "done"]
    assert len({w.node for w in workers}) == 2, "one worker on each node"
    assert sum(w.requests for w in workers) == snap.requests
    assert all(w.clock_offset_ms is not None for w in workers)
    # the same machine: one monotonic clock, so the estimate is the round trip's asymmetry
    assert all(abs(w.clock_offset_ms or 0.0) < 1000.0 for w in workers)
    rings = [ResultRing.from_columns(columns) for columns in finished.results]
    raw_us = [row.latency_us for ring in rings for row in ring.rows()]
    assert len(raw_us) == snap.requests
    assert_within_histogram_error(snap.latency, raw_us)


def test_what_the_actors_send_back_is_redacted(ray_cluster: str, server: RunningServer) -> None:
    """A check that fails quoting a secret: its message comes back from the actors, in the
    snapshot's error samples and the raw results, with the secret hidden."""
    plan = cluster_plan(server, ray_cluster, users=2, iterations=5)
    checked = replace(plan.requests[0], checks=(Check("body_contains", SECRET),))
    finished = run_to_the_end(replace(plan, requests=(checked,)))
    snap = finished.snapshot
    assert dict(snap.errors) == {"check": 10}
    messages = [e.message for e in snap.recent_errors]
    rings = [ResultRing.from_columns(columns) for columns in finished.results]
    messages += [row.message for ring in rings for row in ring.rows()]
    assert len(messages) == 20 and all("body does not contain" in m for m in messages)
    assert not any(SECRET in m for m in messages), messages[:2]


def test_cluster_percentiles_match_a_local_run_of_the_same_scenario(
    ray_cluster: str, counting_server: tuple[RunningServer, CountingApp]
) -> None:
    """Two runs measure two sets of latencies, so they are compared where the server's 50 ms
    delay dominates: alike within the histogram's error plus this machine's scheduling
    jitter (a few ms). That each run's figures are its raw samples' is checked exactly."""
    server, _ = counting_server
    plan = cluster_plan(server, ray_cluster, path="/delay/50", users=4, iterations=20)
    on_cluster, local = run_to_the_end(plan), run_to_the_end(replace(plan, cluster=None))
    for finished in (on_cluster, local):
        assert finished.snapshot.requests == 80
        rings = [ResultRing.from_columns(columns) for columns in finished.results]
        assert_within_histogram_error(
            finished.snapshot.latency, [row.latency_us for ring in rings for row in ring.rows()]
        )
    a, b = on_cluster.snapshot.latency.p50_ms, local.snapshot.latency.p50_ms
    assert min(a, b) >= 50.0 and abs(a - b) <= max(a, b) * HISTOGRAM_ERROR + 5.0, (a, b)


def actor_processes() -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if cmdline and cmdline[0].startswith("ray::WorkerActor"):
            found.append(process)
    return found


def test_a_worker_killed_mid_run_is_reported_and_the_run_finishes_with_its_figures_kept(
    ray_cluster: str, counting_server: tuple[RunningServer, CountingApp]
) -> None:
    server, app = counting_server
    plan = cluster_plan(server, ray_cluster, users=2, duration_s=4.0)
    with EngineHandle.start() as engine:
        engine.send(Start(plan))
        run_until(engine, lambda m: isinstance(m, Snapshot) and m.elapsed_s > 1.5)
        victims = actor_processes()
        assert len(victims) == 2
        victims[0].send_signal(signal.SIGKILL)
        messages = run_until(engine, lambda m: isinstance(m, Finished))
    finished = messages[-1]
    assert isinstance(finished, Finished)
    snap = finished.snapshot
    lost = snap.lost_workers
    assert len(lost) == 1
    assert lost[0].requests > 0, "what it measured before it died is kept"
    assert lost[0].lost_at_s is not None and 1.0 < lost[0].lost_at_s < 4.0
    survivor = next(w for w in snap.workers if w.state != "lost")
    assert survivor.state == "done" and survivor.requests > lost[0].requests
    assert snap.requests == sum(w.requests for w in snap.workers)
    assert snap.requests <= app.count, "nothing counted that the server did not see"
    assert not finished.passed
    assert "1 of 2 worker(s) lost" in finished.reason
    assert snap.elapsed_s >= 3.5, "the run went on to its end"
    reported = [m for m in messages if isinstance(m, EngineError)]
    assert any("lost" in m.message and not m.fatal for m in reported)
    assert all(SECRET not in m.message for m in reported)
    table = summary_table(snap, finished.passed, finished.reason)
    assert "lost workers (1 of 2)" in table and f"worker {lost[0].worker_id} on" in table
    document = summary_dict(snap, finished.passed, finished.reason)
    assert [w["state"] for w in document["workers"]].count("lost") == 1
    assert "<h2>Workers</h2>" in html_report(snap, finished.passed, finished.reason)


def test_adjust_and_stop_from_an_attached_viewer_reach_every_actor(
    ray_cluster: str, server: RunningServer, tmp_path: Path
) -> None:
    socket_path = str(tmp_path / "run.sock")
    plan = cluster_plan(server, ray_cluster, users=2, duration_s=30.0)
    with EngineHandle.start(listen=socket_path) as engine:
        engine.send(Start(plan))
        run_until(engine, lambda m: isinstance(m, Snapshot) and m.active_users == 2)
        with AttachHandle.connect(socket_path) as viewer:
            viewer.send(Adjust(users=6))
            seen = run_until(viewer, lambda m: isinstance(m, Snapshot) and m.active_users == 6)
            last = seen[-1]
            assert isinstance(last, Snapshot)
            assert [w.load for w in last.workers] == [3.0, 3.0]
            viewer.send(Stop())
            finished = run_until(viewer, lambda m: isinstance(m, Finished))[-1]
        assert isinstance(finished, Finished)
        assert finished.reason == "stopped"
        assert [w.state for w in finished.snapshot.workers] == ["done", "done"]
        run_until(engine, lambda m: isinstance(m, Finished))


@pytest.fixture(autouse=True)
def _no_actor_outlives_a_test() -> Iterator[None]:
    yield
    deadline = time.monotonic() + 15.0
    while actor_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not actor_processes(), "a worker actor outlived its run"
    assert os.getpid()  # the test process itself is no Ray driver
