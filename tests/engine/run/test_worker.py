"""The worker: closed and open load models against real servers, result classification,
live control, and the worker process on a pipe (windows, done, no orphan)."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace

import psutil
import pytest

from engine.metrics.histogram import percentile_us
from engine.metrics.ring import ResultRing
from engine.metrics.window import WindowData
from engine.plan.model import Check, LoadProfile, PreparedRequest, RunPlan, Stage
from engine.results import ERR_CHECK, ERR_HTTP_STATUS, ERR_NONE, ERR_TIMEOUT
from engine.run.protocol import Adjust, Stop
from engine.run.worker import run_load, worker_main
from engine.run.worker_protocol import WorkerDone, WorkerFailed, WorkerLog, WorkerWindow
from tests.servers.asgi import RunningServer

SAFETY_S = 30.0  # an upper bound on any single run, never a speed assertion


@pytest.fixture(scope="module")
def demo() -> Iterator[RunningServer]:
    """The demo app over HTTP/1.1 with TCP_NODELAY on accepted sockets.

    The shared ``demo_server`` binds a socket with proto 0, so asyncio does not set
    TCP_NODELAY on accepted connections and every response waits ~40 ms for a delayed ACK
    (uvicorn writes head and body separately); timing tests need the real server speed.
    """
    import uvicorn

    from deli_tui.demo_server import DemoApp

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    config = uvicorn.Config(DemoApp(), log_level="error", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    deadline = time.monotonic() + SAFETY_S
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "demo server did not start"
        time.sleep(0.01)
    try:
        yield RunningServer("127.0.0.1", sock.getsockname()[1], "http")
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _request(
    server: RunningServer,
    target: str,
    name: str = "",
    checks: tuple[Check, ...] = (),
    timeout_s: float = 5.0,
) -> PreparedRequest:
    return PreparedRequest(
        name=name or target,
        method="GET",
        url=server.url + target,
        scheme="http",
        host=server.host,
        port=server.port,
        target=target,
        headers=(),
        timeout_s=timeout_s,
        checks=checks,
    )


def _plan(
    requests: Sequence[PreparedRequest],
    model: str,
    stages: Sequence[tuple[float, float]],
    start: float | None = None,
    **profile: object,
) -> RunPlan:
    first = stages[0][1]
    return RunPlan(
        collection_name="worker tests",
        scenario_name="default",
        base_url=requests[0].url,
        requests=tuple(requests),
        profile=LoadProfile(
            model=model,  # type: ignore[arg-type]
            stages=tuple(Stage(d, t) for d, t in stages),
            start_target=first if start is None else start,
            **profile,  # type: ignore[arg-type]
        ),
    )


async def _run(
    plan: RunPlan, control: asyncio.Queue[object] | None = None
) -> tuple[list[WindowData], ResultRing, str]:
    windows: list[WindowData] = []
    final, ring, reason = await asyncio.wait_for(
        run_load(plan, 0, 1, time.monotonic() + 0.05, windows.append, control), SAFETY_S
    )
    if final is not None:
        windows.append(final)
    return windows, ring, reason


def _total(windows: Sequence[WindowData], attr: str = "requests") -> int:
    return sum(getattr(w, attr) for w in windows)


def _p99(values: Sequence[int]) -> int:
    ordered = sorted(values)
    return ordered[max(0, -(-99 * len(ordered) // 100) - 1)]


# --- closed model ---------------------------------------------------------------------------


async def test_closed_model_runs_exactly_users_times_iterations_times_flow(
    demo: RunningServer,
) -> None:
    reqs = [_request(demo, "/"), _request(demo, "/json")]
    plan = _plan(reqs, "closed", [(SAFETY_S, 4)], iterations=3)
    windows, ring, reason = await _run(plan)
    assert reason == "iterations done"
    assert _total(windows) == 4 * 3 * 2 == ring.count
    per_request = [sum(w.per_request[i].requests for w in windows if w.per_request) for i in (0, 1)]
    assert per_request == [12, 12]
    assert {row.error for row in ring.rows()} == {ERR_NONE}


@pytest.mark.parametrize("client", ["fast", "httpx"])
async def test_windows_carry_the_connections_the_client_opened(
    demo: RunningServer, client: str
) -> None:
    """Every client reports its connections the same way: in the closed model each one is
    opened by a request, so the windows' count equals the requests that paid a connect."""
    plan = _plan([_request(demo, "/")], "closed", [(SAFETY_S, 3)], iterations=4)
    plan = replace(plan, client=client)  # type: ignore[arg-type]
    windows, _, _ = await _run(plan)
    opened = sum(w.new_connections for w in windows)
    paid = sum(c for w in windows for _, c in w.connect_hist)
    assert 1 <= opened == paid <= 3


