"""The fast HTTP/2 transport: ``h2`` over an ``asyncio.Protocol``, many streams per connection.

One connection per (scheme, host, port): TLS with ALPN ``h2``, or cleartext h2c with prior
knowledge. Streams are capped by ``max_streams`` and the server's MAX_CONCURRENT_STREAMS
(waiters queue FIFO). Writes are coalesced: one ``transport.write`` per loop iteration however
many streams were opened in it. Received data is acknowledged at once so big bodies flow.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import hpack

from engine.transport.base import (
    ERR_PROTOCOL,
    ERR_READ,
    ERR_TIMEOUT,
    USER_AGENT,
    Result,
    error_result,
    make_ssl_context,
)
from engine.transport.tls import ConnectFailed, open_connection

if TYPE_CHECKING:
    from engine.plan import PreparedRequest, RunPlan

Headers = list[tuple[bytes, bytes]]
_CONNECTION_HEADERS = frozenset(
    {b"host", b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"}
)
_FIRST_SETTINGS_STREAMS = 100  # assumed until the server's SETTINGS arrive (RFC 9113 advice)
_STREAM_WINDOW = 1 << 20
_CONNECTION_WINDOW = 1 << 24


def build_h2_headers(req: PreparedRequest) -> tuple[Headers, bytes]:
    """The request's h2 header list (pseudo-headers first) and body, built once per index."""
    default_port = 443 if req.scheme == "https" else 80
    authority = req.host if req.port == default_port else f"{req.host}:{req.port}"
    headers: Headers = [
        (b":method", req.method.upper().encode()),
        (b":scheme", req.scheme.encode()),
        (b":authority", authority.encode()),
        (b":path", (req.target or "/").encode()),
    ]
    names = {n.lower() for n, _ in req.headers}
    if "host" in names:
        host = next(v for n, v in req.headers if n.lower() == "host")
        headers[2] = (b":authority", host.encode())
    if "user-agent" not in names:
        headers.append((b"user-agent", USER_AGENT.encode()))
    for name, value in req.headers:
        lowered = name.lower().encode()
        if lowered not in _CONNECTION_HEADERS and lowered != b"content-length":
            headers.append((lowered, value.encode("utf-8")))
    if req.body or req.method.upper() in ("POST", "PUT", "PATCH"):
        headers.append((b"content-length", str(len(req.body)).encode()))
    return headers, req.body


class _BlockCachingEncoder(hpack.Encoder):
    """HPACK encoder that reuses a header block while the dynamic table stays unchanged.

    A load test sends the same few header lists over and over; once their entries are in the
    table, encoding them again yields the same bytes and changes nothing, so those bytes are
    kept (pure-Python HPACK encoding was ~15% of the time per request). Any change to the
    table (new entries, size updates) drops every kept block, since indices move.
    """

    def __init__(self) -> None:
        super().__init__()
        self._blocks: dict[tuple[Any, ...], bytes] = {}

    def encode(self, headers: Any, huffman: bool = True) -> bytes:
        headers = tuple(headers)
        key = (headers, tuple(map(type, headers)), huffman)  # never-indexed tuples differ
        block = self._blocks.get(key)
        if block is not None and not self.table_size_changes:
            return block
        entries = self.header_table.dynamic_entries
        before = (len(entries), entries[0] if entries else None, self.header_table.maxsize)
        block = super().encode(headers, huffman)
        after = (len(entries), entries[0] if entries else None, self.header_table.maxsize)
        if before[0] == after[0] and before[1] is after[1] and before[2] == after[2]:
            self._blocks[key] = block
        else:
            self._blocks.clear()
        return block


class _BlockCachingDecoder(hpack.Decoder):
    """HPACK decoder that remembers header blocks that left the dynamic table unchanged.

    Many servers (nginx among them) send response headers as literals without indexing, so
    the same block arrives again and again and was Huffman-decoded each time (~20% of the
    time per request). A block that changed nothing decodes the same while the table stays
    as it was; any change to the table forgets every remembered block.
    """

    def __init__(self) -> None:
        super().__init__()
        self._blocks: dict[bytes, list[Any]] = {}

    def decode(self, data: bytes, raw: bool = False) -> list[Any]:  # type: ignore[override]
        key = bytes(data)
        headers = self._blocks.get(key)
        if headers is not None and raw:
            return list(headers)
        entries = self.header_table.dynamic_entries
        before = (len(entries), entries[0] if entries else None, self.header_table.maxsize)
        decoded = list(super().decode(data, raw))
        after = (len(entries), entries[0] if entries else None, self.header_table.maxsize)
        if before[0] == after[0] and before[1] is after[1] and before[2] == after[2]:
            if raw and len(self._blocks) < 256:
                self._blocks[key] = decoded
        else:
            self._blocks.clear()
        return list(decoded)


