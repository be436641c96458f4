"""One HTTP/1.1 keep-alive connection: an ``asyncio.Protocol`` feeding an httptools parser.

This is the hot path, written for CPU per request: no callback per header, no ``on_body``
callback unless a body is wanted, no timer per request (the client sweeps deadlines), no
future per request (the result goes to the sender's ``on_done``), completion inlined in
``on_message_complete`` rather than split into helpers (a Python call is ~0.1 us).

The end time is when the chunk holding the last byte was read (stamped in ``data_received``,
before parsing it), and the result is handed over once ``feed_data`` has returned: the parser
is never re-entered, and an exception in ``on_done`` is not mistaken for a malformed response.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sized
from time import perf_counter_ns
from types import SimpleNamespace
from typing import TYPE_CHECKING, Protocol

from httptools import HttpParserError, HttpResponseParser

from engine.results import ERR_PROTOCOL, ERR_READ, ERR_TIMEOUT, Result
from engine.transport.base import OnResult

if TYPE_CHECKING:
    import ssl


class ConnectionOwner(Protocol):
    """What a connection calls back into (the client's pool)."""

    @property
    def waiters(self) -> Sized: ...

    closing: bool

    def release(self, conn: H1Connection) -> None: ...

    def connection_closed(self, conn: H1Connection) -> None: ...

    def retry(
        self,
        on_done: OnResult,
        spec: RequestSpec,
        want_body: bool,
        headers_out: list[tuple[bytes, bytes]] | None,
    ) -> None: ...


# Per request index, built once: (idle list of its endpoint, head+body bytes, is HEAD,
# timeout ns, index, bytes out).
RequestSpec = tuple[list["H1Connection"], bytes, bool, int, int, int]


class Endpoint:
    """Connections to one (scheme, host, port): the LIFO list of idle ones."""

    __slots__ = ("host", "idle", "port", "ssl_context")

    def __init__(self, host: str, port: int, ssl_context: ssl.SSLContext | None) -> None:
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.idle: list[H1Connection] = []


# Parser kinds: httptools binds its callbacks once, at construction, so each kind of request
# gets a parser with only the callbacks it needs. _HEADERS (a flow's request that extracts
# from a header or keeps cookies) adds to any of the others.
_COUNT, _BODY, _HEAD, _HEADERS = 0, 1, 2, 4


class H1Connection(asyncio.Protocol):
    """One keep-alive connection; at most one request in flight on it."""

    __slots__ = (
        "body_parts",
        "bytes_in",
        "chunk_ns",
        "closed",
        "connect_ns",
        "deadline_ns",
        "done_cb",
        "done_ns",
        "done_result",
        "endpoint",
        "first_chunk",
        "headers_out",
        "loop",
        "on_done",
        "owner",
        "parser",
        "parsers",
        "reused",
        "spec",
        "t_written",
        "tls_ns",
        "transport",
        "ttfb_ns",
    )

    def __init__(
        self, owner: ConnectionOwner, endpoint: Endpoint, loop: asyncio.AbstractEventLoop
    ) -> None:
        self.owner = owner
        self.endpoint = endpoint
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.parsers: list[HttpResponseParser | None] = [None] * 8
        self.parser = self._parser(_COUNT)
        self.on_done: OnResult | None = None  # the request in flight
        # a finished request waiting to be handed over once the parser returns
        self.done_cb: OnResult | None = None
        self.done_result: Result | None = None
        self.done_ns = 0  # when the last response ended: idle since then, when idle
        self.deadline_ns = 0
        self.first_chunk = b""
        self.closed = False
        self.reused = False
        self.body_parts: list[bytes] | None = None
        self.headers_out: list[tuple[bytes, bytes]] | None = None  # a flow's header sink
        self.spec: RequestSpec = ([], b"", False, 0, 0, 0)
        self.bytes_in = 0
        self.chunk_ns = 0
        self.connect_ns = 0
        self.tls_ns = 0
        self.ttfb_ns = 0
        self.t_written = 0

    def _parser(self, kind: int) -> HttpResponseParser:
        parser = self.parsers[kind]
        if parser is None:
            callbacks = SimpleNamespace(on_message_complete=self.on_message_complete)
            if kind & _HEAD:
                callbacks.on_headers_complete = self.on_head_headers_complete
            elif kind & _BODY:
                callbacks.on_body = self.on_body
            if kind & _HEADERS:
                callbacks.on_header = self.on_header
            parser = self.parsers[kind] = HttpResponseParser(callbacks)
        return parser

    # --- driving a request -----------------------------------------------------------------

    def send(self, spec: RequestSpec, want_body: bool, deadline_ns: int, on_done: OnResult) -> None:
        """Write one request; ``on_done(result, end_ns)`` gets its outcome later.
        ``deadline_ns`` (``perf_counter_ns``) 0 means the request's timeout from now."""
        self.on_done = on_done
        if spec[2]:
            self.parser = self._parser(_HEAD)
            self.body_parts = [] if want_body else None
        elif want_body:
            self.body_parts = []
            self.parser = self.parsers[_BODY] or self._parser(_BODY)
        else:
            self.body_parts = None
            self.parser = self.parsers[_COUNT]  # type: ignore[assignment]
        self.spec = spec
        self.bytes_in = 0
        self.t_written = now = perf_counter_ns()
        self.deadline_ns = deadline_ns or now + spec[3]
        self.transport.write(spec[1])  # type: ignore[union-attr]

    def send_flow(
        self,
        spec: RequestSpec,
        want_body: bool,
        headers_out: list[tuple[bytes, bytes]] | None,
        deadline_ns: int,
        on_done: OnResult,
    ) -> None:
        """``send`` for a flow's request: ``headers_out``, when given, receives the
        response's headers as (name, value) bytes."""
        kind = (_HEAD if spec[2] else _BODY if want_body else _COUNT) | (
            _HEADERS if headers_out is not None else 0
        )
        self.on_done = on_done
        self.headers_out = headers_out
        self.parser = self.parsers[kind] or self._parser(kind)
        self.body_parts = [] if want_body else None
        self.spec = spec
        self.bytes_in = 0
        self.t_written = now = perf_counter_ns()
        self.deadline_ns = deadline_ns or now + spec[3]
        self.transport.write(spec[1])  # type: ignore[union-attr]

    def _fail(self, code: int, message: str) -> None:
        """End the request in flight with a transport error and drop the connection."""
        self.closed = True
        if self.transport is not None:
            self.transport.abort()
        on_done, self.on_done = self.on_done, None
        if on_done is not None:
            on_done(
                (0, code, message, self.bytes_in, self.spec[5], self.connect_ns, self.tls_ns,
                 self.ttfb_ns, None),
                perf_counter_ns(),
            )  # fmt: skip

    def _headers_done(self) -> bool:
        """Whether the final response head has arrived (rare paths only: read from the first
        chunk, which holds the head unless it is larger than one read)."""
        for block in self.first_chunk.split(b"\r\n\r\n")[:-1]:
            if block[9:10] != b"1" or block[9:12] == b"101":
                return True
        return False

    def _delimited_by_close(self) -> bool:
        """Whether the response has neither Content-Length nor chunked encoding, so the end
        of the connection ends its body."""
        for block in self.first_chunk.split(b"\r\n\r\n")[:-1]:
            if block[9:10] == b"1" and block[9:12] != b"101":
                continue  # an informational response before the real one
            if self.spec[2] or block[9:12] in (b"204", b"304"):
                return False
            lowered = block.lower()
            return b"\ncontent-length:" not in lowered and b"chunked" not in lowered
        return False

    def on_timeout(self) -> None:
        """Called by the client's sweep once the deadline has passed."""
        if self.on_done is None:
            return
        if self.bytes_in == 0:
            stage = "waiting for headers"
        elif not self._headers_done():
            stage = "reading headers"
        else:
            stage = f"reading the body ({self.bytes_in} bytes in)"
        self._fail(ERR_TIMEOUT, f"timed out after {self.spec[3] / 1e9:g} s {stage}")

    # --- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.on_done is None:  # bytes while idle: the server is not speaking our protocol
            self.closed = True
            self.transport.abort()  # type: ignore[union-attr]
            return
        # the time this chunk arrived: also the end of the response when it holds the last
        # byte (one clock read a chunk, not one more a response)
        self.chunk_ns = now = perf_counter_ns()
        if self.bytes_in == 0:
            self.ttfb_ns = now - self.t_written
            self.first_chunk = data  # kept by reference: read only on the rare paths
        self.bytes_in += len(data)
        try:
            self.parser.feed_data(data)
        except HttpParserError as exc:
            self._fail(ERR_PROTOCOL, f"malformed response: {exc}")
        done = self.done_cb
        if done is not None:  # the response ended in this chunk: _hand_over(), inlined (hot path)
            self.done_cb = None
            done(self.done_result, self.done_ns)  # type: ignore[arg-type]

    def _hand_over(self) -> None:
        done = self.done_cb
        if done is not None:
            self.done_cb = None
            done(self.done_result, self.done_ns)  # type: ignore[arg-type]

    def eof_received(self) -> bool | None:
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.owner.connection_closed(self)
        if self.on_done is None:
            return
        reason = "reset" if isinstance(exc, ConnectionResetError) else "closed"
        if self.bytes_in == 0:
            if self.reused:  # a stale keep-alive connection raced our write: send it again
                on_done, self.on_done = self.on_done, None
                wanted = self.parsers.index(self.parser) & _HEADERS
                headers_out = self.headers_out if wanted else None
                self.owner.retry(on_done, self.spec, self.body_parts is not None, headers_out)
            else:
                self._fail(ERR_READ, f"connection {reason} by server before response headers")
        elif not self._headers_done():
            self._fail(ERR_READ, f"connection {reason} mid-headers after {self.bytes_in} bytes")
        elif self._delimited_by_close():
            self.chunk_ns = perf_counter_ns()  # the close ended the body
            self.on_message_complete()
            self._hand_over()
        else:
            self._fail(ERR_READ, f"connection {reason} mid-body after {self.bytes_in} bytes")

    # --- httptools callbacks ---------------------------------------------------------------

    def on_body(self, body: bytes) -> None:
        self.body_parts.append(body)  # type: ignore[union-attr]

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers_out.append((name, value))  # type: ignore[union-attr]

    def on_head_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status >= 200 or status == 101:
            self.on_message_complete()
            # it would wait for the body HEAD omits: start afresh
            self.parsers[_HEAD] = self.parsers[_HEAD | _HEADERS] = None

    def on_message_complete(self) -> None:
        """Finish the request in flight (handed over after the parser returns) and put the
        connection back (or close it)."""
        on_done = self.on_done
        if on_done is None:
            return
        parser = self.parser
        status = parser.get_status_code()
        if status < 200 and status != 101:
            return  # an informational response (100 Continue): the real one follows
        self.done_ns = self.chunk_ns
        self.on_done = None
        self.done_cb = on_done
        parts = self.body_parts
        self.done_result = (
            status, 0, "", self.bytes_in, self.spec[5], self.connect_ns, self.tls_ns,
            self.ttfb_ns,
            None if parts is None else (parts[0] if len(parts) == 1 else b"".join(parts)),
        )  # fmt: skip
        if self.connect_ns:
            self.connect_ns = self.tls_ns = 0
        if self.closed:
            return
        if parser.should_keep_alive():
            self.reused = True
            owner = self.owner
            if owner.waiters or owner.closing:
                owner.release(self)
            else:
                self.endpoint.idle.append(self)
        else:
            self.closed = True
            self.transport.close()  # type: ignore[union-attr]
