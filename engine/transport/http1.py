"""The fast HTTP/1.1 keep-alive client: a pool of ``H1Connection`` protocols, httptools parsing.

Per request the hot path does: pop an idle connection (LIFO list per endpoint, O(1)), one
``transport.write`` of head+body bytes built once per request index, and one call of the
sender's ``on_done`` once the parser has seen the end of the response. ``start`` is a plain
function: when a connection is idle there is no task, coroutine or future per request.
Timeouts are a deadline per connection checked by one periodic sweep per client, not a timer
per request (``call_at`` + ``cancel`` cost ~2 us of ~13 us a request against nginx here).
Bodies are counted as they arrive and kept only when a check needs them. A flow's request
(``start_with``) is the same path with its bytes filled from the user's values first, and its
response headers kept only when an extraction or the cookie jar reads them.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Awaitable, Coroutine, Sequence
from functools import partial
from time import perf_counter_ns
from typing import TYPE_CHECKING

from engine.plan.template import Filler
from engine.results import ERR_READ, ERR_TIMEOUT, Result, error_result
from engine.transport.base import OnResult, expire_waiter, make_ssl_context
from engine.transport.h1_connection import Endpoint, H1Connection, RequestSpec
from engine.transport.h1_request import build_request_head, build_request_template
from engine.transport.tls import ConnectFailed, open_connection

if TYPE_CHECKING:
    from engine.plan.model import RunPlan

# A keep-alive connection idle this long is closed by the sweep: the pool shrinks back after a
# burst (each connection holds ~8 KiB here; a stall at 20,000 req/s opened ~700 more that
# stayed for the rest of a 10-minute run). Shorter than nginx's default keep-alive (75 s),
# long enough that users thinking for seconds keep reusing connections.
IDLE_EXPIRY_NS = 30_000_000_000


class Http1Client:
    """HTTP/1.1 keep-alive client over at most ``max_connections`` connections."""

    def __init__(
        self, plan: RunPlan, *, max_connections: int = 100, ca_file: str | None = None
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.max_connections = max(1, max_connections)
        self.open = 0
        self.waiters: deque[asyncio.Future[bool]] = deque()  # True: woken, False: expired
        endpoints: dict[tuple[str, str, int, bool], Endpoint] = {}
        contexts: dict[bool, ssl.SSLContext] = {}
        self._specs: list[RequestSpec] = []
        self._templates: list[Filler | None] = []  # a flow's requests: values -> bytes
        self._endpoint_of: list[Endpoint] = []
        self._timeout: list[float] = []
        for req in plan.requests:
            key = (req.scheme, req.host, req.port, req.insecure)
            ep = endpoints.get(key)
            if ep is None:
                ctx = None
                if req.scheme == "https":
                    ctx = contexts.get(req.insecure)
                    if ctx is None:
                        ctx = contexts[req.insecure] = make_ssl_context(req.insecure, ca_file)
                ep = endpoints[key] = Endpoint(req.host, req.port, ctx)
            self._endpoint_of.append(ep)
            self._timeout.append(req.timeout_s)
            data = build_request_head(req)
            self._templates.append(
                build_request_template(req, req.template) if req.template is not None else None
            )
            self._specs.append(
                (ep.idle, data, req.method.upper() == "HEAD", int(req.timeout_s * 1e9),
                 len(self._specs), len(data))
            )  # fmt: skip
        self._endpoints = list(endpoints.values())
        self.closing = False
        self.connections_opened = 0
        self._addresses: dict[tuple[str, int], list[tuple]] = {}
        self._connections: set[H1Connection] = set()
        self._sweep_handle: asyncio.TimerHandle | None = None
        self.idle_expiry_ns = IDLE_EXPIRY_NS
        self._starts: set[asyncio.Task[None]] = set()  # sends waiting for a connection
        # Timeouts fire at most one sweep late: 1/20 of the shortest timeout, 5..100 ms.
        self._sweep_s = min(0.1, max(0.005, min(self._timeout, default=1.0) / 20))

    def start(self, index: int, want_body: bool, on_done: OnResult) -> None:
        """Send request ``index``; ``on_done(result, end_ns)`` gets the outcome (transport
        faults included) later. With an idle connection this is one write, nothing else."""
        spec = self._specs[index]
        if spec[0]:
            spec[0].pop().send(spec, want_body, 0, on_done)
        else:
            self._spawn(self._start_new(spec, want_body, on_done, None))

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
        spec = self._specs[index]
        template = self._templates[index]
        if template is not None:
            data = template(values)
            spec = (spec[0], data, spec[2], spec[3], index, len(data))
        if not spec[0]:
            self._spawn(self._start_new(spec, want_body, on_done, headers_out))
        elif headers_out is None:
            spec[0].pop().send(spec, want_body, 0, on_done)
        else:
            spec[0].pop().send_flow(spec, want_body, headers_out, 0, on_done)

    def request(self, index: int, want_body: bool) -> Awaitable[Result]:
        """Send request ``index``; await the result (never raises for transport faults)."""
        fut: asyncio.Future[Result] = self.loop.create_future()
        self.start(index, want_body, partial(_resolve, fut))
        return fut

    def _spawn(self, coro: Coroutine[None, None, None]) -> None:
        task = self.loop.create_task(coro)
        self._starts.add(task)  # the loop keeps only a weak reference
        task.add_done_callback(self._starts.discard)

    async def _start_new(
        self,
        spec: RequestSpec,
        want_body: bool,
        on_done: OnResult,
        headers_out: list[tuple[bytes, bytes]] | None,
    ) -> None:
        """The slow path: wait for a connection or open one, then send on it."""
        index = spec[4]
        ep = self._endpoint_of[index]
        timeout = self._timeout[index]
        deadline = self.loop.time() + timeout
        deadline_ns = perf_counter_ns() + spec[3]
        if ep.idle:
            ep.idle.pop().send_flow(spec, want_body, headers_out, 0, on_done)
            return
        if self.open >= self.max_connections:
            conn = await self._wait_for_slot(ep, deadline, timeout)
            if isinstance(conn, tuple):
                on_done(conn, perf_counter_ns())
                return
            if conn is not None:
                conn.send_flow(spec, want_body, headers_out, deadline_ns, on_done)
                return
        try:
            conn, connect_ns, tls_ns = await self._open(ep, deadline, timeout)
        except ConnectFailed as exc:
            on_done(exc.result, perf_counter_ns())
            return
        conn.connect_ns = connect_ns
        conn.tls_ns = tls_ns
        conn.send_flow(spec, want_body, headers_out, deadline_ns, on_done)

    async def _open(
        self, ep: Endpoint, deadline: float, timeout: float
    ) -> tuple[H1Connection, int, int]:
        """Open a connection to ``ep`` in a free slot of the cap: (connection, connect ns,
        TLS ns). Raises ``ConnectFailed``; the slot is given back on failure or cancel."""
        self.open += 1
        try:
            conn, connect_ns, tls_ns = await open_connection(
                self.loop, lambda: H1Connection(self, ep, self.loop), ep.host, ep.port,
                ep.ssl_context, deadline, timeout, self._addresses,
            )  # fmt: skip
        except BaseException:  # ConnectFailed, or the caller was cancelled
            self.open -= 1
            self._wake_one()
            raise
        if conn.closed:  # connection_lost has already given the slot back
            failed = error_result(ERR_READ, "connection closed by server right after connecting")
            raise ConnectFailed(failed)
        self.connections_opened += 1
        self._connections.add(conn)
        if self._sweep_handle is None:
            self._sweep_handle = self.loop.call_later(self._sweep_s, self._sweep)
        return conn, connect_ns, tls_ns

    async def warm(self, connections: int) -> None:
        """Open up to ``connections`` idle keep-alive connections to each endpoint, within the
        cap, before a run starts (as wrk2 does), so the first sends of an open-model run do
        not each wait for a connect. Faults are left for the run's own requests to meet and
        count; the connect times of these connections belong to no request."""
        per_endpoint = min(connections, self.max_connections // max(1, len(self._endpoints)))
        await asyncio.gather(
            *(self._warm_one(ep) for ep in self._endpoints for _ in range(per_endpoint)),
            return_exceptions=True,
        )

    async def _warm_one(self, ep: Endpoint) -> None:
        if self.open >= self.max_connections or self.closing:
            return
        timeout = max(self._timeout, default=10.0)
        conn, _, _ = await self._open(ep, self.loop.time() + timeout, timeout)
        conn.reused = True  # a stale one is retried like any idle keep-alive connection
        conn.done_ns = perf_counter_ns()  # idle since (see IDLE_EXPIRY_NS)
        self.release(conn)

    def retry(
        self,
        on_done: OnResult,
        spec: RequestSpec,
        want_body: bool,
        headers_out: list[tuple[bytes, bytes]] | None,
    ) -> None:
        """Send ``spec`` again (its reused connection closed before answering)."""
        self._spawn(self._start_new(spec, want_body, on_done, headers_out))

    def _sweep(self) -> None:
        """Time out requests past their deadline and close connections idle for longer than
        ``idle_expiry_ns``; runs every ``_sweep_s`` while connections exist (O(connections)
        per sweep, nothing per request). The idle lists are LIFO, so their bottom holds the
        connections idle longest."""
        now = perf_counter_ns()
        for conn in [
            c for c in self._connections if c.on_done is not None and now >= c.deadline_ns
        ]:
            conn.on_timeout()
        for ep in self._endpoints:
            idle = ep.idle
            while idle and now - idle[0].done_ns > self.idle_expiry_ns:
                conn = idle.pop(0)
                conn.closed = True
                if conn.transport is not None:
                    conn.transport.close()  # connection_lost gives the slot back
        if self._connections:
            self._sweep_handle = self.loop.call_later(self._sweep_s, self._sweep)
        else:
            self._sweep_handle = None

    async def _wait_for_slot(
        self, ep: Endpoint, deadline: float, timeout: float
    ) -> H1Connection | Result | None:
        """At the connection cap: take an idle connection to ``ep``, or free a slot by closing
        another endpoint's idle one, or wait (FIFO) until one is released."""
        while True:
            if ep.idle:
                return ep.idle.pop()
            for other in self._endpoints:
                if other.idle:
                    victim = other.idle.pop()
                    victim.closed = True
                    transport, victim.transport = victim.transport, None
                    transport.close()  # type: ignore[union-attr]
                    self.open -= 1
                    return None
            if self.open < self.max_connections:
                return None
            waiter: asyncio.Future[bool] = self.loop.create_future()
            self.waiters.append(waiter)
            # The deadline resolves the waiter (False) rather than cancelling it: a timer may
            # fire while loop.time() still reads just short of the deadline (uvloop keeps ms
            # time), and a cancel then looked like the caller's own cancellation.
            handle = self.loop.call_at(deadline, expire_waiter, waiter)
            try:
                woken = await waiter
            finally:
                handle.cancel()
            if not woken:
                return error_result(
                    ERR_TIMEOUT, f"timed out after {timeout:g} s waiting for a connection"
                )

    def _wake_one(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(True)
                return

    def release(self, conn: H1Connection) -> None:
        """A connection finished its request cleanly: back on its idle list (LIFO)."""
        if self.closing:
            conn.closed = True
            conn.transport.close()  # type: ignore[union-attr]
            return
        conn.endpoint.idle.append(conn)
        if self.waiters:
            self._wake_one()

    def connection_closed(self, conn: H1Connection) -> None:
        """Called once from ``connection_lost``: forget the connection."""
        idle = conn.endpoint.idle
        if conn in idle:
            idle.remove(conn)
        self._connections.discard(conn)
        if conn.transport is not None:
            self.open -= 1
            conn.transport = None
            self._wake_one()

    async def aclose(self) -> None:
        """Close every idle connection (in-flight ones close when their requests end); sends
        still waiting for a connection are dropped."""
        self.closing = True
        for task in list(self._starts):
            task.cancel()
        for ep in self._endpoints:
            while ep.idle:
                conn = ep.idle.pop()
                conn.closed = True
                if conn.transport is not None:
                    conn.transport.close()
        await asyncio.sleep(0)


def _resolve(fut: asyncio.Future[Result], result: Result, end_ns: int) -> None:
    if not fut.done():  # the awaiting caller may have been cancelled
        fut.set_result(result)