async def test_closed_model_think_time_bounds_each_users_pace(demo: RunningServer) -> None:
    plan = _plan([_request(demo, "/")], "closed", [(1.0, 2)], think_time_s=(0.2, 0.2))
    windows, _, reason = await _run(plan)
    assert reason == "completed"
    # 1 s with 0.2 s thinking after each request: at most 6 requests per user, at least 2
    assert 2 * 2 <= _total(windows) <= 2 * 6


async def test_closed_model_follows_a_ramp_and_reports_users(demo: RunningServer) -> None:
    plan = _plan([_request(demo, "/")], "closed", [(1.0, 6), (1.0, 6)], start=0)
    windows, _, _ = await _run(plan)
    assert max(w.active_users for w in windows) == 6
    assert windows[0].target_users < 6
    assert max(w.stage_index for w in windows) >= 1


async def test_workers_split_the_load_between_them(demo: RunningServer) -> None:
    """Each worker computes its own share: 5 users split 3 + 2, and two halves of an open
    schedule add up to exactly the whole one; windows share seq and bounds."""
    closed = _plan([_request(demo, "/")], "closed", [(SAFETY_S, 5)], iterations=2)
    # 1.25 s: the run ends mid-window, not on the 1.0 s bound, where one worker could close
    # the second window as a window and the other as its final one
    opened = _plan([_request(demo, "/")], "open", [(1.25, 200)])
    for plan, totals in ((closed, [6, 4]), (opened, [125, 125])):
        start = time.monotonic() + 0.05
        windows: list[list[WindowData]] = [[], []]
        results = await asyncio.wait_for(
            asyncio.gather(*(run_load(plan, w, 2, start, windows[w].append) for w in range(2))),
            SAFETY_S,
        )
        finals = [final for final, _, _ in results if final is not None]
        assert [r.count for _, r, _ in results] == totals
        assert [_total([*windows[w], f]) for w, f in enumerate(finals)] == totals
    # the open plan ran 1.25 s: both workers closed their windows at the same shared bounds
    bounds = [[(w.seq, w.start_s, w.end_s) for w in ws] for ws in windows]
    assert bounds[0] == bounds[1] == [(0, 0.0, 0.5), (1, 0.5, 1.0)]


# --- classification -------------------------------------------------------------------------


async def test_failing_body_check_is_a_check_error(demo: RunningServer) -> None:
    check = Check("body_contains", "no such text")
    plan = _plan([_request(demo, "/", checks=(check,))], "closed", [(SAFETY_S, 2)])
    plan = _with_iterations(plan, 5)
    windows, ring, _ = await _run(plan)
    assert dict(_merged_errors(windows)) == {ERR_CHECK: 10}
    assert {row.status for row in ring.rows()} == {200}


async def test_status_503_is_an_http_status_error_with_or_without_checks(
    demo: RunningServer,
) -> None:
    reqs = [
        _request(demo, "/status/503", "plain"),
        _request(demo, "/status/503", "checked", (Check("status", (200,)),)),
        _request(demo, "/status/503", "expected", (Check("status", (503,)),)),
    ]
    plan = _with_iterations(_plan(reqs, "closed", [(SAFETY_S, 1)]), 4)
    windows, ring, _ = await _run(plan)
    by_request = {i: {row.error for row in ring.rows() if row.request == i} for i in range(3)}
    assert by_request == {0: {ERR_HTTP_STATUS}, 1: {ERR_HTTP_STATUS}, 2: {ERR_NONE}}
    assert dict(_merged_errors(windows)) == {ERR_HTTP_STATUS: 8}


