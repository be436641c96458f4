"""A misbehaving HTTP/1.1 server for fault tests: raw asyncio TCP on 127.0.0.1, routes by path.

Routes: ``/ok``, ``/close`` (read the request, close without answering), ``/reset`` (partial
response then RST), ``/noheaders`` (never answers), ``/trickle?ms=&n=`` (n body bytes, one
every ms), ``/huge?mb=N`` (N MiB streamed from one reused chunk), ``/badstatus``,
``/badchunk``, ``/burst5xx?every=N&burst=M`` (M 503s at the start of every N requests),
``/chunked`` (valid chunked), ``/eof`` (body delimited by closing), ``/connclose``
(``Connection: close``), ``/continue`` (a 100 Continue before the 200), ``/redirect``
(302 to ``/ok``), ``/then-close`` (answers, keeps the connection open, then closes it
unanswered on the next request: a stale keep-alive connection).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

_HUGE_CHUNK = b"x" * (1 << 20)


@dataclass(frozen=True)
class FaultServer:
    host: str
    port: int
    scheme: str

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def refused_port() -> int:
    """A port on 127.0.0.1 nobody listens on (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _response(status: str, body: bytes, extra: str = "") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


class _FaultHandler:
    """Serves one connection: keep-alive loop over requests, one route per request."""

    def __init__(self) -> None:
        self.burst_count = 0
        self.tasks: set[asyncio.Task[None]] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        state = {"close_next": False}
        try:
            while await self._serve_one(reader, writer, state):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError):
            pass
        finally:
            self.tasks.discard(task)
            if not writer.transport.is_closing():
                writer.transport.abort()

    async def _serve_one(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, state: dict[str, bool]
    ) -> bool:
        """Answer one request; return whether the connection stays open for another."""
        head = await reader.readuntil(b"\r\n\r\n")
        if state["close_next"]:  # a keep-alive connection the server gave up on meanwhile
            writer.close()
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length:
            await reader.readexactly(length)
        url = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        path = url.path
        if path == "/ok":
            writer.write(_response("200 OK", b"ok\n"))
        elif path == "/close":
            writer.close()
            return False
        elif path == "/reset":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial body")
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.get_extra_info("socket").setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            writer.transport.abort()
            return False
        elif path == "/noheaders":
            await asyncio.sleep(3600)
        elif path == "/trickle":
            ms, n = int(query.get("ms", "100")), int(query.get("n", "10"))
            writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n".encode())
            for _ in range(n):
                await writer.drain()
                await asyncio.sleep(ms / 1000)
                writer.write(b"t")
        elif path == "/huge":
            await self._huge(writer, int(float(query.get("mb", "1")) * (1 << 20)))
        elif path == "/badstatus":
            writer.write(b"HTTP/1.1 OOPS not a status\r\nContent-Length: 2\r\n\r\nok")
        elif path == "/badchunk":
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n")
        elif path == "/burst5xx":
            every, burst = int(query.get("every", "10")), int(query.get("burst", "3"))
            n = self.burst_count
            self.burst_count += 1
            if n % every < burst:
                writer.write(_response("503 Service Unavailable", b"busy\n"))
            else:
                writer.write(_response("200 OK", b"ok\n"))
        elif path == "/chunked":
            writer.write(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
            )
        elif path == "/eof":
            writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
            await writer.drain()
            writer.close()
            return False
        elif path == "/connclose":
            writer.write(_response("200 OK", b"bye\n", "Connection: close\r\n"))
            await writer.drain()
            writer.close()
            return False
        elif path == "/then-close":
            writer.write(_response("200 OK", b"ok\n"))
            state["close_next"] = True
        elif path == "/redirect":
            writer.write(_response("302 Found", b"", "Location: /ok\r\n"))
        elif path == "/continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n" + _response("200 OK", b"after\n"))
        else:
            writer.write(_response("404 Not Found", b"no such route\n"))
        await writer.drain()
        return method != "CLOSE"

    async def _huge(self, writer: asyncio.StreamWriter, n: int) -> None:
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n".encode())
        view = memoryview(_HUGE_CHUNK)
        while n > 0:
            piece = view[: min(n, len(view))]
            writer.write(piece)
            n -= len(piece)
            await writer.drain()


@contextmanager
def fault_server(certfile: str | None = None, keyfile: str | None = None) -> Iterator[FaultServer]:
    """Run the fault server in a background thread; HTTPS (ALPN http/1.1) with cert/key."""
    ssl_context = None
    if certfile:
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(certfile, keyfile)
        ssl_context.set_alpn_protocols(["http/1.1"])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    handler = _FaultHandler()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop: asyncio.Event | None = None

    async def main() -> None:
        nonlocal stop
        stop = asyncio.Event()
        server = await asyncio.start_server(handler.handle, sock=sock, ssl=ssl_context)
        started.set()
        await stop.wait()
        server.close()
        for task in list(handler.tasks):
            task.cancel()
        await asyncio.sleep(0)

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("fault server did not start")
    try:
        yield FaultServer("127.0.0.1", port, "https" if certfile else "http")
    finally:
        assert stop is not None
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        sock.close()


class _H2FaultProtocol(asyncio.Protocol):
    """Cleartext HTTP/2 (prior knowledge) with faults by path: ``/ok``, ``/rst`` (the stream
    is reset), ``/goaway`` (GOAWAY naming an earlier stream, then close), ``/garbage`` (a
    frame no peer may send: DATA on stream 0)."""

    def __init__(self) -> None:
        import h2.config
        import h2.connection

        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding=None)
        )
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.conn.initiate_connection()
        self.transport.write(self.conn.data_to_send())

    def data_received(self, data: bytes) -> None:
        import h2.errors
        import h2.events
        import h2.exceptions

        assert self.transport is not None
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.transport.write(self.conn.data_to_send())
            self.transport.close()
            return
        for event in events:
            if not isinstance(event, h2.events.RequestReceived):
                continue
            sid = event.stream_id
            path = dict(event.headers).get(b":path", b"/")
            if path == b"/rst":
                self.conn.reset_stream(sid, h2.errors.ErrorCodes.INTERNAL_ERROR)
            elif path == b"/goaway":
                self.conn.close_connection(last_stream_id=max(0, sid - 2))
                self.transport.write(self.conn.data_to_send())
                self.transport.close()
                return
            elif path == b"/garbage":
                # a DATA frame on stream 0: a connection error in any HTTP/2 peer
                self.transport.write(b"\x00\x00\x02\x00\x00\x00\x00\x00\x00ok")
                return
            else:
                self.conn.send_headers(sid, [(b":status", b"200"), (b"content-length", b"3")])
                self.conn.send_data(sid, b"ok\n", end_stream=True)
        self.transport.write(self.conn.data_to_send())


@contextmanager
def h2_fault_server() -> Iterator[FaultServer]:
    """Run the HTTP/2 (h2c) fault server in a background thread."""
    loop = asyncio.new_event_loop()
    ready: list[int] = []
    started = threading.Event()
    stop: asyncio.Event | None = None

    async def main() -> None:
        nonlocal stop
        stop = asyncio.Event()
        server = await loop.create_server(_H2FaultProtocol, "127.0.0.1", 0)
        ready.append(server.sockets[0].getsockname()[1])
        started.set()
        await stop.wait()
        server.close()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("h2 fault server did not start")
    try:
        yield FaultServer("127.0.0.1", ready[0], "http")
    finally:
        assert stop is not None
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
