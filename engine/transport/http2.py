"""The fast HTTP/2 transport: ``h2`` over an ``asyncio.Protocol``, many streams per connection.

One connection per (scheme, host, port): TLS with ALPN ``h2``, or cleartext h2c with prior
knowledge. Streams are capped by ``max_streams`` and the server's MAX_CONCURRENT_STREAMS
(waiters queue FIFO). The connection protocol lives in ``h2_connection``, the tuned h2 state
machine in ``h2_state``.
"""

from __future__ import annotations

import asyncio
import ssl
from time import perf_counter_ns
from typing import TYPE_CHECKING

import h2.exceptions

from engine.transport.base import (
    ERR_PROTOCOL,
    ERR_TIMEOUT,
    USER_AGENT,
    Result,
    TaskStarts,
    error_result,
    expire_waiter,
    make_ssl_context,
)
from engine.transport.h2_connection import H2Connection, H2Stream
from engine.transport.tls import ConnectFailed, open_connection

if TYPE_CHECKING:
    from engine.plan import PreparedRequest, RunPlan

Headers = list[tuple[bytes, bytes]]
_CONNECTION_HEADERS = frozenset(
    {b"host", b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"}
)


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


class _Endpoint:
    """The connection to one (scheme, host, port), and who is opening it."""

    __slots__ = ("connecting", "connection", "host", "port", "ssl_context")

    def __init__(self, host: str, port: int, ssl_context: ssl.SSLContext | None) -> None:
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.connection: H2Connection | None = None
        self.connecting: asyncio.Future[H2Connection | Result] | None = None


class Http2Client(TaskStarts):
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
        self._uploads: set[asyncio.Task[None]] = set()

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
            waiter: asyncio.Future[bool] = self.loop.create_future()
            conn.slot_waiters.append(waiter)
            handle = self.loop.call_at(deadline, expire_waiter, waiter)  # see http1
            try:
                woken = await waiter
            finally:
                handle.cancel()
            if not woken:
                return error_result(
                    ERR_TIMEOUT, f"timed out after {timeout:g} s waiting for a stream"
                )
            if not conn.usable:
                return await self.request(index, want_body)
        return await self._send(conn, index, want_body, deadline, timeout, connect_ns, tls_ns)

    async def _send(
        self, conn: H2Connection, index: int, want_body: bool, deadline: float, timeout: float,
        connect_ns: int, tls_ns: int,
    ) -> Result:  # fmt: skip
        h2conn = conn.h2
        stream = H2Stream(self.loop.create_future(), want_body)
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
                task = self.loop.create_task(conn.send_body(stream_id, body, deadline))
                self._uploads.add(task)  # the loop keeps only a weak reference
                task.add_done_callback(self._uploads.discard)
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
        connecting = ep.connecting = self.loop.create_future()
        try:
            conn, connect_ns, tls_ns = await open_connection(
                self.loop, lambda: H2Connection(self.loop, where, tls), ep.host, ep.port,
                ep.ssl_context, deadline, timeout, self._addresses,
            )  # fmt: skip
        except ConnectFailed as exc:
            connecting.set_result(exc.result)
            ep.connecting = None
            raise
        except BaseException:  # the opener was cancelled: release whoever waits on it
            connecting.set_result(error_result(ERR_TIMEOUT, f"connecting to {where} cancelled"))
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
        self.cancel_starts()
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