def _with_iterations(plan: RunPlan, n: int) -> RunPlan:
    from dataclasses import replace

    return replace(plan, profile=replace(plan.profile, iterations=n))


def _merged_errors(windows: Sequence[WindowData]) -> list[tuple[int, int]]:
    out: dict[int, int] = {}
    for w in windows:
        for code, n in w.errors:
            out[code] = out.get(code, 0) + n
    return sorted(out.items())


# --- open model -----------------------------------------------------------------------------


async def test_open_model_sends_the_scheduled_count(demo: RunningServer) -> None:
    plan = _plan([_request(demo, "/")], "open", [(1.0, 200)], start=0)
    windows, _, reason = await _run(plan)
    assert reason == "completed"
    assert _total(windows) + _total(windows, "skipped") == 100  # area of 0 -> 200/s over 1 s
    assert _total(windows, "skipped") == 0


async def test_open_model_opens_its_first_connections_before_the_start(
    demo: RunningServer,
) -> None:
    """Given time before start_at, the open model opens connections for its first sends
    (here 200 sends x 0.005 = 1): counted as opened, paid for by no send. With no time before
    the start, every connection is opened by the send that needed it. (How many sends need a
    new connection depends on how fast the server answers, so the two runs are not compared
    with each other.)"""
    plan = _plan([_request(demo, "/")], "open", [(0.5, 400)])

    async def connections(start_in_s: float) -> tuple[int, int]:
        windows: list[WindowData] = []
        final, _, _ = await asyncio.wait_for(
            run_load(plan, 0, 1, time.monotonic() + start_in_s, windows.append), SAFETY_S
        )
        windows.append(final)  # type: ignore[arg-type]
        assert _total(windows) == 200
        opened = sum(w.new_connections for w in windows)
        paid = sum(c for w in windows for _, c in w.connect_hist)
        return opened, paid

    opened, paid = await connections(0.5)
    assert opened - paid >= 1  # the warm ones
    opened, paid = await connections(-0.01)
    assert opened == paid >= 1  # the first send had to connect


async def test_open_model_latency_from_intended_time_exposes_a_stall(
    demo: RunningServer,
) -> None:
    """Coordinated omission: one slot, every 150th request stalls 150 ms. Service time hides
    the stall (under 1% of requests); latency from the intended send time does not."""
    stall = _request(demo, "/stall?every=150&ms=150")
    plan = _plan([stall], "open", [(2.0, 300)], max_in_flight=1)
    windows, ring, _ = await _run(plan)
    rows = list(ring.rows())
    assert len(rows) + _total(windows, "skipped") == 600
    corrected = _p99([r.latency_us for r in rows])
    service = _p99([r.service_us for r in rows])
    assert corrected >= 50_000
    assert corrected > 5 * service
    # the windows carry the same picture, and the lag histogram shows sends started late
    latency_hist = _hist(windows, "latency_hist")
    service_hist = _hist(windows, "service_hist")
    corrected_hist_p99 = percentile_us(latency_hist, 99)
    service_hist_p99 = percentile_us(service_hist, 99)
    assert corrected_hist_p99 is not None and service_hist_p99 is not None
    assert corrected_hist_p99 > 5 * service_hist_p99
    assert max(i for i, c in enumerate(_hist(windows, "lag_hist")) if c) > 0


def _hist(windows: Sequence[WindowData], attr: str) -> list[int]:
    from engine.metrics.histogram import new_counts

    counts = new_counts()
    for w in windows:
        for i, c in getattr(w, attr):
            counts[i] += c
    return counts


async def test_open_model_counts_skipped_sends_when_inflight_cap_reached(
    demo: RunningServer,
) -> None:
    slow = _request(demo, "/delay/200", timeout_s=0.3)
    plan = _plan([slow], "open", [(1.5, 100)], max_in_flight=2)
    windows, _, _ = await _run(plan)
    skipped = _total(windows, "skipped")
    assert skipped > 50  # two slots serve ~10/s of the 100/s asked
    assert _total(windows) + skipped == 150  # every intended send is accounted for


# --- live control ---------------------------------------------------------------------------


