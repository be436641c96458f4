"""The body of a cluster worker: a Ray actor whose process is one engine worker.

``start`` runs ``engine.run.worker.worker_main`` (uvloop, the fast transport, windows every
0.5 s) on a thread of the actor's process, exactly as a local worker process runs it, with a
local pipe in place of the supervisor's. The actor relays that pipe: ``poll`` is a long-poll
that hands back every message the worker has queued (already pickled, never unpickled here),
``command`` writes a supervisor command down. ``engine.run.cluster`` wraps this class with
``ray.remote``; nothing here imports Ray.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import socket
import threading
import time
from multiprocessing.connection import Connection

from engine.plan.model import RunPlan
from engine.run.protocol import PROTOCOL_VERSION

MAX_BATCH = 64  # messages handed back by one poll at most (a backlog drains over a few)


class WorkerActor:
    """One worker of a cluster run (the actor's methods run on Ray's threads, ``max_concurrency``
    > 1, so a waiting ``poll`` never holds up ``command`` or ``clock``)."""

    def __init__(self) -> None:
        self._conn: Connection | None = None
        self._thread: threading.Thread | None = None

    def hello(self) -> tuple[int, str, int]:
        """(protocol version, host name, pid): the actor is up and speaks our protocol."""
        return PROTOCOL_VERSION, socket.gethostname(), os.getpid()

    def clock(self) -> float:
        """This process's monotonic clock, for the supervisor's offset estimate."""
        return time.monotonic()

    def start(self, plan: RunPlan, worker_id: int, n_workers: int, start_at: float) -> int:
        """Start the worker (``start_at`` is on this actor's clock); return its nice value.

        Ray runs its workers at nice 15 (``worker_niceness``), below everything else on the
        node; a load generator must not be, so the worker's thread (and the threads it starts,
        which inherit a Linux thread's nice value) goes back to 0 where that is allowed.
        """
        from engine.run.worker import worker_main

        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, 0, 0)  # this thread: the worker's inherits it
        niceness = os.getpriority(os.PRIO_PROCESS, 0)
        ours, theirs = multiprocessing.Pipe(duplex=True)
        self._conn = ours
        self._thread = threading.Thread(
            target=worker_main,
            args=(theirs, worker_id, n_workers, plan, start_at),
            name=f"deli-worker-{worker_id}",
            daemon=True,
        )
        self._thread.start()
        return niceness

    def command(self, message: object) -> None:
        """Hand a supervisor command (``Stop``, ``Adjust``: this worker's share) to the worker."""
        if self._conn is not None:
            self._conn.send(message)

    def poll(self, timeout: float) -> tuple[list[bytes], float, bool]:
        """Wait up to ``timeout`` s for the worker's messages; return (the pickled messages
        queued now, this process's CPU seconds so far, whether the worker has ended)."""
        conn = self._conn
        out: list[bytes] = []
        ended = conn is None
        if conn is not None:
            try:
                if conn.poll(timeout):
                    while len(out) < MAX_BATCH:
                        out.append(conn.recv_bytes())
                        if not conn.poll(0):
                            break
            except (EOFError, OSError):
                ended = True
        return out, time.process_time(), ended