class _CountingH2(h2.connection.H2Connection):
    """h2 counts open streams by walking every stream it holds on each ``send_headers``
    (O(streams) per request: ~7% of the time at 100 streams). The client knows how many of
    its streams are in flight, so the count is O(1) and closed streams are dropped by
    ``forget_stream`` as they end."""

    in_flight: dict[int, _Stream]

    @property
    def open_outbound_streams(self) -> int:
        return len(self.in_flight)

    def forget_stream(self, stream_id: int) -> None:
        """Drop a closed stream as h2's own count would (keeping how it was closed)."""
        stream = self.streams.get(stream_id)
        if stream is not None and stream.closed:
            del self.streams[stream_id]
            self._closed_streams[stream_id] = stream.closed_by


class _Stream:
    """One request in flight on a connection."""

    __slots__ = (
        "body_parts",
        "bytes_in",
        "bytes_out",
        "connect_ns",
        "fut",
        "status",
        "stream_id",
        "t_written",
        "timeout_s",
        "timer",
        "tls_ns",
        "ttfb_ns",
    )

    def __init__(self, fut: asyncio.Future[Result], want_body: bool) -> None:
        self.fut = fut
        self.body_parts: list[bytes] | None = [] if want_body else None
        self.status = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.connect_ns = 0
        self.tls_ns = 0
        self.ttfb_ns = 0
        self.t_written = 0
        self.stream_id = 0
        self.timeout_s = 0.0
        self.timer: asyncio.TimerHandle | None = None

    def result(self, code: int = 0, message: str = "") -> Result:
        body = None
        if code == 0 and self.body_parts is not None:
            body = b"".join(self.body_parts)
        return (
            self.status if code == 0 else 0, code, message, self.bytes_in, self.bytes_out,
            self.connect_ns, self.tls_ns, self.ttfb_ns, body,
        )  # fmt: skip


