"""One HTTP/2 connection: an ``asyncio.Protocol`` feeding h2, and the streams in flight on it.

Writes are coalesced: one ``transport.write`` per loop turn however many streams opened or
frames were acknowledged in it. Received data is acknowledged at once so big bodies flow.
"""

from __future__ import annotations

import asyncio
from collections import deque
from time import perf_counter_ns

import h2.errors
import h2.events
import h2.exceptions

from engine.transport.base import ERR_PROTOCOL, ERR_READ, ERR_TIMEOUT, Result
from engine.transport.h2_state import new_client_state

FIRST_SETTINGS_STREAMS = 100  # assumed until the server's SETTINGS arrive (RFC 9113 advice)
CONNECTION_WINDOW = 1 << 24


class H2Stream:
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
        self.transport: asyncio.Transport | None = None
        self.streams: dict[int, H2Stream] = {}
        self.h2 = new_client_state(self.streams)
        self.ended = 0
        self.closed = False
        self.goaway = False
        self.flush_pending = False
        self.max_streams = FIRST_SETTINGS_STREAMS
        self.slot_waiters: deque[asyncio.Future[bool]] = deque()  # True: woken, False: expired
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
                waiter.set_result(True)
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

    def on_timeout(self, stream: H2Stream) -> None:
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
