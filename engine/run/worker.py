"""A worker process: drives one share of the load and sends a window of measurements per tick.

``run_load`` runs the load loop of the plan's model (``engine.load.closed_model``,
``engine.load.open_model``) in any event loop, so tests drive it in-process; ``worker_main`` is the
process entry the supervisor spawns: uvloop, gc tuning, windows up the pipe, commands down it,
and no life after the supervisor's.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import queue
import threading
import time
from collections.abc import Callable, Coroutine
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any

from engine.load.closed_model import ClosedLoad
from engine.load.flow_closed import ClosedFlowLoad
from engine.load.flow_open import OpenFlowLoad
from engine.load.loadrun import LoadRun, OnWindow
from engine.load.open_model import OpenLoad
from engine.load.shapes import peak_target
from engine.metrics.recorder import WindowRecorder
from engine.metrics.ring import ResultRing
from engine.metrics.spool import ResultSpool
from engine.metrics.window import WindowData
from engine.plan.model import RunPlan
from engine.redact import redact_text
from engine.run.worker_protocol import WorkerDone, WorkerFailed, WorkerLog, WorkerWindow, share_of
from engine.transport import make_client

# gc: not disabled. Setup's objects are frozen out of the collector and young collections
# run every 100,000 allocations (the hot path's results are tuples and records go into
# preallocated arrays, so little survives to be scanned). Measured with psutil from outside,
# a spawned worker at 10,000 req/s for 60 s (600,000 requests, 100 in flight, nginx):
# frozen + these thresholds 30.5 -> 31.9 MiB (flat from 10 s); default thresholds 31.3 ->
# 32.7 MiB; gc disabled 30.6 -> 38.3 MiB and still growing (~13 bytes a request: some
# cycles remain in asyncio/transport objects), so disabling it would leak on long runs.
GC_THRESHOLDS = (100_000, 50, 50)
LATE_START_S = 0.05  # a worker starting later than this after start_at says so


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
    spool: ResultSpool | None = None,
) -> tuple[WindowData | None, ResultRing, str]:
    """Run this worker's share of ``plan`` in the current event loop.

    Returns (final partial window, ring of raw results, reason: "completed", "iterations
    done" or "stopped"). ``on_window`` gets each closed window; ``control`` carries
    ``protocol.Adjust`` / ``protocol.Stop`` (already this worker's share); every result also
    goes to ``spool`` (the caller closes it).
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
        [r.name for r in plan.requests],
        plan.window_s,
        plan.max_results,
        redact=lambda text: redact_text(text, plan.redact_values),  # cached per message
        spool=spool,
    )
    model: type[LoadRun] = OpenLoad if profile.model == "open" else ClosedLoad
    if plan.flow_plan is not None:  # a flow; a static scenario keeps the models above
        model = OpenFlowLoad if profile.model == "open" else ClosedFlowLoad
    try:
        run = model(plan, worker_id, n_workers, start_at, client, recorder, on_window, control)
        if after_setup is not None:
            after_setup()
        final, reason = await run.run()
    finally:
        await client.aclose()
    return final, recorder.ring, reason


def open_spool(plan: RunPlan, worker_id: int) -> ResultSpool | None:
    """This worker's spool in the plan's run directory; none for a plan without one, or run
    on a cluster (the directory is on the supervisor's machine)."""
    if plan.run_dir is None or plan.cluster is not None:
        return None
    return ResultSpool(Path(plan.run_dir), worker_id)


class PipeSender:
    """Sends messages up the pipe in order: pickled in the caller's thread, written from a
    thread, so a slow write (the reader waking up) never stalls the event loop and never
    shows up as lag on the open model's sends.

    Pickling stays in the loop thread so window objects die young instead of living on,
    interleaved with the hot path's objects, until the thread gets to them (the worker's RSS
    crept up when the thread pickled); the thread only holds one bytes object per message."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="pipe-sender", daemon=True)
        self._thread.start()

    def send(self, message: object) -> None:
        """Queue ``message``; the other end reads it with ``Connection.recv()``."""
        self._queue.put(ForkingPickler.dumps(message))

    def close(self, timeout: float = 60.0) -> None:
        """Send what is queued, then stop the thread."""
        self._queue.put(_CLOSE)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            data = self._queue.get()
            if data is _CLOSE:
                return
            try:
                self._conn.send_bytes(data)  # type: ignore[arg-type]
            except (OSError, EOFError):  # the supervisor is gone
                _orphaned()


_CLOSE = object()


def worker_main(
    conn: Connection, worker_id: int, n_workers: int, plan: RunPlan, start_at: float
) -> None:
    """Process entry: run the load under uvloop, stream windows up the pipe, then say Done.

    Commands are read without blocking the loop (``add_reader`` on the pipe). If the
    supervisor goes away (EOF on the pipe, or a new parent pid), the process exits at once.
    """
    parent = os.getppid()
    sender = PipeSender(conn)
    try:
        _run_in_loop(_serve(conn, sender, worker_id, n_workers, plan, start_at, parent))
    except BaseException as exc:  # report anything, then exit
        text = f"worker {worker_id}: {type(exc).__name__}: {exc}"
        sender.send(WorkerFailed(worker_id, redact_text(text, plan.redact_values)))
    finally:
        sender.close()
        with contextlib.suppress(OSError):
            conn.close()


def _run_in_loop(coro: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; plain asyncio still works
        asyncio.run(coro)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(coro)


def _orphaned() -> None:
    """The supervisor is gone: leave now, without cleanup that could block."""
    os._exit(3)


async def _serve(
    conn: Connection,
    sender: PipeSender,
    worker_id: int,
    n_workers: int,
    plan: RunPlan,
    start_at: float,
    parent: int,
) -> None:
    loop = asyncio.get_running_loop()
    control: asyncio.Queue[object] = asyncio.Queue()

    def readable() -> None:
        try:
            while conn.poll():
                control.put_nowait(conn.recv())
        except (EOFError, OSError):
            _orphaned()

    spool = open_spool(plan, worker_id)
    spool_warned = False

    def on_window(window: WindowData) -> None:
        nonlocal spool_warned
        if os.getppid() != parent:
            _orphaned()
        sender.send(WorkerWindow(worker_id, window))
        if spool is not None and spool.stopped and not spool_warned:
            spool_warned = True
            text = f"raw results are no longer written to disk: {spool.stopped}"
            sender.send(WorkerLog(worker_id, "warning", text))

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
        sender.send(
            WorkerLog(
                worker_id,
                "warning",
                f"worker {worker_id} started {late:.2f} s after the shared start"
                + (
                    "; sends due meanwhile go out late and show as scheduler lag"
                    if plan.profile.model == "open"
                    else ""
                ),
            )
        )
    try:
        final, ring, reason = await run_load(
            plan, worker_id, n_workers, start_at, on_window, control, after_setup=tune_gc,
            spool=spool,
        )  # fmt: skip
    finally:
        loop.remove_reader(conn.fileno())
        if spool is not None:
            spool.close()
    sender.send(WorkerDone(worker_id, final, ring.to_columns(), reason))