async def test_adjust_users_then_stop(demo: RunningServer) -> None:
    plan = _plan([_request(demo, "/delay/5")], "closed", [(SAFETY_S, 2)])
    control: asyncio.Queue[object] = asyncio.Queue()
    windows: list[WindowData] = []
    task = asyncio.create_task(run_load(plan, 0, 1, time.monotonic(), windows.append, control))
    await _until(lambda: len(windows) >= 1)
    assert windows[-1].active_users == 2
    control.put_nowait(Adjust(users=5))
    n = len(windows)
    await _until(lambda: len(windows) >= n + 2)
    assert windows[-1].active_users == 5
    assert windows[-1].target_users == 5
    control.put_nowait(Stop(graceful=True))
    final, ring, reason = await asyncio.wait_for(task, SAFETY_S)
    assert reason == "stopped"
    assert final is not None
    assert ring.count == _total([*windows, final]) > 0


@pytest.mark.parametrize(("graceful", "cut_off"), [(True, 0), (False, 3)])
async def test_stop_lets_in_flight_requests_finish_only_when_graceful(
    demo: RunningServer, graceful: bool, cut_off: int
) -> None:
    """Three users: after the first three requests, Stop. Graceful: the three in flight
    finish; immediate: they are cut off, and still counted, as timeouts saying why."""
    plan = _plan([_request(demo, "/delay/1000")], "closed", [(SAFETY_S, 3)])
    control: asyncio.Queue[object] = asyncio.Queue()
    windows: list[WindowData] = []
    task = asyncio.create_task(run_load(plan, 0, 1, time.monotonic(), windows.append, control))
    await _until(lambda: _total(windows) >= 3)  # first requests done, the second in flight
    control.put_nowait(Stop(graceful=graceful))
    final, ring, reason = await asyncio.wait_for(task, SAFETY_S)
    assert reason == "stopped"
    assert final is not None
    assert _total([*windows, final]) == ring.count == 6
    rows = list(ring.rows())
    assert sum(row.error == ERR_NONE for row in rows) == 6 - cut_off
    cut = [row for row in rows if row.error != ERR_NONE]
    assert [(row.error, row.message) for row in cut] == [
        (ERR_TIMEOUT, "cut off by an immediate stop")
    ] * cut_off


# --- requests cut off by the end of the run -------------------------------------------------

LONG = "/delay/5000"  # still running when a 0.2 s graceful stop runs out
GRACE_S = 0.2


async def test_closed_model_counts_requests_cut_off_by_the_graceful_stop(
    demo: RunningServer,
) -> None:
    """Three users each start one long request; the stage ends and the graceful stop runs
    out: all three are recorded (timeouts saying why, latency up to the cut-off)."""
    slow = _request(demo, LONG, timeout_s=SAFETY_S)
    plan = _plan([slow], "closed", [(0.3, 3)], graceful_stop_s=GRACE_S)
    windows, ring, reason = await _run(plan)
    assert reason == "completed"
    assert _total(windows) == ring.count == 3  # requests recorded == requests started
    assert dict(_merged_errors(windows)) == {ERR_TIMEOUT: 3}
    rows = list(ring.rows())
    assert {row.message for row in rows} == {"cut off by the end of the run (graceful stop 0.2 s)"}
    assert min(row.latency_us for row in rows) >= GRACE_S * 1e6  # measured to the cut-off
    samples = [s for w in windows for s in w.error_samples]
    assert samples and {s.error_class for s in samples} == {"timeout"}


@pytest.mark.parametrize("max_in_flight", [1000, 4])
async def test_open_model_counts_every_intended_send_when_cut_off(
    demo: RunningServer, max_in_flight: int
) -> None:
    """20/s for 0.5 s is exactly 10 intended sends of a long request: each is either
    recorded (cut off at the end, a timeout) or skipped (still queued for a slot)."""
    slow = _request(demo, LONG, timeout_s=SAFETY_S)
    plan = _plan([slow], "open", [(0.5, 20)], max_in_flight=max_in_flight, graceful_stop_s=GRACE_S)
    windows, ring, reason = await _run(plan)
    assert reason == "completed"
    started = min(max_in_flight, 10)
    assert _total(windows) == ring.count == started
    assert _total(windows, "skipped") == 10 - started
    assert dict(_merged_errors(windows)) == {ERR_TIMEOUT: started}
    rows = list(ring.rows())
    assert {row.message for row in rows} == {"cut off by the end of the run (graceful stop 0.2 s)"}
    assert min(row.latency_us for row in rows) >= GRACE_S * 1e6


