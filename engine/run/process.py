"""The caller's side of the engine: start the supervisor process and talk to it over a pipe.

Used by the TUI and the headless CLI alike::

    with EngineHandle.start() as engine:
        engine.send(Start(plan))
        while True:
            if engine.poll(0.1):
                message = engine.recv()
                ...

``close`` stops a run in progress, waits (bounded) for its ``Finished``, then makes sure the
supervisor and its workers are gone: no orphan process, ever.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import TracebackType
from typing import Self

from engine.run.listen import key_path
from engine.run.protocol import Command, Finished, Message, Start, Stop
from engine.run.supervisor import supervisor_main

_KILL_WAIT_S = 3.0


@contextlib.contextmanager
def _terminal_signals_ignored() -> Iterator[None]:
    """Start children with Ctrl-C and SIGHUP ignored (inherited through exec), so a signal
    that reaches the whole process group while they import cannot kill them half-started."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker against the process's real stderr.

    A spawn starts the tracker on first use and passes it ``sys.stderr.fileno()``; under a UI
    that replaced ``sys.stderr`` (Textual's capture answers -1) that fails with "bad value(s)
    in fds_to_keep". Started here first, the spawn finds it running.
    """
    from multiprocessing import resource_tracker

    captured = sys.stderr
    try:
        sys.stderr = sys.__stderr__
        resource_tracker.ensure_running()
    finally:
        sys.stderr = captured


def _close_at_exit(ref: weakref.ReferenceType[EngineHandle]) -> None:
    handle = ref()
    if handle is not None:
        handle.close(timeout=2.0)


class EngineLink:
    """One end of a connection to the engine: the ``send`` / ``poll`` / ``recv`` / context
    manager that ``EngineHandle`` and a viewer's ``AttachHandle`` share. Subclasses say what
    a closed and a broken link are called, and what ``close`` does."""

    __slots__ = ("_closed", "_conn")

    _closed_text = "the engine is closed"
    _gone_text = "the engine is gone"

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._closed = False

    def send(self, command: Command) -> None:
        """Send a command down. Raises ``ConnectionError`` when the engine is gone."""
        if self._closed:
            raise ConnectionError(self._closed_text)
        try:
            self._conn.send(command)
        except (OSError, ValueError) as exc:
            raise ConnectionError(f"{self._gone_text}: {exc}") from exc

    def poll(self, timeout: float = 0.0) -> bool:
        """True when a message (or the end of the pipe) is ready for ``recv``."""
        if self._closed:
            return False
        try:
            return self._conn.poll(timeout)
        except (OSError, EOFError, ValueError):
            return True

    def recv(self) -> Message:
        """The next message. Raises ``EOFError`` when the engine has gone away."""
        if self._closed:
            raise EOFError(self._closed_text)
        try:
            message: Message = self._conn.recv()
        except (OSError, ValueError) as exc:
            raise EOFError(f"{self._gone_text}: {exc}") from exc
        return message

    def close(self, timeout: float = 0.0) -> None:
        """End this side of the link."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class EngineHandle(EngineLink):
    """A running engine supervisor process and the duplex pipe to it."""

    __slots__ = ("__weakref__", "_listen", "_process", "_running")

    def __init__(self, process: BaseProcess, conn: Connection, listen: str | None) -> None:
        super().__init__(conn)
        self._process = process
        self._listen = listen
        self._running = False

    @classmethod
    def start(
        cls,
        *,
        listen: str | None = None,
        authkey: bytes | None = None,
        log_path: str | None = None,
    ) -> EngineHandle:
        """Spawn the supervisor (also from inside a running TUI). ``listen``: also serve viewers
        on this Unix socket path. ``log_path``: where the engine processes' stdout/stderr go
        (when the TUI owns the terminal)."""
        _start_resource_tracker()
        ctx = multiprocessing.get_context("spawn")
        ours, theirs = ctx.Pipe(duplex=True)
        process = ctx.Process(
            target=supervisor_main,
            args=(theirs, listen, authkey, os.getpid(), log_path),
            name="deli-engine",
            daemon=False,  # it starts the worker processes, which daemons may not do
        )
        with _terminal_signals_ignored():
            process.start()
        theirs.close()
        handle = cls(process, ours, listen)
        ref = weakref.ref(handle)
        # Registered after multiprocessing's own exit hook, so it runs first: the interpreter
        # never waits on a supervisor that is still holding a run.
        atexit.register(_close_at_exit, ref)
        return handle

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def alive(self) -> bool:
        return not self._closed and self._process.is_alive()

    @property
    def running(self) -> bool:
        """True between a sent ``Start`` and the ``Finished`` read back."""
        return self._running

    def send(self, command: Command) -> None:
        """Send a command down. Raises ``ConnectionError`` when the engine is gone."""
        super().send(command)
        if isinstance(command, Start):
            self._running = True

    def recv(self) -> Message:
        """The next message. Raises ``EOFError`` when the engine process has gone away."""
        message = super().recv()
        if isinstance(message, Finished):
            self._running = False
        return message

    def close(self, timeout: float = 5.0) -> None:
        """Stop a run in progress (waiting up to ``timeout`` for its end), then end the engine."""
        if self._closed:
            return
        deadline = time.monotonic() + timeout
        if self._running and self._process.is_alive():
            with contextlib.suppress(ConnectionError):
                self.send(Stop())
            self._drain_until_finished(deadline)
        self._closed = True
        with contextlib.suppress(OSError):
            self._conn.close()
        self._process.join(max(1.0, deadline - time.monotonic()))
        if not self._process.is_alive():
            return
        self._process.terminate()  # the supervisor stops its workers on SIGTERM
        self._process.join(_KILL_WAIT_S)
        if self._process.is_alive():
            self._process.kill()  # workers follow through PR_SET_PDEATHSIG
            self._process.join(_KILL_WAIT_S)
        if self._listen:  # it may not have removed its socket and key file
            for path in (Path(self._listen), key_path(self._listen)):
                with contextlib.suppress(OSError):
                    path.unlink()

    def _drain_until_finished(self, deadline: float) -> None:
        while self._running:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                if self._conn.poll(min(remaining, 0.1)):
                    self.recv()
            except EOFError:
                return
