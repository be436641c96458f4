"""The TUI's edge to the engine: a reader thread that turns pipe messages into Textual messages.

The thread owns the handle's reading side: it loops on ``poll(0.1)`` / ``recv()`` and posts
typed messages to a target (the run screen). ``SnapshotArrived`` replaces a pending one of its
kind, so a slow UI renders the newest snapshot instead of a backlog. Only ``post_message`` is
called from the thread; it is thread-safe.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.message import Message
from textual.message_pump import MessagePump

from engine.run import protocol

if TYPE_CHECKING:
    from engine.run.process import EngineLink


class SnapshotArrived(Message, bubble=False):
    """A new 0.5 s aggregate; a newer one waiting in the queue supersedes it."""

    def __init__(self, snapshot: protocol.Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SnapshotArrived)


class LogArrived(Message, bubble=False):
    """A log line from the engine."""

    def __init__(self, log: protocol.Log) -> None:
        super().__init__()
        self.log = log


class EngineFailed(Message, bubble=False):
    """The engine reported an error (``fatal``: a ``RunFinished`` follows)."""

    def __init__(self, error: protocol.EngineError) -> None:
        super().__init__()
        self.error = error


class RunFinished(Message, bubble=False):
    """The run is over: final snapshot, verdict and reason."""

    def __init__(self, finished: protocol.Finished) -> None:
        super().__init__()
        self.finished = finished


class EngineLost(Message, bubble=False):
    """The link ended without a ``Finished`` (engine died, socket dropped, start failed)."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class EngineBridge:
    """Opens a link (``EngineHandle.start`` or ``AttachHandle.connect``) and reads it on a thread.

    ``first`` is sent right after opening (the ``Start`` of a run). ``release`` says how the
    link ends when the screen goes: ``close`` stops a run we own, or only detaches a viewer.
    """

    def __init__(
        self,
        open_link: Callable[[], EngineLink],
        target: MessagePump,
        first: protocol.Command | None = None,
        close_timeout: float = 5.0,
    ) -> None:
        self._open_link = open_link
        self._target = target
        self._first = first
        self._close_timeout = close_timeout
        self._link: EngineLink | None = None
        self._stop = threading.Event()
        self.done = threading.Event()
        self.finished = False
        self.final: protocol.Finished | None = None  # the run's Finished, once it came
        self._ended = threading.Event()  # set by the Finished, or when the thread ends

    @property
    def link(self) -> EngineLink | None:
        return self._link

    @property
    def close_timeout(self) -> float:
        """How long closing the link may wait for a run we own to stop."""
        return self._close_timeout

    def send(self, command: protocol.Command) -> bool:
        """Send a command down; False when there is no live link."""
        link = self._link
        if link is None or self.done.is_set():
            return False
        try:
            link.send(command)
        except (ConnectionError, ValueError):
            return False
        return True

    def run(self) -> None:
        """Thread body: open, send the first command, read until the end or ``stop``."""
        try:
            try:
                self._link = self._open_link()
                if self._first is not None:
                    self._link.send(self._first)
            except Exception as exc:  # any failure to start is shown, not raised in a thread
                self._target.post_message(EngineLost(str(exc)))
                return
            self._read(self._link)
        finally:
            self._ended.set()
            if self._link is not None:
                with contextlib.suppress(Exception):
                    self._link.close(timeout=self._close_timeout)
            self.done.set()

    def _read(self, link: EngineLink) -> None:
        post = self._target.post_message
        while not self._stop.is_set():
            if not link.poll(0.1):
                continue
            try:
                message = link.recv()
            except EOFError as exc:
                if not self.finished:
                    post(EngineLost(str(exc) or "the engine went away"))
                return
            if isinstance(message, protocol.Snapshot):
                post(SnapshotArrived(message))
            elif isinstance(message, protocol.Finished):
                self.finished = True
                self.final = message
                self._ended.set()
                post(RunFinished(message))
            elif isinstance(message, protocol.Log):
                post(LogArrived(message))
            elif isinstance(message, protocol.EngineError):
                post(EngineFailed(message))

    def end_run(self, wait: float) -> protocol.Finished | None:
        """Stop the run at once (requests in flight are cut off) and wait up to ``wait`` s for
        its ``Finished``: what the app saves when it closes in the middle of a run."""
        if self.final is None and self.send(protocol.Stop(graceful=False)):
            self._ended.wait(wait)
        return self.final

    def stop(self, wait: float | None = None) -> bool:
        """Ask the thread to close the link and end; wait up to ``wait`` s. True when done."""
        self._stop.set()
        if wait is None:
            return self.done.is_set()
        return self.done.wait(wait)