async def test_open_model_counts_sends_cut_off_by_an_immediate_stop(
    demo: RunningServer,
) -> None:
    slow = _request(demo, LONG, timeout_s=SAFETY_S)
    plan = _plan([slow], "open", [(SAFETY_S, 20)], max_in_flight=3)
    control: asyncio.Queue[object] = asyncio.Queue()
    windows: list[WindowData] = []
    task = asyncio.create_task(run_load(plan, 0, 1, time.monotonic(), windows.append, control))
    await _until(lambda: len(windows) >= 1)  # 10 sends due: 3 in flight, the rest queued
    control.put_nowait(Stop(graceful=False))
    final, ring, reason = await asyncio.wait_for(task, SAFETY_S)
    assert reason == "stopped"
    assert final is not None
    everything = [*windows, final]
    assert _total(everything) == ring.count == 3  # the three slots' sends, cut off
    assert {(row.error, row.message) for row in ring.rows()} == {
        (ERR_TIMEOUT, "cut off by an immediate stop")
    }
    assert _total(everything, "skipped") >= 1  # the queued ones, counted as skipped


async def test_a_failed_run_still_reports_the_requests_it_cut_off(demo: RunningServer) -> None:
    """The first window cannot be delivered: the run fails, and its two in-flight requests
    are cut off and reported in a last window before the failure is raised."""
    slow = _request(demo, LONG, timeout_s=SAFETY_S)
    plan = _plan([slow], "closed", [(SAFETY_S, 2)])
    delivered: list[WindowData] = []

    def on_window(window: WindowData) -> None:
        if not delivered and window.requests == 0:
            delivered.append(window)
            raise RuntimeError("the window pipe is gone")
        delivered.append(window)

    with pytest.raises(RuntimeError, match="the window pipe is gone"):
        await asyncio.wait_for(run_load(plan, 0, 1, time.monotonic(), on_window), SAFETY_S)
    assert _total(delivered) == 2
    assert dict(_merged_errors(delivered)) == {ERR_TIMEOUT: 2}
    assert {s.message for w in delivered for s in w.error_samples} == {"cut off: the run failed"}


async def test_adjust_rate_changes_the_open_schedule(demo: RunningServer) -> None:
    plan = _plan([_request(demo, "/")], "open", [(SAFETY_S, 20)])
    control: asyncio.Queue[object] = asyncio.Queue()
    windows: list[WindowData] = []
    task = asyncio.create_task(run_load(plan, 0, 1, time.monotonic(), windows.append, control))
    await _until(lambda: len(windows) >= 2)
    assert windows[-1].requests <= 15  # 20/s: 10 a window
    control.put_nowait(Adjust(rate=400.0))
    n = len(windows)
    await _until(lambda: len(windows) >= n + 3)
    assert windows[-1].target_rate == pytest.approx(400.0)
    assert windows[-1].requests >= 150  # 400/s: 200 a window
    control.put_nowait(Stop(graceful=False))
    _, _, reason = await asyncio.wait_for(task, SAFETY_S)
    assert reason == "stopped"


