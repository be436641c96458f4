"""``deli-tui --demo``: the embedded demo target in a child process, and where the demo lives.

The server runs as ``python -m deli_tui demo-server --port P`` on 127.0.0.1 (8089, or a free
port when 8089 is taken). It is asked to die with its parent (``parent_death``) so a
killed app leaves no orphan, and it is stopped explicitly on a normal exit.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from deli_tui.parent_death import die_with_parent

DEFAULT_DEMO_PORT = 8089
_PACKAGE_DIR = Path(__file__).resolve().parent


def locate_demo_collection() -> Path | None:
    """The demo collection: the repo's ``sample_collections/demo`` (source or editable
    install), else the copy shipped inside the package as ``deli_tui/demo_collection``."""
    for candidate in (
        _PACKAGE_DIR.parent / "sample_collections" / "demo",
        _PACKAGE_DIR / "demo_collection",
    ):
        if (candidate / "collection.yaml").is_file():
            return candidate
    return None


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def pick_demo_port(preferred: int = DEFAULT_DEMO_PORT) -> int:
    """``preferred`` when it is free, else a port the kernel hands out."""
    if port_is_free(preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(host: str, port: int) -> bool:
    conn = http.client.HTTPConnection(host, port, timeout=0.5)
    try:
        conn.request("GET", "/")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


class DemoServerProcess:
    """The demo server as a child process; a context manager that starts and stops it."""

    def __init__(self, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port if port is not None else pick_demo_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 15.0) -> None:
        """Start the child and wait until it answers ``GET /`` (RuntimeError if it never does)."""
        cmd = [sys.executable, "-m", "deli_tui", "demo-server"]
        cmd += ["--host", self.host, "--port", str(self.port)]
        self.process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            preexec_fn=die_with_parent if os.name == "posix" else None,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._stderr.seek(0)
                err = self._stderr.read().decode(errors="replace")
                raise RuntimeError(f"demo server exited at start: {err.strip()[-500:]}")
            if _answers(self.host, self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"demo server did not answer on {self.url} within {timeout_s:.0f}s")

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            self._stderr.close()
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        self._stderr.close()

    def __enter__(self) -> DemoServerProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
