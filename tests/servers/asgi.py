"""Run an ASGI app (the demo app by default) with uvicorn or hypercorn in a background thread.

The socket is bound before the server starts, so the port is known and there is no race.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunningServer:
    host: str
    port: int
    scheme: str

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def _bound_socket(host: str = "127.0.0.1") -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # is TCP, and without it every keep-alive response waits ~40 ms for delayed ACKs.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


@contextmanager
def uvicorn_server(app: Any = None) -> Iterator[RunningServer]:
    """HTTP/1.1 server (uvicorn, httptools parser) serving ``app`` (default: a new DemoApp)."""
    import uvicorn

    from deli_tui.demo_server import DemoApp

    sock = _bound_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app or DemoApp(), log_level="error", access_log=False, lifespan="off", http="httptools"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    try:
        while not server.started:
            threading.Event().wait(0.01)
            if not thread.is_alive():
                raise RuntimeError("uvicorn test server did not start")
        yield RunningServer("127.0.0.1", port, "http")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def hypercorn_server(
    app: Any = None, certfile: str | None = None, keyfile: str | None = None
) -> Iterator[RunningServer]:
    """Hypercorn serving ``app``: with cert/key it is HTTPS with ALPN h2 + http/1.1,
    without it plain HTTP/1.1 and h2c (prior knowledge)."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    from deli_tui.demo_server import DemoApp

    sock = _bound_socket()
    port = sock.getsockname()[1]
    sock.close()  # hypercorn binds by address; the port was free a moment ago
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.loglevel = "ERROR"
    config.accesslog = None
    config.h2_max_concurrent_streams = 1000
    if certfile:
        config.certfile = certfile
        config.keyfile = keyfile
        config.alpn_protocols = ["h2", "http/1.1"]
    shutdown = threading.Event()
    started = threading.Event()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()

        def watch() -> None:
            shutdown.wait()
            loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=watch, daemon=True).start()
        asgi_app: Any = app or DemoApp()  # hypercorn's ASGI type is stricter than our Scope
        task = asyncio.ensure_future(serve(asgi_app, config, shutdown_trigger=stop.wait))
        for _ in range(500):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                    break
            except OSError:
                await asyncio.sleep(0.01)
        started.set()
        await task

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("hypercorn test server did not start")
    try:
        yield RunningServer("127.0.0.1", port, "https" if certfile else "http")
    finally:
        shutdown.set()
        thread.join(timeout=10)


def client_ssl_context(ca_pem: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca_pem)
    return ctx