async def _until(condition: object, timeout: float = SAFETY_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached before the safety bound"
        await asyncio.sleep(0.02)


# --- the worker process ---------------------------------------------------------------------


def test_worker_process_streams_windows_then_done_and_exits(demo: RunningServer) -> None:
    ctx = multiprocessing.get_context("spawn")
    parent_end, child_end = ctx.Pipe()
    plan = _plan([_request(demo, "/")], "open", [(1.6, 100)])
    start_at = time.monotonic() + 1.0
    proc = ctx.Process(target=worker_main, args=(child_end, 0, 1, plan, start_at), daemon=True)
    proc.start()
    child_end.close()
    windows: list[WindowData] = []
    done = None
    deadline = time.monotonic() + SAFETY_S
    while done is None and time.monotonic() < deadline:
        if parent_end.poll(0.1):
            message = parent_end.recv()
            if isinstance(message, WorkerWindow):
                windows.append(message.window)
            elif not isinstance(message, WorkerLog):
                done = message
    proc.join(SAFETY_S)
    assert isinstance(done, WorkerDone), done
    assert done.reason == "completed"
    assert len(windows) >= 2  # closed at 0.5, 1.0 and 1.5 s; the last may race the end
    assert [w.seq for w in windows] == list(range(len(windows)))
    final = [done.final] if done.final else []
    assert _total([*windows, *final]) == 160
    assert ResultRing.from_columns(done.results or {}).count == 160
    assert proc.exitcode == 0


def test_worker_process_sends_a_large_result_ring_whole(demo: RunningServer) -> None:
    """10,000 results are ~250 KB of columns, more than a socket buffer holds at once."""
    ctx = multiprocessing.get_context("spawn")
    parent_end, child_end = ctx.Pipe()
    plan = _plan([_request(demo, "/")], "closed", [(SAFETY_S, 10)], iterations=1000)
    proc = ctx.Process(
        target=worker_main, args=(child_end, 0, 1, plan, time.monotonic() + 0.5), daemon=True
    )
    proc.start()
    child_end.close()
    done = None
    deadline = time.monotonic() + SAFETY_S * 2
    while done is None and time.monotonic() < deadline:
        if parent_end.poll(0.1):
            message = parent_end.recv()
            if not isinstance(message, (WorkerWindow, WorkerLog)):
                done = message
    proc.join(SAFETY_S)
    assert isinstance(done, WorkerDone), done
    assert done.reason == "iterations done"
    assert ResultRing.from_columns(done.results or {}).count == 10_000


def test_worker_process_reports_a_failure_and_exits(demo: RunningServer) -> None:
    from dataclasses import replace

    ctx = multiprocessing.get_context("spawn")
    parent_end, child_end = ctx.Pipe()
    plan = replace(_plan([_request(demo, "/")], "closed", [(SAFETY_S, 1)]), requests=())
    proc = ctx.Process(target=worker_main, args=(child_end, 0, 1, plan, time.monotonic()))
    proc.start()
    child_end.close()
    message: object = None
    while message is None or isinstance(message, WorkerLog):
        assert parent_end.poll(SAFETY_S)
        message = parent_end.recv()
    proc.join(SAFETY_S)
    assert isinstance(message, WorkerFailed)
    assert "at least one request" in message.message
    assert proc.exitcode == 0


def _spawn_worker_and_wait(url_host: str, port: int, report: object) -> None:
    """An intermediate parent: starts a long-running worker, reports its pid, then waits."""
    server = RunningServer(url_host, port, "http")
    ctx = multiprocessing.get_context("spawn")
    parent_end, child_end = ctx.Pipe()
    plan = _plan([_request(server, "/")], "open", [(SAFETY_S * 2, 20)])
    proc = ctx.Process(target=worker_main, args=(child_end, 0, 1, plan, time.monotonic()))
    proc.start()
    deadline = time.monotonic() + SAFETY_S
    while time.monotonic() < deadline:  # report once the worker is up and sending
        if parent_end.poll(0.1) and isinstance(parent_end.recv(), WorkerWindow):
            break
    report.send(proc.pid)  # type: ignore[attr-defined]
    while True:
        parent_end.poll(1.0)
        with_messages = parent_end.poll(0)
        if with_messages:
            parent_end.recv()


def test_worker_exits_when_its_parent_dies(demo: RunningServer) -> None:
    ctx = multiprocessing.get_context("spawn")
    report_r, report_w = ctx.Pipe(duplex=False)
    parent = ctx.Process(target=_spawn_worker_and_wait, args=(demo.host, demo.port, report_w))
    parent.start()
    assert report_r.poll(SAFETY_S), "the worker was not started"
    worker_pid = report_r.recv()
    worker = psutil.Process(worker_pid)
    assert worker.is_running()  # and it has sent its first window
    assert parent.pid is not None
    os.kill(parent.pid, signal.SIGKILL)
    parent.join(SAFETY_S)
    gone, alive = psutil.wait_procs([worker], timeout=10)
    assert not alive, "the worker outlived its parent"
    assert [p.pid for p in gone] == [worker_pid]
