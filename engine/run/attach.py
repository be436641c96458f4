"""A viewer's side of a run served with ``--listen``: watch it, then detach and leave it going.

``AttachHandle`` has the same ``poll`` / ``recv`` / ``send`` / ``close`` as ``EngineHandle``,
so the dashboard can read from either. ``close`` only detaches: the run goes on. ``send``
accepts ``Ping``, and ``Stop`` / ``Adjust`` when the viewer really means to steer the run.
"""

from __future__ import annotations

import contextlib
import os
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection

from engine.run.listen import read_key_file
from engine.run.process import EngineLink
from engine.run.protocol import Adjust, Command, Ping, Stop


class AttachError(Exception):
    """The run cannot be attached to; the message says why and what to check."""


class AttachHandle(EngineLink):
    """A connection to a listening run."""

    __slots__ = ("socket_path",)

    _closed_text = "detached"
    _gone_text = "the run is gone"

    def __init__(self, conn: Connection, socket_path: str) -> None:
        super().__init__(conn)
        self.socket_path = socket_path

    @classmethod
    def connect(cls, socket_path: str | os.PathLike[str]) -> AttachHandle:
        """Connect to the run listening on ``socket_path`` (reads ``socket_path + ".key"``)."""
        path = os.fspath(socket_path)
        try:
            authkey = read_key_file(path)
        except FileNotFoundError as exc:
            raise AttachError(
                f"{path}: no run is listening here (no key file {path}.key); "
                "start one with `deli-tui run ... --listen SOCKET`"
            ) from exc
        except PermissionError as exc:
            raise AttachError(f"{path}.key: not readable by this user") from exc
        except ValueError as exc:
            raise AttachError(f"{path}.key: not a key file") from exc
        try:
            conn = Client(path, family="AF_UNIX", authkey=authkey)
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise AttachError(f"{path}: no run is listening here ({exc.strerror})") from exc
        except AuthenticationError as exc:
            raise AttachError(f"{path}: the key does not match the run") from exc
        except OSError as exc:
            raise AttachError(f"{path}: cannot connect ({exc})") from exc
        return cls(conn, path)

    @property
    def alive(self) -> bool:
        return not self._closed

    def send(self, command: Command) -> None:
        """Send Ping, Stop or Adjust to the run. Raises ``ConnectionError`` when it has gone."""
        if not isinstance(command, (Ping, Stop, Adjust)):
            raise ValueError(f"a viewer cannot send {type(command).__name__}")
        super().send(command)

    def close(self, timeout: float = 0.0) -> None:
        """Detach. The run goes on."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            self._conn.close()
