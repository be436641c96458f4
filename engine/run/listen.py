"""Serve a run's messages on a Unix socket so viewers can attach and detach (``--listen``).

The socket speaks the pipe protocol through ``multiprocessing.connection`` with an authkey.
The socket and the key file (``SOCKET + ".key"``) are mode 0600, so other users can neither
connect nor read the key. Each viewer has its own ``CoalescingSender``: a slow viewer gets the
newest snapshot, and a viewer that drops never affects the run.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import threading
from collections.abc import Callable
from dataclasses import replace
from multiprocessing import AuthenticationError
from multiprocessing.connection import (
    Connection,
    answer_challenge,
    deliver_challenge,
)
from pathlib import Path

from engine.run.outbox import CoalescingSender
from engine.run.protocol import Adjust, Command, Finished, Message, Ping, Pong, Snapshot, Stop

KEY_SUFFIX = ".key"
HANDSHAKE_TIMEOUT_S = 5.0
VIEWER_COMMANDS = (Ping, Stop, Adjust)


def key_path(socket_path: str | os.PathLike[str]) -> Path:
    """Where the authkey of a listening run is stored."""
    return Path(f"{os.fspath(socket_path)}{KEY_SUFFIX}")


def write_key_file(path: Path, authkey: bytes) -> None:
    """Write the authkey readable by the owner only (created 0600, never wider)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, authkey.hex().encode("ascii"))
    finally:
        os.close(fd)


def read_key_file(socket_path: str | os.PathLike[str]) -> bytes:
    """The authkey of the run listening on ``socket_path``."""
    return bytes.fromhex(key_path(socket_path).read_text(encoding="ascii").strip())


def claim_socket_path(path: Path) -> None:
    """Remove a socket file (and its key) left by a dead run, or a key file left without its
    socket; refuse to take over a live run, or a path that is something else."""
    if not path.exists() and not path.is_symlink():
        _remove_stale_key(key_path(path))
        return
    if not stat.S_ISSOCK(path.lstat().st_mode):
        raise OSError(f"{path} exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(os.fspath(path))
    except OSError:
        path.unlink()
        with contextlib.suppress(FileNotFoundError):
            key_path(path).unlink()
        return
    finally:
        probe.close()
    raise OSError(f"{path} is in use by another run")


def _remove_stale_key(key: Path) -> None:
    """A key file whose socket is gone belongs to no run: remove it (a regular file only)."""
    try:
        mode = key.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise OSError(f"{key} exists and is not a key file")
    key.unlink()


class _Viewer:
    """One attached viewer: a sender thread for messages up, a reader thread for commands."""

    __slots__ = ("conn", "number", "reader", "sender")

    def __init__(self, conn: Connection, number: int, hub: ViewerHub) -> None:
        self.conn = conn
        self.number = number
        self.sender = CoalescingSender(conn, f"viewer-{number}-send", lambda: hub.drop(self))
        self.reader = threading.Thread(
            target=hub._read_commands, args=(self,), name=f"viewer-{number}-read", daemon=True
        )


class ViewerHub:
    """Accepts viewers on a Unix socket and fans the run's messages out to all of them."""

    def __init__(
        self,
        socket_path: str | os.PathLike[str],
        authkey: bytes,
        on_command: Callable[[Command], None],
    ) -> None:
        self.path = Path(socket_path)
        self._authkey = authkey
        self._on_command = on_command
        self._lock = threading.Lock()
        self._viewers: list[_Viewer] = []
        self._latest: Snapshot | None = None
        self._closed = False
        self._count = 0
        claim_socket_path(self.path)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            self._sock.bind(os.fspath(self.path))
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)
        self._sock.listen(16)
        try:
            write_key_file(key_path(self.path), authkey)
        except OSError:
            self._sock.close()
            self.path.unlink(missing_ok=True)
            raise
        self._accepter = threading.Thread(target=self._accept_loop, name="listen", daemon=True)
        self._accepter.start()

    @property
    def viewer_count(self) -> int:
        with self._lock:
            return len(self._viewers)

    def publish(self, snapshot: Snapshot) -> None:
        with self._lock:
            self._latest = snapshot
            viewers = list(self._viewers)
        for viewer in viewers:
            viewer.sender.publish(snapshot)

    def post(self, message: Message) -> None:
        """Send an ordered message to every viewer (raw results stay with the caller)."""
        if isinstance(message, Finished):
            self._latest = message.snapshot
            if message.results:
                message = replace(message, results=())
        with self._lock:
            viewers = list(self._viewers)
        for viewer in viewers:
            if isinstance(message, Finished):
                viewer.sender.drop_pending_snapshot()
            viewer.sender.post(message)

    def drop(self, viewer: _Viewer) -> None:
        """Forget a viewer whose connection broke or that detached."""
        with self._lock:
            if viewer in self._viewers:
                self._viewers.remove(viewer)
        with contextlib.suppress(OSError):
            viewer.conn.close()

    def close(self, timeout: float = 2.0) -> None:
        """Flush what viewers still have queued (bounded), disconnect them, remove the files."""
        with self._lock:
            self._closed = True
            viewers = list(self._viewers)
            self._viewers.clear()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._sock.close()
        for viewer in viewers:
            viewer.sender.close(timeout)
            with contextlib.suppress(OSError):
                viewer.conn.close()
        self.path.unlink(missing_ok=True)
        key_path(self.path).unlink(missing_ok=True)

    def _accept_loop(self) -> None:
        while True:
            try:
                raw, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handshake, args=(raw,), daemon=True).start()

    def _handshake(self, raw: socket.socket) -> None:
        # A client that stalls the challenge is cut off; the connection itself stays blocking.
        conn = Connection(os.dup(raw.fileno()))
        timer = threading.Timer(HANDSHAKE_TIMEOUT_S, self._cut, args=(raw,))
        timer.start()
        try:
            deliver_challenge(conn, self._authkey)
            answer_challenge(conn, self._authkey)
        except (AuthenticationError, OSError, EOFError, ValueError):
            conn.close()
            return
        finally:
            timer.cancel()
            raw.close()
        with self._lock:
            if self._closed:
                conn.close()
                return
            self._count += 1
            viewer = _Viewer(conn, self._count, self)
            self._viewers.append(viewer)
            latest = self._latest
        if latest is not None:
            viewer.sender.publish(latest)
        viewer.reader.start()

    @staticmethod
    def _cut(raw: socket.socket) -> None:
        with contextlib.suppress(OSError):
            raw.shutdown(socket.SHUT_RDWR)

    def _read_commands(self, viewer: _Viewer) -> None:
        while True:
            try:
                command = viewer.conn.recv()
            except (OSError, EOFError, ValueError, TypeError, AttributeError):
                self.drop(viewer)
                return
            except Exception:  # an unpicklable or hostile message: drop this viewer only
                self.drop(viewer)
                return
            if isinstance(command, Ping):
                viewer.sender.post(Pong(command.token))
            elif isinstance(command, (Stop, Adjust)):
                self._on_command(command)
