"""A worker process: drives one share of the load and sends a window of measurements per tick.

``run_load`` is the load loop (closed model: virtual users; open model: arrival schedule) and
runs in any event loop, so tests drive it in-process; ``worker_main`` is the process entry the
supervisor spawns, wrapping it with the pipe, uvloop and gc tuning. Times are
``time.perf_counter_ns()``; on Linux it reads CLOCK_MONOTONIC, the same clock as
``time.monotonic()``, so the supervisor's ``start_at`` converts to ns and windows align across
workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import random
import time
from collections.abc import Callable
from functools import partial
from multiprocessing.connection import Connection

from engine.checks import needs_body, run_checks
from engine.loadmodel import ArrivalScheduler, RequestPicker, peak_target, target_at, think_time
from engine.metrics.recorder import WindowRecorder
from engine.metrics.ring import ResultRing
from engine.metrics.window import WindowData
from engine.plan import RunPlan
from engine.protocol import Adjust, Stop
from engine.transport.base import ERR_CHECK, ERR_HTTP_STATUS, Client, Result, make_client
from engine.workerproto import WorkerDone, WorkerFailed, WorkerLog, WorkerWindow, share_of

USERS_TICK_S = 0.1  # closed model: how often the user count follows the stages
BACKLOG_MAX = 100_000
# open model: shortest sleep between batches of due sends. libuv timers tick in whole ms and
# round a shorter delay to 0, which made the scheduler wake on every loop turn to send one or
# two requests; sleeping >= 1 ms sends ~20 per wake at 20,000 req/s (lag stays under ~1 ms
# plus loop latency, and is reported per send).
BATCH_S = 0.001  # open model: most sends waiting for a free in-flight slot
# gc: freeze what setup made and collect young objects rarely. The hot path makes no cycles
# (results are tuples, records go into preallocated arrays), so few survive to be scanned.
# Measured: see GC_NOTE below and the report in benchmarks/.
GC_THRESHOLDS = (100_000, 50, 50)

LATE_START_S = 0.05  # a worker starting later than this after start_at says so

OnWindow = Callable[[WindowData], None]


class _User:
    """One virtual user (closed model)."""

    __slots__ = ("busy", "stop", "task")

    def __init__(self) -> None:
        self.busy = False
        self.stop = False
        self.task: asyncio.Task[None] | None = None


class LoadRun:
    """One worker's run of a plan: the load loop, the window clock and the control inbox."""

    def __init__(
        self,
        plan: RunPlan,
        worker_id: int,
        n_workers: int,
        start_at: float,
        client: Client,
        recorder: WindowRecorder,
        on_window: OnWindow,
        control: asyncio.Queue[object] | None,
    ) -> None:
        self.plan = plan
        self.profile = plan.profile
        self.worker_id = worker_id
        self.n_workers = n_workers
        self.start_at = start_at
        self.start_ns = int(start_at * 1e9)
        self.client = client
        self.recorder = recorder
        self.on_window = on_window
        self.control = control
        self.rng = random.Random()
        self.picker = RequestPicker(plan.requests, plan.flow, self.rng)
        self.want_body = tuple(needs_body(r.checks) for r in plan.requests)
        self.timeout_ns = tuple(int(r.timeout_s * 1e9) for r in plan.requests)
        self.max_in_flight = max(
            1, int(share_of(self.profile.max_in_flight, worker_id, n_workers, integral=True))
        )
        self.complete = self._make_complete()
        self.stopping = False
        self.graceful = True
        self.reason = ""
        self.failure: BaseException | None = None
        self._stop_event = asyncio.Event()
        self._wake: asyncio.Future[None] | None = None
        # closed model
        self.users: list[_User] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.adjusted_users: int | None = None
        self.users_done = 0
        # open model
        self.scheduler: ArrivalScheduler | None = None
        self.backlog: list[int] = []
        self.backlog_head = 0

    # --- shared -------------------------------------------------------------------------------

    def elapsed(self) -> float:
        return (time.perf_counter_ns() - self.start_ns) / 1e9

    def _make_complete(self) -> Callable[[int, Result, int, int, int, int], None]:
        """Build the per-result step (classify, then record) as a closure over locals."""
        record = self.recorder.record
        checks_of = tuple(r.checks for r in self.plan.requests)
        start_ns = self.start_ns

        def complete(
            index: int, result: Result, latency_ns: int, service_ns: int, lag_ns: int, end_ns: int
        ) -> None:
            status, err, message, b_in, b_out, conn_ns, tls_ns, ttfb_ns, body = result
            if not err:
                checks = checks_of[index]
                if checks:
                    failure = run_checks(checks, status, body)
                    if failure is not None:
                        err = ERR_HTTP_STATUS if status >= 400 else ERR_CHECK
                        message = failure
                elif status >= 400:
                    err = ERR_HTTP_STATUS
                    message = f"HTTP {status}"
            record(
                index,
                status,
                err,
                latency_ns,
                service_ns,
                lag_ns,
                b_in,
                b_out,
                conn_ns,
                tls_ns,
                ttfb_ns,
                message or None,
                (end_ns - start_ns) / 1e9,
            )

        return complete

    def stop(self, graceful: bool, reason: str = "stopped") -> None:
        """End the run: no new requests; in-flight ones finish if ``graceful``."""
        if not self.stopping:
            self.stopping = True
            self.reason = self.reason or reason
        self.graceful = self.graceful and graceful
        left = len(self.backlog) - self.backlog_head
        if left > 0:  # queued sends that will never start now
            self.recorder.skipped += left
            del self.backlog[:]
            self.backlog_head = 0
        self._stop_event.set()
        self._poke()

    def _poke(self) -> None:
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        if self.failure is None:
            self.failure = exc
        self.stop(graceful=False, reason="failed")

    async def _pause(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or less if the run is stopped or adjusted."""
        if self.stopping or delay <= 0:
            return
        loop = asyncio.get_running_loop()
        wake = self._wake = loop.create_future()
        handle = loop.call_later(delay, _resolve, wake)
        try:
            await wake
        finally:
            handle.cancel()
            self._wake = None

    async def run(self) -> tuple[WindowData | None, str]:
        """Run to the end; returns (final partial window, reason)."""
        delay = self.start_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        windows = asyncio.create_task(self._windows())
        inbox = asyncio.create_task(self._inbox()) if self.control is not None else None
        try:
            if self.profile.model == "open":
                await self._run_open()
            else:
                await self._run_closed()
            await self._drain()
        finally:
            windows.cancel()
            if inbox is not None:
                inbox.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await windows
        if self.failure is not None:
            raise self.failure
        self._update_gauges()
        end = self.elapsed()
        seq = int(end // self.plan.window_s) if end > 0 else 0
        final = self.recorder.flush(seq, seq * self.plan.window_s, max(end, 0.0))
        return final, self.reason or "completed"

    async def _windows(self) -> None:
        """Flush the recorder at every window boundary (aligned to ``start_at``)."""
        w = self.plan.window_s
        seq = 0
        while True:
            end = (seq + 1) * w
            await asyncio.sleep(max(0.0, end - self.elapsed()))
            self._update_gauges()
            try:
                self.on_window(self.recorder.flush(seq, seq * w, end))
            except Exception as exc:
                self._fail(exc)
                return
            seq += 1

    async def _inbox(self) -> None:
        """Apply commands from the supervisor (already this worker's share)."""
        assert self.control is not None
        while True:
            command = await self.control.get()
            if isinstance(command, Stop):
                self.stop(command.graceful)
            elif isinstance(command, Adjust):
                if command.users is not None and self.profile.model == "closed":
                    self.adjusted_users = max(0, int(command.users))
                    self._poke()
                if command.rate is not None and self.scheduler is not None:
                    self.scheduler.set_rate(self.elapsed(), command.rate)
                    self.recorder.target_rate = max(command.rate, 0.0)
                    self._poke()

    def _update_gauges(self) -> None:
        r = self.recorder
        t = self.elapsed()
        target, index, label = target_at(self.profile, max(t, 0.0))
        r.stage_index = index
        r.stage_label = label
        if self.profile.model == "closed":
            r.active_users = sum(1 for u in self.users if not u.stop)
            r.target_users = (
                float(self.adjusted_users)
                if self.adjusted_users is not None
                else share_of(target, self.worker_id, self.n_workers, integral=True)
            )
            r.in_flight = sum(1 for u in self.users if u.busy)
        else:
            if self.scheduler is not None and self.scheduler.end_s > t:
                seg_rate = self._scheduled_rate(t)
                r.target_rate = seg_rate
            r.in_flight = len(self.tasks)

    def _scheduled_rate(self, t: float) -> float:
        assert self.scheduler is not None
        dt = 0.05
        return (self.scheduler.integral_at(t + dt) - self.scheduler.integral_at(t)) / dt

    async def _drain(self) -> None:
        """Let in-flight requests finish (up to graceful_stop_s), then cancel the rest."""
        self.stopping = True
        for user in self.users:
            user.stop = True
            if not user.busy and user.task is not None:
                user.task.cancel()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.profile.graceful_stop_s
        pending = set(self.tasks)
        while pending and self.graceful:  # a later Stop(graceful=False) cuts the wait short
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            _, pending = await asyncio.wait(pending, timeout=min(remaining, USERS_TICK_S))
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        left = len(self.backlog) - self.backlog_head
        if left > 0:
            self.recorder.skipped += left
        self.backlog.clear()
        self.backlog_head = 0

    def _spawn(self, coro: object) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._fail(task.exception())  # type: ignore[arg-type]

    # --- closed model -------------------------------------------------------------------------

    async def _run_closed(self) -> None:
        """Follow the stages' user target every USERS_TICK_S until they end or users finish."""
        iterations = self.profile.iterations
        peak = share_of(peak_target(self.profile), self.worker_id, self.n_workers, integral=True)
        while not self.stopping:
            t = self.elapsed()
            target, index, _ = target_at(self.profile, t)
            if index >= len(self.profile.stages):
                self.reason = "completed"
                return
            if self.adjusted_users is not None:
                want = self.adjusted_users
            else:
                want = int(share_of(target, self.worker_id, self.n_workers, integral=True))
            self._set_users(want - self.users_done if iterations else want)
            limit = self.adjusted_users if self.adjusted_users is not None else peak
            if iterations and self.users_done >= limit and not self.users:
                self.reason = "iterations done"
                return
            await self._pause(min(USERS_TICK_S, self.profile.duration_s - t))

    def _set_users(self, want: int) -> None:
        """Start or retire users so ``want`` are running (retired ones end after their request)."""
        running = [u for u in self.users if not u.stop]
        for _ in range(want - len(running)):
            user = _User()
            self.users.append(user)
            task = user.task = self._spawn(self._user(user))
            task.add_done_callback(partial(self._user_gone, user))
        for user in running[max(want, 0) :][::-1]:
            user.stop = True
            if not user.busy and user.task is not None:
                user.task.cancel()

    async def _user(self, user: _User) -> None:
        """One virtual user: iterations of the flow, think time between requests."""
        request = self.client.request
        want_body = self.want_body
        complete = self.complete
        picker = self.picker
        rng = self.rng
        bounds = self.profile.think_time_s
        thinks = bounds[1] > 0
        iterations = self.profile.iterations or 0
        clock = time.perf_counter_ns
        done = 0
        while not user.stop:
            for index in picker.iteration():
                user.busy = True
                t0 = clock()
                try:
                    result = await request(index, want_body[index])
                finally:
                    user.busy = False
                t1 = clock()
                complete(index, result, t1 - t0, t1 - t0, -1, t1)
                if user.stop:
                    return
                if thinks:
                    await asyncio.sleep(think_time(rng, bounds))
            done += 1
            if iterations and done >= iterations:
                user.stop = True  # finished, not retired: it no longer counts as running
                self.users_done += 1
                self._poke()
                return

    def _user_gone(self, user: _User, _task: object) -> None:
        with contextlib.suppress(ValueError):
            self.users.remove(user)

    # --- open model ---------------------------------------------------------------------------

    async def _run_open(self) -> None:
        """Release sends at their intended times, in batches: wake, send all that are due,
        sleep until the next due time (no sleep per request)."""
        n = self.n_workers
        sched = self.scheduler = ArrivalScheduler.from_profile(
            self.profile, 1.0 / n, (self.worker_id + 0.5) / n
        )
        self.recorder.target_rate = self._scheduled_rate(0.0)
        start_ns = self.start_ns
        clock = time.perf_counter_ns
        release = self._release
        while not self.stopping:
            now_ns = clock()
            now = (now_ns - start_ns) / 1e9
            due = sched.due
            while due is not None and due <= now:
                release(start_ns + int(due * 1e9))
                due = sched.advance()
            if due is None:
                if now >= sched.end_s:
                    self.reason = "completed"
                    return
                await self._pause(sched.end_s - now)
            else:
                await self._pause(max(due - now, BATCH_S))

    def _release(self, intended_ns: int) -> None:
        """Start a send now, or queue it when the in-flight cap is reached, or skip it."""
        if len(self.tasks) < self.max_in_flight:
            self._spawn(self._send(intended_ns))
        elif len(self.backlog) - self.backlog_head < BACKLOG_MAX:
            self.backlog.append(intended_ns)
        else:
            self.recorder.skipped += 1

    async def _send(self, intended_ns: int) -> None:
        """One in-flight slot: a send, then any queued sends still worth starting.

        Latency runs from the intended time (coordinated omission corrected, as wrk2),
        service time from the actual send, lag = actual - intended. A queued send that could
        not start within its request's timeout is counted as skipped.
        """
        request = self.client.request
        want_body = self.want_body
        complete = self.complete
        next_index = self.picker.next_index
        timeout_ns = self.timeout_ns
        clock = time.perf_counter_ns
        backlog = self.backlog
        recorder = self.recorder
        while True:
            index = next_index()
            t0 = clock()
            if t0 - intended_ns > timeout_ns[index]:
                recorder.skipped += 1
            else:
                result = await request(index, want_body[index])
                t1 = clock()
                complete(index, result, t1 - intended_ns, t1 - t0, t0 - intended_ns, t1)
            head = self.backlog_head
            if head >= len(backlog):
                return
            intended_ns = backlog[head]
            head += 1
            if head >= 4096 and head * 2 >= len(backlog):
                del backlog[:head]
                head = 0
            self.backlog_head = head


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


async def run_load(
    plan: RunPlan,
    worker_id: int,
    n_workers: int,
    start_at: float,
    on_window: OnWindow,
    control: asyncio.Queue[object] | None = None,
    *,
    ca_file: str | None = None,
    after_setup: Callable[[], None] | None = None,
) -> tuple[WindowData | None, ResultRing, str]:
    """Run this worker's share of ``plan`` in the current event loop.

    Returns (final partial window, ring of raw results, reason: "completed", "iterations
    done" or "stopped"). ``on_window`` gets each closed window; ``control`` carries
    ``protocol.Adjust`` / ``protocol.Stop`` (already this worker's share).
    """
    profile = plan.profile
    cap = max(1, int(share_of(profile.max_in_flight, worker_id, n_workers, integral=True)))
    if profile.model == "closed":
        peak = int(share_of(peak_target(profile), worker_id, n_workers, integral=True))
        max_connections = max(peak, cap, 1)
    else:
        max_connections = cap
    client = make_client(plan, max_connections=max_connections, ca_file=ca_file)
    recorder = WindowRecorder(
        worker_id,
        len(plan.requests),
        plan.window_s,
        plan.max_results,
        request_names=[r.name for r in plan.requests],
    )
    try:
        run = LoadRun(plan, worker_id, n_workers, start_at, client, recorder, on_window, control)
        if after_setup is not None:
            after_setup()
        final, reason = await run.run()
    finally:
        await client.aclose()
    return final, recorder.ring, reason


def worker_main(
    conn: Connection, worker_id: int, n_workers: int, plan: RunPlan, start_at: float
) -> None:
    """Process entry: run the load under uvloop, stream windows up the pipe, then say Done.

    Commands are read without blocking the loop (``add_reader`` on the pipe). If the
    supervisor goes away (EOF on the pipe, or a new parent pid), the process exits at once.
    """
    parent = os.getppid()
    try:
        _run_in_loop(_serve(conn, worker_id, n_workers, plan, start_at, parent))
    except BaseException as exc:  # report anything, then exit
        with contextlib.suppress(OSError, ValueError):
            conn.send(WorkerFailed(worker_id, f"worker {worker_id}: {type(exc).__name__}: {exc}"))
    finally:
        with contextlib.suppress(OSError):
            conn.close()


def _run_in_loop(coro: object) -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; plain asyncio still works
        asyncio.run(coro)  # type: ignore[arg-type]
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(coro)  # type: ignore[arg-type]


def _orphaned() -> None:
    """The supervisor is gone: leave now, without cleanup that could block."""
    os._exit(3)


async def _serve(
    conn: Connection, worker_id: int, n_workers: int, plan: RunPlan, start_at: float, parent: int
) -> None:
    loop = asyncio.get_running_loop()
    control: asyncio.Queue[object] = asyncio.Queue()

    def readable() -> None:
        try:
            while conn.poll():
                control.put_nowait(conn.recv())
        except (EOFError, OSError):
            _orphaned()

    def on_window(window: WindowData) -> None:
        if os.getppid() != parent:
            _orphaned()
        try:
            conn.send(WorkerWindow(worker_id, window))
        except (BrokenPipeError, EOFError, ConnectionResetError):
            _orphaned()

    def tune_gc() -> None:
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)

    loop.add_reader(conn.fileno(), readable)
    # uvloop's poll handle switches the fd to non-blocking, and a large send (the results
    # columns) would then fail half-written; readiness still works on a blocking fd
    os.set_blocking(conn.fileno(), True)
    late = time.monotonic() - start_at
    if late > LATE_START_S:
        conn.send(
            WorkerLog(
                worker_id,
                "warning",
                f"worker {worker_id} started {late:.2f} s after the shared start;"
                " open-model sends due meanwhile go out late and show as scheduler lag",
            )
        )
    try:
        final, ring, reason = await run_load(
            plan, worker_id, n_workers, start_at, on_window, control, after_setup=tune_gc
        )
    finally:
        loop.remove_reader(conn.fileno())
    try:
        conn.send(WorkerDone(worker_id, final, ring.to_columns(), reason))
    except (BrokenPipeError, EOFError, ConnectionResetError):
        _orphaned()
