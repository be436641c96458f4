"""One HTTP/2 connection: an ``asyncio.Protocol`` feeding h2, and the streams in flight on it.

Writes are coalesced: one ``transport.write`` per loop turn however many streams opened or
frames were acknowledged in it. A stream's outcome goes straight to its ``on_done`` from
``data_received`` (no future, no task). Starts that find every stream slot taken wait in
``pending`` (FIFO) and are opened by the owner as streams end; timeouts are swept by the
owner, not timed per stream.

A connection the server tells to go away (GOAWAY) drains: the streams up to its last stream
id are answered as usual, the ones above it were never processed and go back to the owner to
be sent again, as do streams the server refuses (REFUSED_STREAM). A connection that closes
with streams open fails them as read errors: the server may have processed them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from time import perf_counter_ns
from typing import Any, Protocol

import h2.errors
import h2.events
import h2.exceptions

from engine.results import ERR_PROTOCOL, ERR_READ, ERR_TIMEOUT, Result
from engine.transport.base import OnResult
from engine.transport.h2_state import new_client_state

FIRST_SETTINGS_STREAMS = 100  # assumed until the server's SETTINGS arrive (RFC 9113 advice)
CONNECTION_WINDOW = 1 << 24

# A start waiting for a stream slot: (index, want_body, on_done, deadline_ns, connect_ns,
# tls_ns, retries); a flow's send has its filled request (``h2_request.FlowSend``) for the
# index.
PendingStart = tuple[Any, bool, OnResult, int, int, int, int]

_DataReceived = h2.events.DataReceived
_ResponseReceived = h2.events.ResponseReceived
_StreamEnded = h2.events.StreamEnded
_REFUSED = h2.errors.ErrorCodes.REFUSED_STREAM


class StreamOwner(Protocol):
    """What a connection calls back into (the client)."""

    def open_pending(self, conn: H2Connection) -> None: ...

    def requeue(self, conn: H2Connection) -> None: ...

    def retry(self, stream: H2Stream, why: str) -> None: ...

    def replace(self, conn: H2Connection) -> None: ...


class H2Stream:
    """One request in flight on a connection."""

    # a flow's stream (``FlowStream``) gets the response's headers here; None: not wanted
    headers_out: list[tuple[bytes, bytes]] | None = None

    __slots__ = (
        "body_parts",
        "bytes_in",
        "bytes_out",
        "connect_ns",
        "deadline_ns",
        "index",
        "on_done",
        "retries",
        "status",
        "stream_id",
        "t_written",
        "timeout_s",
        "tls_ns",
        "ttfb_ns",
    )

    def __init__(
        self, index: Any, on_done: OnResult, want_body: bool, deadline_ns: int, timeout_s: float,
        bytes_out: int, connect_ns: int, tls_ns: int, retries: int,
    ) -> None:  # fmt: skip
        self.index = index  # the plan's request (or flow send), to send again if never taken
        self.retries = retries  # times it was sent before and not processed
        self.on_done = on_done
        self.body_parts: list[bytes] | None = [] if want_body else None
        self.status = 0
        self.bytes_in = 0
        self.bytes_out = bytes_out
        self.connect_ns = connect_ns
        self.tls_ns = tls_ns
        self.ttfb_ns = 0
        self.t_written = 0
        self.stream_id = 0
        self.deadline_ns = deadline_ns
        self.timeout_s = timeout_s

    def result(self, code: int = 0, message: str = "") -> Result:
        if code:
            return (
                0, code, message, self.bytes_in, self.bytes_out, self.connect_ns, self.tls_ns,
                self.ttfb_ns, None,
            )  # fmt: skip
        parts = self.body_parts
        return (
            self.status, 0, "", self.bytes_in, self.bytes_out, self.connect_ns, self.tls_ns,
            self.ttfb_ns, None if parts is None else b"".join(parts),
        )  # fmt: skip


class FlowStream(H2Stream):
    """A flow's request in flight: its response's headers go to ``headers_out``."""

    __slots__ = ("headers_out",)


class H2Connection(asyncio.Protocol):
    """One HTTP/2 connection: an h2 state machine fed from ``data_received``."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, where: str, tls: bool, owner: StreamOwner,
        cap: int,
    ) -> None:  # fmt: skip
        self.loop = loop
        self.where = where
        self.tls = tls  # connection_made comes twice: TCP, then TLS (see transport.tls)
        self.owner = owner
        self.made = 0
        # asyncio's SSL protocol may hand us the server's first frames before start_tls()
        # returns; they wait here until our preface has gone out on the TLS transport.
        self.early: list[bytes] | None = []
        self.transport: asyncio.Transport | None = None
        self.streams: dict[int, H2Stream] = {}
        self.h2 = new_client_state(self.streams)
        self.ended = 0
        self.closed = False
        self.goaway = False
        self.goaway_reason = ""
        self.usable = True  # neither closed nor told to go away: new streams may open
        self.failure: tuple[int, str] | None = None  # why it closed, for starts that lost it
        self.flush_pending = False
        self.cap = cap  # the client's own limit of streams per connection
        self.max_streams = FIRST_SETTINGS_STREAMS
        self.limit = min(cap, FIRST_SETTINGS_STREAMS)  # streams that may be in flight at once
        self.pending: deque[PendingStart] = deque()
        self.window_waiters: list[asyncio.Future[None]] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.made += 1
        if self.made == (2 if self.tls else 1):
            self.start()  # before any byte from the server reaches h2: the preface goes first

    def start(self) -> None:
        """Send the connection preface and our settings."""
        self.h2.initiate_connection()
        self.h2.increment_flow_control_window(CONNECTION_WINDOW - 65535)
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
        h2conn = self.h2
        try:
            events = h2conn.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            self.fail_all(ERR_PROTOCOL, f"HTTP/2 protocol error from {self.where}: {exc}")
            return
        # One stamp for everything this read carried: streams ending in it end when it was
        # parsed, not after the callbacks of the streams listed before them.
        now = perf_counter_ns()
        streams = self.streams
        acked = 0  # flow-controlled bytes of streams that ended: one connection-level ack
        for event in events:
            kind = type(event)
            if kind is _DataReceived:
                stream_id = event.stream_id  # type: ignore[attr-defined]
                stream = streams.get(stream_id)
                size = event.flow_controlled_length  # type: ignore[attr-defined]
                if size:
                    if event.stream_ended is None:  # type: ignore[attr-defined]
                        h2conn.acknowledge_received_data(size, stream_id)
                    else:  # a closed stream's window needs no update
                        acked += size
                if stream is not None:
                    chunk = event.data  # type: ignore[attr-defined]
                    stream.bytes_in += len(chunk)
                    if stream.body_parts is not None:
                        stream.body_parts.append(chunk)
            elif kind is _StreamEnded:
                self._end(event.stream_id, 0, "", now)  # type: ignore[attr-defined]
            elif kind is _ResponseReceived:
                stream = streams.get(event.stream_id)  # type: ignore[attr-defined]
                if stream is not None:
                    stream.ttfb_ns = now - stream.t_written
                    for name, value in event.headers:  # type: ignore[attr-defined]
                        stream.bytes_in += len(name) + len(value)
                        if name == b":status":
                            stream.status = int(value)
                    if stream.headers_out is not None:
                        stream.headers_out.extend(event.headers)  # type: ignore[attr-defined]
            elif kind is h2.events.StreamReset:
                code = event.error_code  # type: ignore[attr-defined]
                name = getattr(code, "name", str(code))
                if code == _REFUSED:  # not processed: safe to send again (RFC 9113 8.7)
                    refused = event.stream_id  # type: ignore[attr-defined]
                    self._hand_back(refused, f"{self.where} refused the stream (REFUSED_STREAM)")
                    continue
                self._end(
                    event.stream_id,  # type: ignore[attr-defined]
                    ERR_PROTOCOL if name == "PROTOCOL_ERROR" else ERR_READ,
                    f"stream reset by {self.where} ({name})",
                    now,
                )
            elif kind is h2.events.RemoteSettingsChanged:
                self._settings_changed()
            elif kind is h2.events.WindowUpdated:
                self._wake_window_waiters()
            elif kind is h2.events.ConnectionTerminated:
                self._goaway(event, now)  # type: ignore[arg-type]
        if acked:
            h2conn.acknowledge_connection_data(acked)
        # acks and window updates go out with the requests this turn sends: one write
        self.schedule_flush()

    def _end(self, stream_id: int, code: int, message: str, end_ns: int) -> None:
        stream = self.streams.pop(stream_id, None)
        if stream is None:
            return
        self.h2.forget_stream(stream_id)
        self.ended += 1
        if self.ended & 1023 == 0:
            self.h2.sweep_closed_streams()
        try:
            stream.on_done(stream.result(code, message), end_ns)
        except Exception as exc:  # the caller's bug: shown in the loop's log, streams go on
            self.loop.call_exception_handler(
                {"message": "on_done raised for an HTTP/2 stream", "exception": exc}
            )
        if self.pending and self.usable:
            self.owner.open_pending(self)
        elif not self.usable and not self.streams:
            self.hang_up()

    def _hand_back(self, stream_id: int, why: str) -> None:
        """The server did not process ``stream_id``: the owner sends it again."""
        stream = self.streams.pop(stream_id, None)
        if stream is None:
            return
        self.h2.forget_stream(stream_id)
        self.owner.retry(stream, why)
        if self.pending and self.usable:
            self.owner.open_pending(self)
        elif not self.usable and not self.streams:
            self.hang_up()

    def hang_up(self) -> None:
        """Close a connection that takes no new streams and has none left (a polite GOAWAY
        of our own, then the socket)."""
        if self.closed or self.transport is None:
            return
        self.closed = True
        try:
            self.h2.close_connection()
            self.flush_pending = False
            data = self.h2.data_to_send()
            if data:
                self.transport.write(data)
        except h2.exceptions.H2Error:
            pass
        self.transport.close()

    def _wake_window_waiters(self) -> None:
        waiters, self.window_waiters = self.window_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _settings_changed(self) -> None:
        self.max_streams = self.h2.remote_settings.max_concurrent_streams
        self.limit = min(self.cap, self.max_streams)
        if self.pending and self.usable:
            self.owner.open_pending(self)
        self._wake_window_waiters()

    def retire(self, code: int, message: str) -> None:
        """No new streams here (GOAWAY, ids exhausted, closed): the starts waiting for a slot
        go back to the owner to find another connection."""
        self.usable = False
        if self.failure is None:
            self.failure = (code, message)
        if self.pending:
            self.owner.requeue(self)
        self._wake_window_waiters()

    def _goaway(self, event: h2.events.ConnectionTerminated, now: int) -> None:
        """The server sends no more than the streams up to ``last_stream_id``: those drain,
        the ones above it were never processed and are sent again elsewhere, and the
        endpoint's next connection opens now, while this one drains."""
        first = not self.goaway
        self.goaway = True
        last = event.last_stream_id or 0
        name = getattr(event.error_code, "name", str(event.error_code))
        self.goaway_reason = f"GOAWAY ({name}"
        if event.additional_data:
            self.goaway_reason += f": {event.additional_data[:200].decode('utf-8', 'replace')}"
        self.goaway_reason += ")"
        self.retire(ERR_READ, f"{self.where} sent {self.goaway_reason}")
        if first:
            self.owner.replace(self)
        for stream_id in sorted(sid for sid in self.streams if sid > last):
            self._hand_back(stream_id, f"{self.where} sent {self.goaway_reason} without it")
        if not self.streams:
            self.hang_up()

    def fail_all(self, code: int, message: str) -> None:
        """Fail every stream in flight and close the connection."""
        self.closed = True
        self.retire(code, message)
        now = perf_counter_ns()
        for stream_id in list(self.streams):
            self._end(stream_id, code, message, now)
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        reason = "reset" if isinstance(exc, ConnectionResetError) else "closed"
        n = len(self.streams)
        message = f"connection {reason} by {self.where} ({n} in flight)"
        if self.goaway:
            message = (
                f"connection {reason} by {self.where} after {self.goaway_reason} ({n} unanswered)"
            )
        self.retire(ERR_READ, message)
        now = perf_counter_ns()
        for stream_id in list(self.streams):
            self._end(stream_id, ERR_READ, message, now)

    # --- sending ---------------------------------------------------------------------------

    def on_timeout(self, stream: H2Stream, now: int) -> None:
        """``stream`` passed its deadline: cancel it on the wire and report a timeout."""
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
        message = f"timed out after {stream.timeout_s:g} s {stage}"
        self._end(stream.stream_id, ERR_TIMEOUT, message, now)

    async def send_body(self, stream_id: int, body: bytes) -> None:
        """Send a request body within flow-control windows; stops when the stream ends."""
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
