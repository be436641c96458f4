"""The engine process as the TUI and the headless CLI use it: real supervisor, real workers,
a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import os
import re
import signal
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from engine.plan.model import LoadProfile, PreparedRequest, RunPlan, Stage
from engine.run.process import EngineHandle
from engine.run.protocol import (
    Adjust,
    EngineError,
    Finished,
    Message,
    Ping,
    Pong,
    Snapshot,
    Start,
    Stop,
)
from tests.servers.asgi import RunningServer

SAFETY_S = 60.0  # generous bound: only a hang reaches it


def engine_children(pid: int | None = None) -> list[psutil.Process]:
    """Live descendants, leaving out multiprocessing's resource tracker (shared, long-lived)."""
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                continue
            if any("resource_tracker" in part for part in child.cmdline()):
                continue
        except psutil.NoSuchProcess:
            continue
        found.append(child)
    return found


def make_plan(
    server: RunningServer,
    *,
    users: int = 2,
    duration_s: float = 20.0,
    iterations: int | None = None,
    workers: int = 1,
    path: str = "/delay/20",
    thresholds: tuple[str, ...] = (),
) -> RunPlan:
    request = PreparedRequest(
        name="delay",
        method="GET",
        url=f"{server.url}{path}",
        scheme="http",
        host=server.host,
        port=server.port,
        target=path,
        headers=(("host", f"{server.host}:{server.port}"),),
    )
    profile = LoadProfile(
        model="closed",
        stages=(Stage(duration_s, users),),
        start_target=users,
        iterations=iterations,
        graceful_stop_s=2.0,
    )
    return RunPlan(
        collection_name="test",
        scenario_name="process",
        base_url=server.url,
        requests=(request,),
        profile=profile,
        workers=workers,
        thresholds=thresholds,
    )


def receive_until(
    engine: EngineHandle, done: Callable[[Message], bool], timeout: float = SAFETY_S
) -> list[Message]:
    """Every message up to and including the first one ``done`` accepts."""
    seen: list[Message] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if engine.poll(0.1):
            message = engine.recv()
            seen.append(message)
            if done(message):
                return seen
    raise AssertionError(f"timed out; last messages: {seen[-3:]}")


def finished_in(messages: list[Message]) -> Finished:
    last = messages[-1]
    assert isinstance(last, Finished)
    return last


@pytest.fixture
def engine() -> Iterator[EngineHandle]:
    handle = EngineHandle.start()
    try:
        yield handle
    finally:
        handle.close()
    assert not engine_children(), "engine processes outlived close()"


def test_iterations_bounded_run_sends_increasing_snapshots_then_exact_finished_count(
    engine: EngineHandle, demo_server: RunningServer
) -> None:
    engine.send(Start(make_plan(demo_server, users=3, iterations=7)))
    messages = receive_until(engine, lambda m: isinstance(m, Finished))
    snapshots = [m for m in messages if isinstance(m, Snapshot)]
    assert snapshots, "no snapshot before Finished"
    seqs = [s.seq for s in snapshots]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    finished = finished_in(messages)
    assert finished.reason == "completed"
    assert finished.snapshot.requests == 21
    assert finished.snapshot.successes == 21
    assert finished.passed is True
    assert len(finished.results) == 1


def test_ping_answers_pong_while_idle(engine: EngineHandle) -> None:
    engine.send(Ping(41))
    messages = receive_until(engine, lambda m: isinstance(m, Pong), timeout=20)
    assert messages[-1] == Pong(41)


def test_adjust_users_up_mid_run_shows_more_active_users(
    engine: EngineHandle, demo_server: RunningServer
) -> None:
    engine.send(Start(make_plan(demo_server, users=1, duration_s=30)))
    receive_until(engine, lambda m: isinstance(m, Snapshot) and m.active_users == 1)
    engine.send(Adjust(users=4))
    receive_until(engine, lambda m: isinstance(m, Snapshot) and m.active_users == 4)
    engine.send(Stop())
    finished = finished_in(receive_until(engine, lambda m: isinstance(m, Finished)))
    assert finished.reason == "stopped"


def test_stop_mid_run_finishes_with_reason_stopped_and_what_was_measured(
    engine: EngineHandle, demo_server: RunningServer
) -> None:
    engine.send(Start(make_plan(demo_server, users=2, duration_s=60)))
    receive_until(engine, lambda m: isinstance(m, Snapshot) and m.requests > 0)
    engine.send(Stop())
    finished = finished_in(receive_until(engine, lambda m: isinstance(m, Finished)))
    assert finished.reason == "stopped"
    assert finished.snapshot.requests > 0
    assert finished.snapshot.elapsed_s < 30


