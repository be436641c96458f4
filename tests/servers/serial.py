"""An HTTP/1.1 server that serves one request at a time, in arrival order, ``service_s`` each.

Its latency follows queueing arithmetic: with N clients each keeping one request in flight
(the closed model), a request waits for the N - 1 ahead of it, so it takes N x
``service_s`` at least (more only by the host's own delays); requests arriving evenly at a
rate below 1 / ``service_s`` (the open model) never queue, and above it the queue, and the
latency, grow without end. Requests take their turn by ticket: a plain lock is not fair, and
a request overtaken again and again would wait longer than the arithmetic says.

The server runs in a process of its own, so that a test process busy drawing an app does not
hold up its threads.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized

_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"
START_TIMEOUT_S = 30.0


@dataclass
class SerialServer:
    host: str
    port: int
    service_s: float
    _served: Synchronized[int]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def served(self) -> int:
        """Requests answered so far (the server's own count)."""
        return int(self._served.value)


class TicketLock:
    """A lock taken in the order it was asked for."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._next = 0
        self._serving = 0

    def __enter__(self) -> None:
        with self._cond:
            ticket = self._next
            self._next += 1
            self._cond.wait_for(lambda: self._serving == ticket)

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._serving += 1
            self._cond.notify_all()


def _handler(service_s: float, served: Synchronized[int]) -> type[BaseHTTPRequestHandler]:
    lock = TicketLock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # a response's bytes must not wait for an ACK

        def do_GET(self) -> None:
            with lock:
                end = time.perf_counter() + service_s
                while (left := end - time.perf_counter()) > 0:
                    time.sleep(left)
                with served.get_lock():
                    served.value += 1
            self.wfile.write(_RESPONSE)  # one write: status line, headers and body

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def _serve(conn: Connection, service_s: float, served: Synchronized[int]) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(service_s, served))
    httpd.daemon_threads = True
    threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    conn.send(httpd.server_address[1])
    with contextlib.suppress(EOFError):  # EOF: the test closed its end
        conn.recv()  # until the test is done with it


@contextmanager
def serial_server(service_s: float = 0.020) -> Iterator[SerialServer]:
    """The server on an ephemeral port of 127.0.0.1, for the length of the block."""
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    served = ctx.Value("i", 0)
    process = ctx.Process(target=_serve, args=(theirs, service_s, served), daemon=True)
    process.start()
    try:
        if not ours.poll(START_TIMEOUT_S):
            raise RuntimeError("the serial server did not start")
        yield SerialServer("127.0.0.1", int(ours.recv()), service_s, served)
    finally:
        ours.close()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join(5)
