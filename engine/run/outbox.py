"""A sender thread per reader: the newest snapshot in a one-slot mailbox, other messages in order.

The engine never blocks on a slow reader. ``publish`` replaces the pending snapshot (a slow
reader gets the newest, not a backlog) and ``post`` queues messages that must all arrive (log
lines, errors, pongs, finished). On Linux the thread also waits until the reader has consumed
the previous snapshot (``SIOCOUTQ`` on the socket is zero) before sending the next one, so at
most one stale snapshot sits in the socket buffer.
"""

from __future__ import annotations

import collections
import fcntl
import struct
import termios
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection

from engine.run.protocol import Log, Message, Snapshot

SIOCOUTQ = getattr(termios, "TIOCOUTQ", 0x5411)  # same ioctl number as SIOCOUTQ on Linux
MAX_QUEUED = 2000  # ordered messages kept for a reader that stopped reading
_READY_POLL_S = 0.02


def unread_bytes(conn: Connection) -> int:
    """Bytes sent on ``conn`` that the peer has not read yet (0 when unknown)."""
    try:
        buf = fcntl.ioctl(conn.fileno(), SIOCOUTQ, b"\0\0\0\0")
        return int(struct.unpack("i", buf)[0])
    except (OSError, ValueError):
        return 0


class CoalescingSender:
    """Sends messages up a connection from its own thread; never blocks the caller."""

    __slots__ = (
        "_closing",
        "_cond",
        "_conn",
        "_dropped",
        "_on_broken",
        "_queue",
        "_snapshot",
        "_thread",
        "broken",
        "sent_snapshots",
    )

    def __init__(
        self, conn: Connection, name: str, on_broken: Callable[[], None] | None = None
    ) -> None:
        self._conn = conn
        self._cond = threading.Condition()
        self._snapshot: Snapshot | None = None
        self._queue: collections.deque[Message] = collections.deque()
        self._dropped = 0
        self._closing = False
        self._on_broken = on_broken
        self.broken = False
        self.sent_snapshots = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def publish(self, snapshot: Snapshot) -> None:
        """Offer the newest snapshot; an unsent older one is replaced."""
        with self._cond:
            self._snapshot = snapshot
            self._cond.notify()

    def post(self, message: Message) -> None:
        """Queue a message that must be delivered in order (log, error, pong, finished)."""
        with self._cond:
            if len(self._queue) >= MAX_QUEUED and isinstance(self._queue[0], Log):
                self._queue.popleft()
                self._dropped += 1
            self._queue.append(message)
            self._cond.notify()

    def drop_pending_snapshot(self) -> None:
        """Forget an unsent snapshot (a Finished carrying the final one follows)."""
        with self._cond:
            self._snapshot = None

    def close(self, timeout: float) -> bool:
        """Deliver what is queued (up to ``timeout`` seconds), then stop. True if all was sent."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout)
        return not self._thread.is_alive() and not self.broken

    def _next(self) -> Message | None:
        """Wait for the next message to send; None when closing with nothing left."""
        with self._cond:
            while True:
                if self.broken:
                    return None
                if self._dropped:
                    dropped, self._dropped = self._dropped, 0
                    return Log("warning", f"{dropped} log lines dropped: the reader was too slow")
                if self._queue:
                    return self._queue.popleft()
                if self._snapshot is not None:
                    if unread_bytes(self._conn) == 0:
                        snapshot, self._snapshot = self._snapshot, None
                        return snapshot
                    self._cond.wait(_READY_POLL_S)
                    continue
                if self._closing:
                    return None
                self._cond.wait()

    def _run(self) -> None:
        while True:
            message = self._next()
            if message is None:
                return
            try:
                self._conn.send(message)
            except (OSError, EOFError, ValueError):
                with self._cond:
                    self.broken = True
                if self._on_broken is not None:
                    self._on_broken()
                return
            if isinstance(message, Snapshot):
                self.sent_snapshots += 1