def test_a_second_run_in_the_same_engine_works(
    engine: EngineHandle, demo_server: RunningServer
) -> None:
    for users in (1, 2):
        engine.send(Start(make_plan(demo_server, users=users, iterations=3)))
        finished = finished_in(receive_until(engine, lambda m: isinstance(m, Finished)))
        assert finished.snapshot.requests == 3 * users


def test_killed_worker_is_reported_and_run_ends_with_a_summary(
    engine: EngineHandle, demo_server: RunningServer
) -> None:
    engine.send(Start(make_plan(demo_server, users=2, duration_s=60, workers=2)))
    receive_until(engine, lambda m: isinstance(m, Snapshot) and m.requests > 0)
    workers = engine_children(engine.pid)
    assert len(workers) == 2, workers
    os.kill(workers[0].pid, signal.SIGKILL)
    messages = receive_until(engine, lambda m: isinstance(m, Finished))
    errors = [m for m in messages if isinstance(m, EngineError)]
    assert any(re.search(r"worker \d died \(exit code -9\)", e.message) for e in errors), errors
    finished = finished_in(messages)
    assert re.fullmatch(r"worker \d died \(exit code -9\)", finished.reason), finished.reason
    assert finished.snapshot.requests > 0
    assert finished.passed is False


def test_close_mid_run_leaves_no_process_behind(demo_server: RunningServer) -> None:
    handle = EngineHandle.start()
    handle.send(Start(make_plan(demo_server, users=2, duration_s=60, workers=2)))
    receive_until(handle, lambda m: isinstance(m, Snapshot) and m.requests > 0)
    assert len(engine_children()) >= 3  # supervisor + 2 workers
    handle.close()
    assert not handle.alive
    assert not engine_children()


def test_caller_that_vanishes_takes_the_engine_down(demo_server: RunningServer) -> None:
    handle = EngineHandle.start()
    handle.send(Start(make_plan(demo_server, users=1, duration_s=60)))
    receive_until(handle, lambda m: isinstance(m, Snapshot) and m.requests > 0)
    handle._conn.close()  # as if the caller crashed: its end of the pipe closes
    handle._process.join(SAFETY_S)
    assert not handle._process.is_alive()
    deadline = time.monotonic() + 10
    while engine_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not engine_children()
    handle.close()


def test_slow_reader_gets_the_newest_snapshot_not_a_backlog(
    engine: EngineHandle, demo_server: RunningServer
) -> None:
    engine.send(Start(make_plan(demo_server, users=1, duration_s=30)))
    first = receive_until(engine, lambda m: isinstance(m, Snapshot) and m.requests > 0)[-1]
    assert isinstance(first, Snapshot)
    time.sleep(3.0)  # a reader that does not read for 3 s (6 windows)
    queued: list[Snapshot] = []
    while engine.poll(0.05):
        message = engine.recv()
        if isinstance(message, Snapshot):
            queued.append(message)
        if len(queued) > 6:
            break
    assert 1 <= len(queued) <= 3, [s.elapsed_s for s in queued]
    assert queued[-1].elapsed_s - first.elapsed_s >= 2.0
    engine.send(Stop())
    receive_until(engine, lambda m: isinstance(m, Finished))


def test_sigterm_to_the_supervisor_stops_the_run_with_a_finished(
    demo_server: RunningServer,
) -> None:
    handle = EngineHandle.start()
    try:
        handle.send(Start(make_plan(demo_server, users=1, duration_s=60, workers=2)))
        receive_until(handle, lambda m: isinstance(m, Snapshot) and m.requests > 0)
        assert handle.pid is not None
        os.kill(handle.pid, signal.SIGTERM)
        finished = finished_in(receive_until(handle, lambda m: isinstance(m, Finished)))
        assert finished.reason == "stopped"
        assert finished.snapshot.requests > 0
        handle._process.join(SAFETY_S)
        assert not handle._process.is_alive()
    finally:
        handle.close()
    assert not engine_children()


def test_engine_output_can_go_to_a_private_log_file(tmp_path: Path) -> None:
    log = tmp_path / "engine.log"
    with EngineHandle.start(log_path=str(log)) as handle:
        handle.send(Ping(1))
        receive_until(handle, lambda m: isinstance(m, Pong), timeout=20)
        assert log.exists()
        assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_a_second_start_during_a_run_is_refused_and_the_run_goes_on(
    engine: EngineHandle, demo_server: RunningServer
) -> None:
    engine.send(Start(make_plan(demo_server, users=1, iterations=20)))
    receive_until(engine, lambda m: isinstance(m, Snapshot))
    engine.send(Start(make_plan(demo_server, users=1, iterations=1)))
    messages = receive_until(engine, lambda m: isinstance(m, Finished))
    refused = [m for m in messages if isinstance(m, EngineError)]
    assert refused and "already in progress" in refused[0].message
    assert not refused[0].fatal
    assert finished_in(messages).snapshot.requests == 20
