"""The fast HTTP/2 transport: ``h2`` over an ``asyncio.Protocol``, many streams per connection.

One connection per (scheme, host, port): TLS with ALPN ``h2``, or cleartext h2c with prior
knowledge. Streams are capped by ``max_streams`` and the server's MAX_CONCURRENT_STREAMS;
starts beyond the cap queue FIFO on the connection and open as streams end. ``start()`` on a
ready connection opens the stream at once and its ``on_done`` comes from the protocol (no
future, task or timer per request); only connecting runs as a task. Timeouts are one periodic
sweep per client (a ``call_at`` + ``cancel`` per stream cost ~4% of the time a request).
The connection protocol lives in ``h2_connection``, the tuned h2 state machine in ``h2_state``.

A request the server never processed (a stream above a GOAWAY's last stream id, or refused
with REFUSED_STREAM) is sent again, on the endpoint's connection or the one replacing it, up
to ``MAX_RETRIES`` times (backing off) within its own deadline; only then is it an error
(``refused``). ``retried`` counts the sends again, ``connections_opened`` the connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import Sequence
from functools import partial
from time import perf_counter_ns
from typing import TYPE_CHECKING

import h2.exceptions

from engine.results import (
    ERR_PROTOCOL,
    ERR_READ,
    ERR_REFUSED,
    ERR_TIMEOUT,
    Result,
    error_result,
)
from engine.transport.base import OnResult, make_ssl_context
from engine.transport.h2_connection import FlowStream, H2Connection, H2Stream, PendingStart
from engine.transport.h2_request import (
    FlowSend,
    H2Template,
    Headers,
    build_h2_headers,
    build_h2_template,
    fill_h2,
)
from engine.transport.tls import ConnectFailed, open_connection

if TYPE_CHECKING:
    from engine.plan.model import RunPlan

# Sends again of a request the server declined unprocessed, as Go's HTTP/2 transport allows
# (6). The first goes at once; later ones back off (5, 10, 20, 40, 80 ms) so a server that
# refuses while it is busy gets a moment, and none goes past the request's own deadline.
MAX_RETRIES = 6
RETRY_BACKOFF_S = 0.005


class _Endpoint:
    """The connection to one (scheme, host, port), and who is opening it."""

    __slots__ = ("connecting", "connection", "host", "port", "ssl_context", "where")

    def __init__(self, host: str, port: int, ssl_context: ssl.SSLContext | None) -> None:
        self.host = host
        self.port = port
        self.where = f"{host}:{port}"
        self.ssl_context = ssl_context
        self.connection: H2Connection | None = None
        self.connecting: asyncio.Future[H2Connection | Result] | None = None


def _resolve(fut: asyncio.Future[Result], result: Result, end_ns: int) -> None:
    if not fut.done():
        fut.set_result(result)


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
        self._timeout_ns: list[int] = []
        self._bytes_out: list[int] = []
        self._templates: list[H2Template | None] = []
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
            self._templates.append(
                build_h2_template(req, req.template) if req.template is not None else None
            )
            self._endpoint_of.append(ep)
            self._headers.append(headers)
            self._bodies.append(body)
            self._timeout.append(req.timeout_s)
            self._timeout_ns.append(int(req.timeout_s * 1e9))
            self._bytes_out.append(sum(len(n) + len(v) for n, v in headers) + len(body))
        self._endpoints = list(endpoints.values())
        self._addresses: dict = {}
        self._connections: set[H2Connection] = set()  # swept for timeouts until drained
        self._connects: set[asyncio.Task[None]] = set()
        self._uploads: set[asyncio.Task[None]] = set()
        self._sweep_handle: asyncio.TimerHandle | None = None
        # Timeouts fire at most one sweep late: 1/20 of the shortest timeout, 5..100 ms.
        self._sweep_s = min(0.1, max(0.005, min(self._timeout, default=1.0) / 20))
        self.closing = False
        self.connections_opened = 0
        self.retried = 0  # requests sent again because the server never processed them

    def start(self, index: int, want_body: bool, on_done: OnResult) -> None:
        """Send request ``index``; ``on_done(result, end_ns)`` follows once, later."""
        conn = self._endpoint_of[index].connection
        deadline_ns = perf_counter_ns() + self._timeout_ns[index]
        if conn is not None and conn.usable:
            if not conn.pending and len(conn.streams) < conn.limit:
                self._open(conn, index, want_body, on_done, deadline_ns, 0, 0, 0)
            else:
                conn.pending.append((index, want_body, on_done, deadline_ns, 0, 0, 0))
            return
        self._start_later(index, want_body, on_done, deadline_ns, 0, 0, 0)

    def start_with(
        self,
        index: int,
        values: Sequence[str],
        want_body: bool,
        headers_out: list[tuple[bytes, bytes]] | None,
        on_done: OnResult,
    ) -> None:
        """``start`` for a flow's request: its template filled with the user's ``values``;
        ``headers_out``, when given, receives the response's headers."""
        template = self._templates[index]
        if template is not None:
            headers, body = fill_h2(template, values)
        else:
            headers, body = self._headers[index], self._bodies[index]
        bytes_out = sum(len(n) + len(v) for n, v in headers) + len(body)
        send = FlowSend(index, headers, body, bytes_out, headers_out)
        conn = self._endpoint_of[index].connection
        deadline_ns = perf_counter_ns() + self._timeout_ns[index]
        if conn is not None and conn.usable:
            if not conn.pending and len(conn.streams) < conn.limit:
                self._open(conn, send, want_body, on_done, deadline_ns, 0, 0, 0)
            else:
                conn.pending.append((send, want_body, on_done, deadline_ns, 0, 0, 0))
            return
        self._start_later(send, want_body, on_done, deadline_ns, 0, 0, 0)

    def request(self, index: int, want_body: bool) -> asyncio.Future[Result]:
        """Send request ``index``; await the result (never raises for transport faults)."""
        fut: asyncio.Future[Result] = self.loop.create_future()
        self.start(index, want_body, partial(_resolve, fut))
        return fut

    def _open(
        self, conn: H2Connection, index: int | FlowSend, want_body: bool, on_done: OnResult,
        deadline_ns: int, connect_ns: int, tls_ns: int, retries: int,
    ) -> None:  # fmt: skip
        """Open a stream for request ``index`` (or a flow's filled send) on ``conn`` (a slot
        is free)."""
        h2conn = conn.h2
        if index.__class__ is int:
            i: int = index  # type: ignore[assignment]
            headers, body, bytes_out = self._headers[i], self._bodies[i], self._bytes_out[i]
            headers_out = None
        else:
            send: FlowSend = index  # type: ignore[assignment]
            i, headers, body, bytes_out = send.index, send.headers, send.body, send.bytes_out
            headers_out = send.headers_out
        try:
            stream_id = h2conn.get_next_available_stream_id()
            h2conn.send_headers(stream_id, headers, end_stream=not body)
        except h2.exceptions.TooManyStreamsError:  # the server lowered its limit just now
            conn.limit = min(conn.cap, h2conn.remote_settings.max_concurrent_streams)
            conn.pending.appendleft(
                (index, want_body, on_done, deadline_ns, connect_ns, tls_ns, retries)
            )
            return
        except h2.exceptions.H2Error as exc:  # e.g. stream ids exhausted: a new connection
            message = f"cannot open an HTTP/2 stream: {exc}"
            failed = error_result(ERR_PROTOCOL, message, connect_ns=connect_ns)
            self.loop.call_soon(on_done, failed, perf_counter_ns())
            conn.retire(ERR_PROTOCOL, message)
            return
        if headers_out is None:
            stream = H2Stream(
                index, on_done, want_body, deadline_ns, self._timeout[i], bytes_out, connect_ns,
                tls_ns, retries,
            )  # fmt: skip
        else:
            stream = FlowStream(
                index, on_done, want_body, deadline_ns, self._timeout[i], bytes_out, connect_ns,
                tls_ns, retries,
            )  # fmt: skip
            stream.headers_out = headers_out
        stream.stream_id = stream_id
        conn.streams[stream_id] = stream
        stream.t_written = perf_counter_ns()
        if body:
            if len(body) <= h2conn.max_outbound_frame_size and len(
                body
            ) <= h2conn.local_flow_control_window(stream_id):
                h2conn.send_data(stream_id, body, end_stream=True)
            else:
                task = self.loop.create_task(conn.send_body(stream_id, body))
                self._uploads.add(task)  # the loop keeps only a weak reference
                task.add_done_callback(self._uploads.discard)
        conn.schedule_flush()

    def open_pending(self, conn: H2Connection) -> None:
        """Streams ended or the server allowed more: open the starts waiting on ``conn``."""
        pending = conn.pending
        streams = conn.streams
        while pending and len(streams) < conn.limit and conn.usable:
            self._open(conn, *pending.popleft())

    def requeue(self, conn: H2Connection) -> None:
        """``conn`` takes no new streams: its waiting starts look for another connection."""
        pending, conn.pending = conn.pending, deque()
        for waiting in pending:
            self._start_later(*waiting)

    def retry(self, stream: H2Stream, why: str) -> None:
        """The server never processed ``stream`` (``why``): send it again on the endpoint's
        connection or its replacement; after ``MAX_RETRIES`` it fails as ``refused``."""
        retries = stream.retries + 1
        delay = RETRY_BACKOFF_S * (1 << (retries - 2)) if retries > 1 else 0.0
        if retries > MAX_RETRIES or perf_counter_ns() + delay * 1e9 >= stream.deadline_ns:
            message = f"{why}; not processed in {retries} attempts"
            failed = error_result(ERR_REFUSED, message, connect_ns=stream.connect_ns)
            self.loop.call_soon(stream.on_done, failed, perf_counter_ns())
            return
        self.retried += 1
        start = (
            stream.index, stream.body_parts is not None, stream.on_done, stream.deadline_ns,
            stream.connect_ns, stream.tls_ns, retries,
        )  # fmt: skip
        if delay:
            self.loop.call_later(delay, self._send_again, start)
        else:
            self._send_again(start)

    def _send_again(self, start: PendingStart) -> None:
        index = start[0]
        i = index if isinstance(index, int) else index.index
        conn = self._endpoint_of[i].connection
        if conn is not None and conn.usable:
            if not conn.pending and len(conn.streams) < conn.limit:
                self._open(conn, *start)
            else:
                conn.pending.append(start)
            return
        self._start_later(*start)

    def replace(self, conn: H2Connection) -> None:
        """``conn`` was told to go away: its endpoint's next connection opens now, while it
        drains, so the next sends find it ready. A failure here is left to those sends."""
        if self.closing:
            return
        for ep in self._endpoints:
            if ep.connection is conn and ep.connecting is None:
                task = self.loop.create_task(self._replacement(ep))
                self._connects.add(task)
                task.add_done_callback(self._connects.discard)

    async def _replacement(self, ep: _Endpoint) -> None:
        timeout = max(self._timeout, default=10.0)
        with contextlib.suppress(ConnectFailed):
            await self._connect(ep, self.loop.time() + timeout, timeout)

    def _start_later(
        self, index: int | FlowSend, want_body: bool, on_done: OnResult, deadline_ns: int,
        connect_ns: int, tls_ns: int, retries: int,
    ) -> None:  # fmt: skip
        if self.closing:
            failed = error_result(ERR_READ, "the client was closed before the request was sent")
            self.loop.call_soon(on_done, failed, perf_counter_ns())
            return
        task = self.loop.create_task(
            self._connect_then_start(
                index, want_body, on_done, deadline_ns, connect_ns, tls_ns, retries
            )
        )
        self._connects.add(task)
        task.add_done_callback(self._connects.discard)

    async def _connect_then_start(
        self, index: int | FlowSend, want_body: bool, on_done: OnResult, deadline_ns: int,
        connect_ns: int, tls_ns: int, retries: int,
    ) -> None:  # fmt: skip
        """The slow path: (open or wait for) the endpoint's connection, then start. A retried
        start keeps the connect and TLS times of its first send unless it connects itself."""
        i = index if isinstance(index, int) else index.index
        ep = self._endpoint_of[i]
        try:
            conn = ep.connection
            if conn is None or not conn.usable:
                deadline = self.loop.time() + (deadline_ns - perf_counter_ns()) / 1e9
                conn, new_connect, new_tls = await self._connect(ep, deadline, self._timeout[i])
                if new_connect:
                    connect_ns, tls_ns = new_connect, new_tls
        except ConnectFailed as exc:
            on_done(exc.result, perf_counter_ns())
            return
        except asyncio.CancelledError:
            on_done(
                error_result(ERR_READ, "the client was closed while connecting"), perf_counter_ns()
            )
            raise
        except Exception as exc:  # a transport bug: counted and shown, and raised into the log
            on_done(error_result(ERR_PROTOCOL, f"transport failed: {exc!r}"), perf_counter_ns())
            raise
        if not conn.usable:
            code, message = conn.failure or (ERR_READ, f"connection to {ep.where} closed")
            on_done(error_result(code, message, connect_ns=connect_ns), perf_counter_ns())
        elif not conn.pending and len(conn.streams) < conn.limit:
            self._open(conn, index, want_body, on_done, deadline_ns, connect_ns, tls_ns, retries)
        else:
            conn.pending.append(
                (index, want_body, on_done, deadline_ns, connect_ns, tls_ns, retries)
            )

    async def warm(self, connections: int) -> None:
        """Open each endpoint's connection before a run starts, so the first sends of an
        open-model run find it ready (one connection carries every stream: ``connections``
        only says whether). Faults are left for the run's own requests to meet and count;
        the connect time belongs to no request."""
        if connections <= 0 or self.closing:
            return
        timeout = max(self._timeout, default=10.0)
        await asyncio.gather(
            *(
                self._connect(ep, self.loop.time() + timeout, timeout)
                for ep in self._endpoints
                if ep.connection is None or not ep.connection.usable
            ),
            return_exceptions=True,
        )

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
        where = ep.where
        tls = ep.ssl_context is not None
        connecting = ep.connecting = self.loop.create_future()
        try:
            conn, connect_ns, tls_ns = await open_connection(
                self.loop, lambda: H2Connection(self.loop, where, tls, self, self.max_streams),
                ep.host, ep.port, ep.ssl_context, deadline, timeout, self._addresses,
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
                conn.closed = True
                conn.transport.abort()  # type: ignore[union-attr]
                failed = error_result(
                    ERR_PROTOCOL,
                    f"{where} did not agree to HTTP/2 (ALPN chose {chosen or 'nothing'})",
                    connect_ns=connect_ns,
                )
                connecting.set_result(failed)
                ep.connecting = None
                raise ConnectFailed(failed)
        ep.connection = conn
        self.connections_opened += 1
        self._connections.add(conn)
        if self._sweep_handle is None and not self.closing:
            self._sweep_handle = self.loop.call_later(self._sweep_s, self._sweep)
        connecting.set_result(conn)
        ep.connecting = None
        return conn, connect_ns, tls_ns

    def _sweep(self) -> None:
        """Time out streams and waiting starts past their deadline, and let go of drained
        connections; runs every ``_sweep_s`` while connections exist (O(streams) per sweep,
        nothing per request)."""
        now = perf_counter_ns()
        for conn in list(self._connections):
            if conn.streams:
                for stream in [s for s in conn.streams.values() if now >= s.deadline_ns]:
                    conn.on_timeout(stream, now)
            if conn.pending:
                self._expire_pending(conn, now)
            if not conn.usable and not conn.streams and not conn.pending:
                self._connections.discard(conn)
                if not conn.closed:  # told to go away and drained: hang up
                    conn.closed = True
                    conn.transport.close()  # type: ignore[union-attr]
        if self._connections and not self.closing:
            self._sweep_handle = self.loop.call_later(self._sweep_s, self._sweep)
        else:
            self._sweep_handle = None

    def _expire_pending(self, conn: H2Connection, now: int) -> None:
        expired: list[PendingStart] = []
        kept: deque[PendingStart] = deque()
        for waiting in conn.pending:
            (expired if now >= waiting[3] else kept).append(waiting)
        if not expired:
            return
        conn.pending = kept  # before any on_done: one may start again and queue here
        for index, _, on_done, _, connect_ns, _, _ in expired:
            i = index if isinstance(index, int) else index.index
            message = f"timed out after {self._timeout[i]:g} s waiting for a stream"
            on_done(error_result(ERR_TIMEOUT, message, connect_ns=connect_ns), now)

    async def aclose(self) -> None:
        """Close every connection: streams in flight end with a read error, and starts still
        connecting or waiting for a slot get one too (their ``on_done`` comes later)."""
        self.closing = True
        if self._sweep_handle is not None:
            self._sweep_handle.cancel()
            self._sweep_handle = None
        for task in [*self._connects, *self._uploads]:
            task.cancel()
        for conn in list(self._connections):
            conn.retire(ERR_READ, "the client was closed")  # waiting starts fail via requeue
            if not conn.closed:
                try:
                    conn.h2.close_connection()
                    conn.flush()
                except h2.exceptions.H2Error:
                    pass
                conn.closed = True
                conn.transport.close()  # type: ignore[union-attr]
        self._connections.clear()
        for ep in self._endpoints:
            ep.connection = None
        await asyncio.sleep(0)