class H2Connection(asyncio.Protocol):
    """One HTTP/2 connection: an h2 state machine fed from ``data_received``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, where: str, tls: bool) -> None:
        self.loop = loop
        self.where = where
        self.tls = tls  # connection_made comes twice: TCP, then TLS (see transport.tls)
        self.made = 0
        # asyncio's SSL protocol may hand us the server's first frames before start_tls()
        # returns; they wait here until our preface has gone out on the TLS transport.
        self.early: list[bytes] | None = []
        config = h2.config.H2Configuration(
            client_side=True,
            header_encoding=None,
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
            validate_inbound_headers=False,
            normalize_inbound_headers=False,
        )
        self.h2 = _CountingH2(config=config)
        self.h2.encoder = _BlockCachingEncoder()
        self.h2.decoder = _BlockCachingDecoder()
        self.h2.local_settings = h2.settings.Settings(
            client=True,
            initial_values={
                h2.settings.SettingCodes.ENABLE_PUSH: 0,
                h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: _STREAM_WINDOW,
            },
        )
        self.transport: asyncio.Transport | None = None
        self.streams: dict[int, _Stream] = {}
        self.h2.in_flight = self.streams
        self.ended = 0
        self.closed = False
        self.goaway = False
        self.flush_pending = False
        self.max_streams = _FIRST_SETTINGS_STREAMS
        self.slot_waiters: deque[asyncio.Future[None]] = deque()
        self.window_waiters: list[asyncio.Future[None]] = []

    @property
    def usable(self) -> bool:
        return not self.closed and not self.goaway

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.made += 1
        if self.made == (2 if self.tls else 1):
            self.start()  # before any byte from the server reaches h2: the preface goes first

    def start(self) -> None:
        """Send the connection preface and our settings."""
        self.h2.initiate_connection()
        self.h2.increment_flow_control_window(_CONNECTION_WINDOW - 65535)
        self.flush()
        early, self.early = self.early, None
        for data in early or ():
            self.data_received(data)

    def flush(self) -> None:
        self.flush_pending = False
        data = self.h2.data_to_send()
        if data and not self.closed:
            self.transport.write(data)  # type: ignore[union-attr]

    def schedule_flush(self) -> None:
        if not self.flush_pending:
            self.flush_pending = True
            self.loop.call_soon(self.flush)

    # --- receiving -------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self.early is not None:
            self.early.append(data)
            return
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            self.fail_all(ERR_PROTOCOL, f"HTTP/2 protocol error from {self.where}: {exc}")
            return
        streams = self.streams
        for event in events:
            kind = type(event)
            if kind is h2.events.DataReceived:
                stream = streams.get(event.stream_id)  # type: ignore[attr-defined]
                size = event.flow_controlled_length  # type: ignore[attr-defined]
                if size:
                    self.h2.acknowledge_received_data(size, event.stream_id)  # type: ignore[attr-defined]
                if stream is not None:
                    stream.bytes_in += len(event.data)  # type: ignore[attr-defined]
                    if stream.body_parts is not None:
                        stream.body_parts.append(event.data)  # type: ignore[attr-defined]
            elif kind is h2.events.ResponseReceived:
                stream = streams.get(event.stream_id)  # type: ignore[attr-defined]
                if stream is not None:
                    stream.ttfb_ns = perf_counter_ns() - stream.t_written
                    for name, value in event.headers:  # type: ignore[attr-defined]
                        stream.bytes_in += len(name) + len(value)
                        if name == b":status":
                            stream.status = int(value)
            elif kind is h2.events.StreamEnded:
                self._end(event.stream_id, 0, "")  # type: ignore[attr-defined]
            elif kind is h2.events.StreamReset:
                code = event.error_code  # type: ignore[attr-defined]
                name = getattr(code, "name", str(code))
                self._end(
                    event.stream_id,  # type: ignore[attr-defined]
                    ERR_PROTOCOL if name == "PROTOCOL_ERROR" else ERR_READ,
                    f"stream reset by {self.where} ({name})",
                )
            elif kind is h2.events.RemoteSettingsChanged:
                self._settings_changed()
            elif kind is h2.events.WindowUpdated:
                self._wake_window_waiters()
            elif kind is h2.events.ConnectionTerminated:
                self._goaway(event)  # type: ignore[arg-type]
        # acks and window updates go out with the requests this turn sends: one write
        self.schedule_flush()

    def _end(self, stream_id: int, code: int, message: str) -> None:
        stream = self.streams.pop(stream_id, None)
        if stream is None:
            return
        self.h2.forget_stream(stream_id)
        self.ended += 1
        if self.ended % 1024 == 0:
            self.h2._open_streams(1)  # sweep streams that closed after we stopped watching
        stream.timer.cancel()  # type: ignore[union-attr]
        stream.timer = None  # the handle holds the stream: no cycle left for the gc
        if not stream.fut.done():
            stream.fut.set_result(stream.result(code, message))
        if self.slot_waiters:
            self._wake_slot_waiter()

    def _wake_slot_waiter(self) -> None:
        while self.slot_waiters:
            waiter = self.slot_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _wake_window_waiters(self) -> None:
        waiters, self.window_waiters = self.window_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _settings_changed(self) -> None:
        old = self.max_streams
        self.max_streams = self.h2.remote_settings.max_concurrent_streams
        for _ in range(max(0, min(self.max_streams - old, len(self.slot_waiters)))):
            self._wake_slot_waiter()
        self._wake_window_waiters()

    def _goaway(self, event: h2.events.ConnectionTerminated) -> None:
        self.goaway = True
        last = event.last_stream_id if event.last_stream_id is not None else 0
        name = getattr(event.error_code, "name", str(event.error_code))
        code = ERR_READ if name in ("NO_ERROR", "None") else ERR_PROTOCOL
        for stream_id in [sid for sid in self.streams if sid > last]:
            self._end(stream_id, code, f"{self.where} sent GOAWAY ({name}) before answering")
        self._release_all_waiters()

    def _release_all_waiters(self) -> None:
        while self.slot_waiters:
            self._wake_slot_waiter()
        self._wake_window_waiters()

    def fail_all(self, code: int, message: str) -> None:
        """Fail every stream in flight and close the connection."""
        self.closed = True
        for stream_id in list(self.streams):
            self._end(stream_id, code, message)
        self._release_all_waiters()
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.closed and not self.streams:
            return
        self.closed = True
        n = len(self.streams)
        reason = "reset" if isinstance(exc, ConnectionResetError) else "closed"
        for stream_id in list(self.streams):
            self._end(stream_id, ERR_READ, f"connection {reason} by {self.where} ({n} in flight)")
        self._release_all_waiters()

    # --- sending ---------------------------------------------------------------------------

    def on_timeout(self, stream: _Stream) -> None:
        if self.streams.get(stream.stream_id) is not stream:
            return
        if stream.status == 0:
            stage = "waiting for headers"
        else:
            stage = f"reading the body ({stream.bytes_in} bytes in)"
        if not self.closed:
            try:
                self.h2.reset_stream(stream.stream_id, h2.errors.ErrorCodes.CANCEL)
                self.schedule_flush()
            except h2.exceptions.H2Error:
                pass
        self._end(stream.stream_id, ERR_TIMEOUT, f"timed out after {stream.timeout_s:g} s {stage}")

    async def send_body(self, stream_id: int, body: bytes, deadline: float) -> None:
        """Send a request body within flow-control windows; raises on timeout or close."""
        view = memoryview(body)
        offset = 0
        while offset < len(body):
            if self.closed or stream_id not in self.streams:
                return
            window = min(
                self.h2.local_flow_control_window(stream_id), self.h2.max_outbound_frame_size
            )
            if window <= 0:
                waiter = self.loop.create_future()
                self.window_waiters.append(waiter)
                self.schedule_flush()
                await waiter
                continue
            end = min(len(body), offset + window)
            self.h2.send_data(stream_id, view[offset:end].tobytes(), end_stream=end == len(body))
            offset = end
            self.schedule_flush()


class _Endpoint:
    """The connection to one (scheme, host, port), and who is opening it."""

    __slots__ = ("connecting", "connection", "host", "port", "ssl_context")

    def __init__(self, host: str, port: int, ssl_context: ssl.SSLContext | None) -> None:
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.connection: H2Connection | None = None
        self.connecting: asyncio.Future[H2Connection | Result] | None = None


class Http2Client:
    """HTTP/2 client: ``max_streams`` concurrent streams over one connection per endpoint."""

    def __init__(
        self, plan: RunPlan, *, max_streams: int = 100, ca_file: str | None = None
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.max_streams = max(1, max_streams)
        endpoints: dict[tuple[str, str, int, bool], _Endpoint] = {}
        self._endpoint_of: list[_Endpoint] = []
        self._headers: list[Headers] = []
        self._bodies: list[bytes] = []
        self._timeout: list[float] = []
        self._bytes_out: list[int] = []
        for req in plan.requests:
            key = (req.scheme, req.host, req.port, req.insecure)
            ep = endpoints.get(key)
            if ep is None:
                ctx = None
                if req.scheme == "https":
                    ctx = make_ssl_context(
                        req.insecure, ca_file, alpn=("h2", "http/1.1")
                    )  # so a refusal names its choice
                ep = endpoints[key] = _Endpoint(req.host, req.port, ctx)
            headers, body = build_h2_headers(req)
            self._endpoint_of.append(ep)
            self._headers.append(headers)
            self._bodies.append(body)
            self._timeout.append(req.timeout_s)
            self._bytes_out.append(sum(len(n) + len(v) for n, v in headers) + len(body))
        self._endpoints = list(endpoints.values())
        self._addresses: dict = {}

    async def request(self, index: int, want_body: bool) -> Result:
        """Send request ``index`` on a new stream and wait for its result."""
        ep = self._endpoint_of[index]
        timeout = self._timeout[index]
        deadline = self.loop.time() + timeout
        conn = ep.connection
        connect_ns = tls_ns = 0
        if conn is None or not conn.usable:
            try:
                conn, connect_ns, tls_ns = await self._connect(ep, deadline, timeout)
            except ConnectFailed as exc:
                return exc.result
        while len(conn.streams) >= conn.max_streams or len(conn.streams) >= self.max_streams:
            waiter = self.loop.create_future()
            conn.slot_waiters.append(waiter)
            handle = self.loop.call_at(deadline, waiter.cancel)
            try:
                await waiter
            except asyncio.CancelledError:
                if self.loop.time() < deadline:
                    raise
                return error_result(
                    ERR_TIMEOUT, f"timed out after {timeout:g} s waiting for a stream"
                )
            finally:
                handle.cancel()
            if not conn.usable:
                return await self.request(index, want_body)
        return await self._send(conn, index, want_body, deadline, timeout, connect_ns, tls_ns)

    async def _send(
        self, conn: H2Connection, index: int, want_body: bool, deadline: float, timeout: float,
        connect_ns: int, tls_ns: int,
    ) -> Result:  # fmt: skip
        h2conn = conn.h2
        stream = _Stream(self.loop.create_future(), want_body)
        stream.connect_ns = connect_ns
        stream.tls_ns = tls_ns
        stream.timeout_s = timeout
        stream.bytes_out = self._bytes_out[index]
        body = self._bodies[index]
        try:
            stream_id = stream.stream_id = h2conn.get_next_available_stream_id()
            h2conn.send_headers(stream_id, self._headers[index], end_stream=not body)
        except h2.exceptions.H2Error as exc:
            conn.goaway = True  # e.g. stream ids exhausted: the next request opens a new one
            return error_result(ERR_PROTOCOL, f"cannot open an HTTP/2 stream: {exc}")
        conn.streams[stream_id] = stream
        stream.timer = self.loop.call_at(deadline, conn.on_timeout, stream)
        stream.t_written = perf_counter_ns()
        if body:
            if len(body) <= h2conn.max_outbound_frame_size and len(
                body
            ) <= h2conn.local_flow_control_window(stream_id):
                h2conn.send_data(stream_id, body, end_stream=True)
            else:
                conn.schedule_flush()
                self.loop.create_task(conn.send_body(stream_id, body, deadline))
        conn.schedule_flush()
        return await stream.fut

    async def _connect(
        self, ep: _Endpoint, deadline: float, timeout: float
    ) -> tuple[H2Connection, int, int]:
        """Open the endpoint's connection, or wait for whoever is opening it; raises
        ``ConnectFailed``."""
        if ep.connecting is not None:
            opened = await asyncio.shield(ep.connecting)
            if isinstance(opened, H2Connection):
                return opened, 0, 0
            raise ConnectFailed(opened)
        where = f"{ep.host}:{ep.port}"
        tls = ep.ssl_context is not None
        ep.connecting = self.loop.create_future()
        try:
            conn, connect_ns, tls_ns = await open_connection(
                self.loop, lambda: H2Connection(self.loop, where, tls), ep.host, ep.port,
                ep.ssl_context, deadline, timeout, self._addresses,
            )  # fmt: skip
        except ConnectFailed as exc:
            ep.connecting.set_result(exc.result)
            ep.connecting = None
            raise
        if ep.ssl_context is not None:
            ssl_object = conn.transport.get_extra_info("ssl_object")  # type: ignore[union-attr]
            chosen = ssl_object.selected_alpn_protocol() if ssl_object else None
            if chosen != "h2":
                conn.transport.abort()  # type: ignore[union-attr]
                failed = error_result(
                    ERR_PROTOCOL,
                    f"{where} did not agree to HTTP/2 (ALPN chose {chosen or 'nothing'})",
                    connect_ns=connect_ns,
                )
                ep.connecting.set_result(failed)
                ep.connecting = None
                raise ConnectFailed(failed)
        ep.connection = conn
        ep.connecting.set_result(conn)
        ep.connecting = None
        return conn, connect_ns, tls_ns

    async def aclose(self) -> None:
        """Close every connection; streams still in flight end with a read error."""
        for ep in self._endpoints:
            conn = ep.connection
            if conn is not None and not conn.closed:
                try:
                    conn.h2.close_connection()
                    conn.flush()
                except h2.exceptions.H2Error:
                    pass
                conn.closed = True
                conn.transport.close()  # type: ignore[union-attr]
            ep.connection = None
        await asyncio.sleep(0)
