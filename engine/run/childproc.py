"""Process-level setup of the engine's child processes: signals, parent death, stdio.

Ctrl-C and SIGHUP reach the whole foreground process group; workers ignore them (and SIGTERM)
so the supervisor alone drives their stop. ``PR_SET_PDEATHSIG`` makes Linux kill a worker
when its supervisor dies, even by SIGKILL, so no worker is ever orphaned.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
from multiprocessing.connection import Connection

from engine.plan.model import RunPlan

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no orphan workers)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(1)


def run_worker(
    conn: Connection, worker_id: int, n_workers: int, plan: RunPlan, start_at: float, parent: int
) -> None:
    """Worker process entry: detach from terminal signals, then run ``worker_main``."""
    for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    die_with_parent(parent)
    from engine.run.worker import worker_main

    worker_main(conn, worker_id, n_workers, plan, start_at)


def redirect_stdio(log_path: str) -> None:
    """Send this process's (and its workers') stdout/stderr to ``log_path``: under the TUI a
    stray traceback must not draw over the screen."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
