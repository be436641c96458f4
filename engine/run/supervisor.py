"""The engine supervisor process: runs plans on worker processes and publishes snapshots.

It waits for ``Start(plan)``, spawns ``plan.workers`` worker processes (one pipe each, a shared
``start_at`` on the system-wide monotonic clock), merges their windows in the ``Aggregator``
and publishes the cached snapshot every ``plan.window_s``. Publishing goes through a
``CoalescingSender``, so a slow caller never blocks the run. After ``Finished`` it waits for
the next ``Start``; when the caller goes away it stops the workers and exits.

Signals: Ctrl-C and SIGHUP reach the whole foreground process group, so the supervisor and the
workers ignore them and the caller drives the stop. SIGTERM on the supervisor stops the run
cleanly and exits. Workers die with the supervisor (``PR_SET_PDEATHSIG``) and never outlive it.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
from dataclasses import replace
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any

from engine.plan.model import RunPlan
from engine.run.childproc import redirect_stdio, run_worker
from engine.run.listen import ViewerHub
from engine.run.outbox import CoalescingSender
from engine.run.protocol import (
    STOPPED,
    Adjust,
    Command,
    EngineError,
    Finished,
    Log,
    Message,
    Ping,
    Pong,
    Start,
    Stop,
)
from engine.run.runstate import RunState, WorkerSlot, completion_reason, empty_snapshot
from engine.run.worker_protocol import (
    WorkerDone,
    WorkerFailed,
    WorkerLog,
    WorkerLost,
    WorkerReady,
    WorkerWindow,
    share_of,
)
from engine.thresholds import thresholds_passed

if TYPE_CHECKING:
    from engine.run.cluster import ClusterSession

START_LEAD_S = 0.6  # time for spawned workers to import and connect before the shared start
STOP_GRACE_EXTRA_S = 5.0  # beyond plan.profile.graceful_stop_s before stragglers are killed
EXIT_GRACE_S = 3.0  # a worker that said Done gets this long to exit on its own
_IDLE_TICK_S = 0.2


class Supervisor:
    """State of the supervisor process; ``serve`` is its main loop."""

    def __init__(
        self, conn: Connection, listen: str | None, authkey: bytes | None, parent_pid: int
    ) -> None:
        self.conn = conn
        self.parent_pid = parent_pid
        self.caller_gone = False
        self.terminate = False
        self.run: RunState | None = None
        self.outbox = CoalescingSender(conn, "publish", self._caller_broke)
        self._ctx = multiprocessing.get_context("spawn")
        self._inbox_r, self._inbox_w = self._ctx.Pipe(duplex=False)
        self._inbox_lock = threading.Lock()  # viewer threads share the write end
        self.hub: ViewerHub | None = None
        self.cluster: ClusterSession | None = None  # connected by the first cluster run
        if listen:
            self.hub = ViewerHub(listen, authkey or os.urandom(32), self._viewer_command)

    # --- message fan-out -------------------------------------------------------------------

    def post(self, message: Message) -> None:
        if isinstance(message, Finished):
            self.outbox.drop_pending_snapshot()
        self.outbox.post(message)
        if self.hub is not None:
            self.hub.post(message)

    def _caller_broke(self) -> None:
        self.caller_gone = True

    def _viewer_command(self, command: Command) -> None:
        with self._inbox_lock, contextlib.suppress(OSError):
            self._inbox_w.send(command)

    # --- main loop -------------------------------------------------------------------------

    def serve(self) -> None:
        try:
            while not self._should_exit():
                self._step()
            self._shutdown_run("stopped")
        finally:
            self._close()

    def _should_exit(self) -> bool:
        if self.caller_gone or os.getppid() != self.parent_pid:
            self.caller_gone = True
            return True
        return self.terminate and self.run is None

    def _step(self) -> None:
        run = self.run
        waitables: list[Any] = [self._inbox_r] if self.caller_gone else [self.conn, self._inbox_r]
        timeout = _IDLE_TICK_S
        if run is not None:
            waitables += [w.conn for w in run.workers if w.conn_open]
            waitables += [w.process.sentinel for w in run.workers if not w.exited]
            timeout = max(0.0, min(timeout, run.next_publish - time.monotonic()))
        if self.terminate and run is not None and not run.stopping:
            self._begin_stop("stopped")
        ready = wait(waitables, timeout)
        if self.conn in ready:
            self._read_caller()
        if self._inbox_r in ready:
            with contextlib.suppress(EOFError, OSError):
                self._command(self._inbox_r.recv())
        if run is None or self.run is not run:
            return
        for slot in run.workers:
            if slot.conn_open and slot.conn in ready:
                self._read_worker(run, slot)
        for slot in run.workers:
            if not slot.exited and slot.process.sentinel in ready:
                self._worker_exited(run, slot)
        self._tick(run)

    def _read_caller(self) -> None:
        try:
            command = self.conn.recv()
        except (EOFError, OSError):
            self.caller_gone = True
            return
        except Exception as exc:  # an object that does not unpickle here
            self.post(EngineError(f"unreadable command: {exc}"))
            return
        self._command(command)

    def _command(self, command: object) -> None:
        if isinstance(command, Ping):
            self.outbox.post(Pong(command.token))
        elif isinstance(command, Start):
            self._start(command.plan)
        elif isinstance(command, Stop):
            if self.run is not None and not self.run.stopping:
                self._begin_stop("stopped", graceful=command.graceful)
            elif self.run is not None and not command.graceful:
                self._begin_stop("stopped", graceful=False)
        elif isinstance(command, Adjust):
            self._adjust(command)
        else:
            self.post(EngineError(f"unknown command {type(command).__name__}"))

    # --- runs ------------------------------------------------------------------------------

    def _start(self, plan: RunPlan) -> None:
        if self.run is not None:
            self.post(EngineError("a run is already in progress; stop it first"))
            return
        try:
            from engine.metrics.aggregate import Aggregator

            aggregator = Aggregator(plan, ttl_s=min(0.5, plan.window_s))
        except Exception as exc:
            self._refuse(plan, f"cannot start: {type(exc).__name__}: {exc}")
            return
        n = max(1, plan.workers)
        if plan.cluster:
            self._start_on_cluster(plan, aggregator, n)
            return
        start_at = time.monotonic() + START_LEAD_S + 0.1 * n
        slots: list[WorkerSlot] = []
        try:
            for worker_id in range(n):
                ours, theirs = self._ctx.Pipe(duplex=True)
                process = self._ctx.Process(
                    target=run_worker,
                    args=(theirs, worker_id, n, plan, start_at, os.getpid()),
                    name=f"deli-worker-{worker_id}",
                    daemon=True,
                )
                process.start()
                theirs.close()
                slots.append(WorkerSlot(worker_id, process, ours))
        except OSError as exc:
            for slot in slots:
                slot.process.kill()
                slot.process.join(1.0)
            self._refuse(plan, f"cannot start worker processes: {exc}")
            return
        self.run = RunState(plan, aggregator, start_at, slots, next_publish=time.monotonic())
        self.post(Log("info", f"started {n} worker(s) for {plan.scenario_name!r}"))

    def _start_on_cluster(self, plan: RunPlan, aggregator: Any, n: int) -> None:
        """Workers as Ray actors: the shared start comes with their ``WorkerReady``."""
        from engine.run.cluster import ClusterSession, ClusterUnavailable

        if self.cluster is None:
            self.cluster = ClusterSession()
        try:
            slots = self.cluster.launch(plan, n)
        except ClusterUnavailable as exc:
            self._refuse(plan, str(exc))
            return
        self.run = RunState(plan, aggregator, math.inf, slots, next_publish=time.monotonic())
        self.post(Log("info", f"placing {n} worker(s) on the Ray cluster at {plan.cluster}"))

    def _refuse(self, plan: RunPlan, text: str) -> None:
        """A Start that cannot run still ends in a Finished, so every caller's wait ends."""
        self.post(EngineError(text, fatal=True))
        self.post(Finished(empty_snapshot(plan), False, text))

    def _adjust(self, command: Adjust) -> None:
        run = self.run
        if run is None or run.stopping:
            return
        n = len(run.workers)
        for slot in run.workers:
            users = rate = None
            if command.users is not None:
                users = int(share_of(command.users, slot.worker_id, n, integral=True))
            if command.rate is not None:
                rate = share_of(command.rate, slot.worker_id, n, integral=False)
            self._send_worker(slot, Adjust(users=users, rate=rate))

    def _send_worker(self, slot: WorkerSlot, message: object) -> None:
        if slot.conn_open and not slot.done:
            with contextlib.suppress(OSError, EOFError, ValueError):
                slot.conn.send(message)

    def _begin_stop(self, reason: str, graceful: bool = True) -> None:
        run = self.run
        if run is None:
            return
        if not run.reason:
            run.reason = reason
        grace = run.plan.profile.graceful_stop_s if graceful else 0.0
        deadline = time.monotonic() + grace + STOP_GRACE_EXTRA_S
        if not run.stopping or deadline < run.stop_deadline:
            run.stop_deadline = deadline
        run.stopping = True
        for slot in run.workers:
            self._send_worker(slot, Stop(graceful=graceful))

    def _read_worker(self, run: RunState, slot: WorkerSlot) -> None:
        """Read every message the worker has queued (so nothing is lost when it exits)."""
        while slot.conn_open:
            try:
                if not slot.conn.poll(0):
                    return
                message = slot.conn.recv()
            except (EOFError, OSError):
                slot.conn_open = False
                return
            self._worker_message(run, slot, message)

    def _worker_message(self, run: RunState, slot: WorkerSlot, message: object) -> None:
        if isinstance(message, WorkerWindow):
            run.aggregator.add(message.window)
            slot.track(message.window, time.monotonic(), run.start_at, run.open_model)
        elif isinstance(message, WorkerLog):
            self.post(Log(message.level, f"worker {message.worker_id}: {message.message}"))
        elif isinstance(message, WorkerDone):
            if message.final is not None:
                run.aggregator.add(message.final)
                slot.track(message.final, time.monotonic(), run.start_at, run.open_model)
            slot.done, slot.reason, slot.results = True, message.reason, message.results
            slot.done_at = time.monotonic()
        elif isinstance(message, WorkerFailed):
            text = f"worker {slot.worker_id} failed: {message.message}"
            slot.done, slot.reason, slot.failed = True, text, True
            slot.done_at = time.monotonic()
            self._fatal(run, text)
        elif isinstance(message, WorkerReady):
            slot.node, slot.clock_offset_s = message.node, message.clock_offset_s
            run.start_at = message.start_at
        elif isinstance(message, WorkerLost):
            self._lost(run, slot, message.reason)

    def _lost(self, run: RunState, slot: WorkerSlot, reason: str) -> None:
        """A cluster worker died: say so and go on with the others (its windows so far count)."""
        if slot.lost_reason or (slot.done and not slot.failed and slot.reason):
            return
        slot.done, slot.done_at = True, time.monotonic()
        slot.lost_reason, slot.lost_at_s = reason or "gone", run.elapsed()
        text = (
            f"worker {slot.worker_id} on {slot.node} lost at {slot.lost_at_s:.1f} s "
            f"({slot.lost_reason}); the run goes on without its share of the load, "
            "its figures up to its last window kept"
        )
        run.lost.append(text)
        self.post(EngineError(text))

    def _worker_exited(self, run: RunState, slot: WorkerSlot) -> None:
        self._read_worker(run, slot)
        slot.process.join(0.1)
        slot.exited = True
        if slot.done:
            return
        slot.done = True
        if run.stopping and run.stop_deadline <= time.monotonic():
            return  # killed by us after the grace period
        code = slot.process.exitcode
        if slot.remote:
            self._lost(run, slot, f"ended without a word (exit code {code})")
            return
        self._fatal(run, f"worker {slot.worker_id} died (exit code {code})")

    def _fatal(self, run: RunState, text: str) -> None:
        run.errors.append(text)
        self.post(EngineError(text, fatal=True))
        if not run.reason or run.reason in ("stopped", "completed"):
            run.reason = text
        self._begin_stop(run.reason)

    def _tick(self, run: RunState) -> None:
        now = time.monotonic()
        if now >= run.next_publish:
            run.next_publish = now + run.plan.window_s
            snapshot = self._with_health(run, run.aggregator.snapshot(run.elapsed(), run.phase()))
            self.outbox.publish(snapshot)
            if self.hub is not None:
                self.hub.publish(snapshot)
        for slot in run.workers:
            if slot.done and not slot.exited and now - slot.done_at > EXIT_GRACE_S:
                slot.process.kill()
        if run.stopping and now >= run.stop_deadline:
            for slot in run.workers:
                if not slot.exited:
                    slot.process.kill()
        stress = run.aggregator.stress
        if stress is not None and stress.broke and not run.stopping:
            self._begin_stop("breaking point found")
        if all(slot.exited for slot in run.workers):
            self._finish(run)

    def _finish(self, run: RunState) -> None:
        reason = run.reason or completion_reason(run.workers)
        elapsed = run.elapsed()
        try:
            final = run.aggregator.final_snapshot(elapsed, reason)
            # a threshold still without data fails a run that ended, not one stopped early
            passed = thresholds_passed(final.thresholds, final=reason != STOPPED)
            if final.stress is not None:
                # a stress run passes when it found its answer (stopped early: "stopped")
                passed = final.stress.concluded or reason == STOPPED
        except Exception as exc:
            self.post(EngineError(f"cannot summarise the run: {exc}", fatal=True))
            final = run.aggregator.snapshot(elapsed, "finished", force=True)
            passed = False
        if run.errors:
            passed = False
        if run.lost:  # the load asked for was not all sent: no pass
            passed = False
            reason = f"{reason}; {len(run.lost)} of {len(run.workers)} worker(s) lost"
        final = self._with_health(run, final)
        results = tuple(s.results for s in run.workers if s.results)
        for slot in run.workers:
            with contextlib.suppress(OSError):
                slot.conn.close()
        self.run = None
        self.post(Finished(final, passed, reason, results, run.aggregator.digests()))

    def _with_health(self, run: RunState, snapshot: Any) -> Any:
        now = time.monotonic()
        for slot in run.workers:
            slot.sample_cpu(now)
        return replace(snapshot, workers=tuple(slot.health() for slot in run.workers))

    def _shutdown_run(self, reason: str) -> None:
        """Stop a run because the supervisor is leaving: bounded, then kill what remains."""
        run = self.run
        if run is None:
            return
        self._begin_stop(reason)
        run.stop_deadline = min(run.stop_deadline, time.monotonic() + 3.0)
        while self.run is run:
            self._step()

    def _close(self) -> None:
        if self.run is not None:
            for slot in self.run.workers:
                slot.process.kill()
                slot.process.join(1.0)
        if self.cluster is not None:
            self.cluster.close(timeout=5.0)
        self.outbox.close(timeout=0.0 if self.caller_gone else 3.0)
        if self.hub is not None:
            self.hub.close(timeout=2.0)


def supervisor_main(
    conn: Connection,
    listen: str | None,
    authkey: bytes | None,
    parent_pid: int,
    log_path: str | None = None,
) -> None:
    """Supervisor process entry (spawn target)."""
    if log_path:
        with contextlib.suppress(OSError):
            redirect_stdio(log_path)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    supervisor: Supervisor | None = None

    def on_term(signum: int, frame: object) -> None:
        if supervisor is not None:
            supervisor.terminate = True
        else:
            sys.exit(0)

    signal.signal(signal.SIGTERM, on_term)
    try:
        supervisor = Supervisor(conn, listen, authkey, parent_pid)
    except OSError as exc:
        with contextlib.suppress(OSError):
            conn.send(EngineError(f"cannot listen on {listen}: {exc}", fatal=True))
        return
    supervisor.serve()
