"""A cleartext HTTP/2 server (prior knowledge) that ends connections and streams the ways real
servers do, and counts what it did, so tests can set a run's totals against the server's own.

``H2Behaviour`` says what it does (any mix; 0 switches a behaviour off):

- ``goaway_every=N``: as nginx's ``keepalive_requests``: on the N-th request of a connection
  it sends GOAWAY (NO_ERROR) naming that request's stream, still answers every stream up to
  it, never processes the streams above it, and closes the connection once it has answered.
- ``refuse_every=N``: one request in N, drawn at random (seeded), is reset with
  REFUSED_STREAM. Random, not every N-th: a closed loop of N users would otherwise put the
  same request's retry on the N-th arrival again and again.
- ``lower_streams_after=N, lower_streams_to=L``: after N requests on a connection it takes
  at most L streams at once, refusing (REFUSED_STREAM) the ones beyond, and says so with
  SETTINGS_MAX_CONCURRENT_STREAMS = L ``settings_delay_s`` later (the client meanwhile
  opens streams it does not know are too many).
- ``close_after=N``: on the N-th request of a connection it closes the socket (after what it
  has written), its accepted streams unanswered.

Every answer (200, body ``ok``) goes out ``answer_delay_s`` after the request, so a GOAWAY
overtakes the answers to streams the server had already accepted, as it does with nginx.
GOAWAY is written as a raw frame, so the server's own h2 state stays open to answer them.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
from hyperframe.frame import GoAwayFrame


@dataclass(frozen=True)
class H2Behaviour:
    goaway_every: int = 0
    refuse_every: int = 0
    lower_streams_after: int = 0
    lower_streams_to: int = 0
    close_after: int = 0
    answer_delay_s: float = 0.001
    settings_delay_s: float = 0.02


@dataclass
class H2Counts:
    """What the server did (read once the client is done with it)."""

    answered: int = 0  # 200 responses sent in full
    refused: int = 0  # streams reset with REFUSED_STREAM
    ignored: int = 0  # streams above a GOAWAY's last stream id: never processed
    dropped: int = 0  # accepted, then the connection closed before the answer
    connections: int = 0
    goaways: int = 0
    # the most streams open at once after the client acknowledged the lowered limit
    most_streams_after_lower: int = 0
    per_connection: list[int] = field(default_factory=list)  # requests answered, by connection


@dataclass(frozen=True)
class H2LifecycleServer:
    host: str
    port: int
    counts: H2Counts

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class _Connection(asyncio.Protocol):
    def __init__(self, behaviour: H2Behaviour, counts: H2Counts, draws: random.Random) -> None:
        self.b = behaviour
        self.counts = counts
        self.draws = draws  # server-wide: which requests are refused
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding=None)
        )
        self.transport: asyncio.Transport | None = None
        self.received = 0  # requests on this connection
        self.open: set[int] = set()  # accepted, not answered yet
        self.last: int | None = None  # the last stream id of our GOAWAY
        self.limit: int | None = None  # the lowered stream limit, once sent
        self.limit_acked = False
        self.slot = len(counts.per_connection)
        counts.per_connection.append(0)
        counts.connections += 1

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.conn.initiate_connection()
        self.flush()

    def flush(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(self.conn.data_to_send())

    def connection_lost(self, exc: Exception | None) -> None:
        self.counts.dropped += len(self.open)
        self.open.clear()
        self.transport = None

    def data_received(self, data: bytes) -> None:
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.flush()
            if self.transport is not None:
                self.transport.close()
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                self.request(event.stream_id)
            elif isinstance(event, h2.events.SettingsAcknowledged) and self.limit is not None:
                self.limit_acked = True
            if self.transport is None or self.transport.is_closing():
                return
        self.flush()

    def request(self, sid: int) -> None:
        b = self.b
        if self.last is not None and sid > self.last:
            self.counts.ignored += 1  # RFC 9113 6.8: not processed, never answered
            return
        self.received += 1
        if b.close_after and self.received == b.close_after:
            self.open.add(sid)
            assert self.transport is not None
            # what was written goes out first; connection_lost counts the accepted as dropped
            self.transport.close()
            return
        if b.refuse_every and self.draws.random() * b.refuse_every < 1.0:
            self.refuse(sid)
            return
        if self.limit is not None and len(self.open) >= self.limit:
            self.refuse(sid)
            return
        self.open.add(sid)
        if self.limit_acked:
            most = max(self.counts.most_streams_after_lower, len(self.open))
            self.counts.most_streams_after_lower = most
        if b.lower_streams_after and self.received == b.lower_streams_after:
            self.limit = b.lower_streams_to
            asyncio.get_running_loop().call_later(b.settings_delay_s, self.lower_limit)
        if b.goaway_every and self.received == b.goaway_every:
            self.goaway(sid)
        asyncio.get_running_loop().call_later(b.answer_delay_s, self.answer, sid)

    def lower_limit(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: self.limit})
        self.flush()

    def refuse(self, sid: int) -> None:
        self.counts.refused += 1
        self.conn.reset_stream(sid, h2.errors.ErrorCodes.REFUSED_STREAM)

    def goaway(self, last: int) -> None:
        self.last = last
        self.counts.goaways += 1
        frame = GoAwayFrame(0)
        frame.last_stream_id = last
        frame.error_code = 0
        self.flush()
        assert self.transport is not None
        self.transport.write(frame.serialize())

    def answer(self, sid: int) -> None:
        if self.transport is None or self.transport.is_closing() or sid not in self.open:
            return
        self.conn.send_headers(sid, [(b":status", b"200"), (b"content-length", b"2")])
        self.conn.send_data(sid, b"ok", end_stream=True)
        self.flush()
        self.open.discard(sid)
        self.counts.answered += 1
        self.counts.per_connection[self.slot] += 1
        if self.last is not None and not self.open:
            self.transport.close()  # everything up to the GOAWAY is answered


@contextmanager
def h2_lifecycle_server(behaviour: H2Behaviour) -> Iterator[H2LifecycleServer]:
    """Run the server in a background thread on 127.0.0.1 (an ephemeral port)."""
    loop = asyncio.new_event_loop()
    counts = H2Counts()
    draws = random.Random(20261204)
    ports: list[int] = []
    started = threading.Event()
    stop: asyncio.Event | None = None

    async def main() -> None:
        nonlocal stop
        stop = asyncio.Event()
        server = await loop.create_server(
            lambda: _Connection(behaviour, counts, draws), "127.0.0.1", 0
        )
        ports.append(server.sockets[0].getsockname()[1])
        started.set()
        await stop.wait()
        server.close()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("h2 lifecycle server did not start")
    try:
        yield H2LifecycleServer("127.0.0.1", ports[0], counts)
    finally:
        assert stop is not None
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
