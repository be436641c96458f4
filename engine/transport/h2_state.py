"""The h2 state machine as this transport runs it: the same protocol handling, less work per
frame.

Every override of h2's (and hpack's) internals lives in this module, and only here. They are
written against the h2 and hpack versions pinned in pyproject.toml; the tests compare them
with the libraries' own answers (tests/engine/transport/test_http2.py). What each one saves is
measured in benchmarks/README.md ("HTTP/2 transport: where the time went").
"""

from __future__ import annotations

import struct
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.frame_buffer
import h2.settings
import h2.stream
import hpack
from h2.errors import ErrorCodes, _error_code_from_int
from h2.utilities import HeaderValidationFlags, authority_from_headers, extract_method_header
from hyperframe.exceptions import InvalidDataError, InvalidFrameError
from hyperframe.frame import (
    ContinuationFrame,
    DataFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    RstStreamFrame,
    WindowUpdateFrame,
)

STREAM_WINDOW = 1 << 20


class BlockCachingEncoder(hpack.Encoder):
    """HPACK encoder that reuses a header block while the dynamic table stays unchanged.

    A load test sends the same few header lists over and over; once their entries are in the
    table, encoding them again yields the same bytes and changes nothing, so those bytes are
    kept (~5% of the time per request). Any change to the
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


class BlockCachingDecoder(hpack.Decoder):
    """HPACK decoder that remembers header blocks that left the dynamic table unchanged.

    Many servers (nginx among them) send response headers as literals without indexing, so
    the same block arrives again and again and was Huffman-decoded each time (~35% of the
    CPU per request). A block that changed nothing decodes the same while the table stays
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


# Header validation and normalization are off (see new_client_state), so h2 never reads these
# flags; building them took two isinstance walks per HEADERS frame each way.
_UNUSED_VALIDATION_FLAGS = HeaderValidationFlags(
    is_client=True, is_trailer=False, is_response_header=False, is_push_promise=False
)


_FRAME_HEADER = struct.Struct(">HBBBL")  # RFC 9113 4.1: length (24 bits), type, flags, id
_DATA_TYPE = 0x0
_HEADERS_TYPE = 0x1
_END_STREAM = 0x1
_END_HEADERS = 0x4


class SerializedFrame:
    """A frame already in wire form: h2 only asks the frames it queues to ``serialize``."""

    __slots__ = ("wire",)

    def __init__(self, wire: bytes) -> None:
        self.wire = wire

    def serialize(self) -> bytes:
        return self.wire


class ClientStream(h2.stream.H2Stream):
    """An h2 stream that sends request headers the way this client prepares them: byte
    tuples, already lower-case and checked, never trailers. h2's own ``send_headers``
    re-encodes every name and value to bytes and builds validation flags nobody reads here
    (~5 us of ~39 a request against nginx); a block that fits one frame is packed directly."""

    def send_headers(  # type: ignore[override]
        self, headers: list[tuple[bytes, bytes]], encoder: hpack.Encoder, end_stream: bool = False
    ) -> list[Any]:
        self.state_machine.process_input(h2.stream.StreamInputs.SEND_HEADERS)
        block = encoder.encode(headers)
        size = self.max_outbound_frame_size or len(block)
        frames: list[Any]
        if len(block) <= size:  # one HEADERS frame, packed here: no hyperframe object (~1.5 us)
            flags = _END_HEADERS | _END_STREAM if end_stream else _END_HEADERS
            n = len(block)
            header = _FRAME_HEADER.pack(n >> 8, n & 0xFF, _HEADERS_TYPE, flags, self.stream_id)
            frames = [SerializedFrame(header + block)]
        else:
            first = HeadersFrame(self.stream_id)
            first.data = block[:size]
            frames = [first]
            for offset in range(size, len(block), size):
                more = ContinuationFrame(self.stream_id)
                more.data = block[offset : offset + size]
                frames.append(more)
            frames[-1].flags.add("END_HEADERS")
            if end_stream:
                first.flags.add("END_STREAM")
        if end_stream:
            self.state_machine.process_input(h2.stream.StreamInputs.SEND_END_STREAM)
        if self._authority is None:
            self._authority = authority_from_headers(headers)
        self.request_method = extract_method_header(headers)
        return frames

    def _build_hdr_validation_flags(self, events: Any) -> HeaderValidationFlags:
        return _UNUSED_VALIDATION_FLAGS


class ResponseFrameBuffer(h2.frame_buffer.FrameBuffer):
    """h2's frame buffer with the two frames of every response, DATA and a whole HEADERS
    block, parsed in place: one header unpack, no 9-byte copy or header-block bookkeeping
    (~1 us a request). Any other frame, or a block continued in CONTINUATION frames, is
    parsed by h2 itself."""

    def __next__(self) -> Frame:
        data = self._data
        if len(data) < 9 or self._headers_buffer:
            return super().__next__()
        high, low, kind, flags, stream_id = _FRAME_HEADER.unpack_from(data)
        length = (high << 8) + low
        stream_id &= 0x7FFFFFFF
        if not stream_id:  # not a response frame (or an illegal one): h2 says which
            return super().__next__()
        if kind == _DATA_TYPE:
            frame: Frame = DataFrame(stream_id)
        elif kind == _HEADERS_TYPE and flags & _END_HEADERS:
            frame = HeadersFrame(stream_id)
        else:
            return super().__next__()
        if len(data) < length + 9:
            raise StopIteration
        self._validate_frame_length(length)
        frame.parse_flags(flags)
        try:
            frame.parse_body(memoryview(data[9 : 9 + length]))
        except InvalidDataError as err:
            raise h2.exceptions.ProtocolError("Received frame with non-compliant data") from err
        except InvalidFrameError as err:
            raise h2.exceptions.FrameDataMissingError("Frame data missing or invalid") from err
        del data[: 9 + length]
        return frame


_CLIENT_OPEN = h2.connection.ConnectionState.CLIENT_OPEN
_SEND_HEADERS = h2.connection.ConnectionInputs.SEND_HEADERS
_RECV_HEADERS = h2.connection.ConnectionInputs.RECV_HEADERS
_RECV_DATA = h2.connection.ConnectionInputs.RECV_DATA
_SEND_DATA = h2.connection.ConnectionInputs.SEND_DATA
_RECV_GOAWAY = h2.connection.ConnectionInputs.RECV_GOAWAY
_CLOSED = h2.connection.ConnectionState.CLOSED
_Inputs = h2.connection.ConnectionInputs
# After the server's GOAWAY, what still happens on the streams it accepted (RFC 9113 6.8):
# their responses, flow control, resets, request bodies, pings, settings, more GOAWAYs.
# Only new streams (SEND_HEADERS) and pushes stay refused.
DRAINING_INPUTS = frozenset(
    {
        _Inputs.RECV_HEADERS,
        _Inputs.RECV_DATA,
        _Inputs.RECV_WINDOW_UPDATE,
        _Inputs.RECV_RST_STREAM,
        _Inputs.RECV_PING,
        _Inputs.RECV_SETTINGS,
        _Inputs.RECV_PRIORITY,
        _Inputs.RECV_GOAWAY,
        _Inputs.RECV_ALTERNATIVE_SERVICE,
        _Inputs.SEND_DATA,
        _Inputs.SEND_WINDOW_UPDATE,
        _Inputs.SEND_RST_STREAM,
        _Inputs.SEND_PING,
        _Inputs.SEND_SETTINGS,
        _Inputs.SEND_PRIORITY,
        _Inputs.SEND_GOAWAY,
    }
)


class ClientConnectionStateMachine(h2.connection.H2ConnectionStateMachine):
    """h2's connection state machine, with two changes.

    The per-frame inputs of an open client connection (which leave it open and emit
    nothing, per h2's own table) are answered without the table lookup: its key hashes two
    enums in Python (~1 us a request, three inputs).

    A GOAWAY from the server lets the connection drain, as RFC 9113 6.8 has it: the streams
    up to its last stream id are still answered. h2 closes the connection outright instead,
    and every later frame (their responses) raised "Invalid input RECV_HEADERS in state
    CLOSED": against nginx's default ``keepalive_requests 1000``, ~2% of requests counted as
    protocol errors although nginx had answered them. Here the state still becomes CLOSED
    (no new stream may open) but ``draining`` accepts ``DRAINING_INPUTS``.
    """

    draining = False

    def process_input(self, input_: h2.connection.ConnectionInputs) -> list[Any]:
        state = self.state
        if state is _CLIENT_OPEN:
            if (
                input_ is _SEND_HEADERS or input_ is _RECV_HEADERS or input_ is _RECV_DATA
                or input_ is _SEND_DATA
            ):  # fmt: skip
                return []
        elif self.draining and input_ in DRAINING_INPUTS:
            return []
        if input_ is _RECV_GOAWAY and state is not _CLOSED:
            self.draining = True
        return super().process_input(input_)


class CountingH2Connection(h2.connection.H2Connection):
    """h2 counts open streams by walking every stream it holds on each ``send_headers``
    (O(streams) per request: ~7% of the time at 100 streams). The client knows how many of
    its streams are in flight, so the count is O(1) and closed streams are dropped by
    ``forget_stream`` as they end."""

    in_flight: dict[int, Any]  # the client's streams in flight, by id

    @property
    def open_outbound_streams(self) -> int:
        return len(self.in_flight)

    def send_headers(  # type: ignore[override]
        self, stream_id: int, headers: Any, end_stream: bool = False, *priority: Any, **kw: Any
    ) -> None:
        # h2's own for a request without priority: the same checks and state inputs, minus an
        # enum built per call, a debug-log call and the priority branch
        if priority or kw:
            return super().send_headers(stream_id, headers, end_stream, *priority, **kw)
        stream = self.streams.get(stream_id)
        if stream is None:
            limit = self.remote_settings.max_concurrent_streams
            if len(self.in_flight) + 1 > limit:
                raise h2.exceptions.TooManyStreamsError(
                    f"Max outbound streams is {limit}, {len(self.in_flight)} open"
                )
            self.state_machine.process_input(_SEND_HEADERS)
            stream = self._begin_new_stream(stream_id, h2.connection.AllowedStreamIDs.ODD)
        else:
            self.state_machine.process_input(_SEND_HEADERS)
        self._prepare_for_sending(stream.send_headers(headers, self.encoder, end_stream))
        return None

    def _receive_headers_frame(self, frame: HeadersFrame) -> tuple[list[Frame], list[Any]]:
        # h2's own for the answer on a stream we opened (no PRIORITY): new streams and
        # priority go to h2; saves an enum built per call and the stream lookup helper
        stream = self.streams.get(frame.stream_id)
        if stream is None or "PRIORITY" in frame.flags:
            return super()._receive_headers_frame(frame)
        headers = h2.connection._decode_headers(self.decoder, frame.data)
        events = self.state_machine.process_input(_RECV_HEADERS)
        frames, stream_events = stream.receive_headers(
            headers, "END_STREAM" in frame.flags, self.config.header_encoding
        )
        return frames, events + stream_events

    def get_next_available_stream_id(self) -> int:
        # h2's own, without its debug-log call
        highest = self.highest_outbound_stream_id
        stream_id = highest + 2 if highest else 1
        if stream_id > self.HIGHEST_ALLOWED_STREAM_ID:
            raise h2.exceptions.NoAvailableStreamIDError("Exhausted allowed stream IDs")
        return stream_id

    def _begin_new_stream(
        self, stream_id: int, allowed_ids: h2.connection.AllowedStreamIDs
    ) -> h2.stream.H2Stream:
        # h2's own, making a ClientStream (and without its three debug-log calls)
        outbound = self._stream_id_is_outbound(stream_id)
        highest = self.highest_outbound_stream_id if outbound else self.highest_inbound_stream_id
        if stream_id <= highest:
            raise h2.exceptions.StreamIDTooLowError(stream_id, highest)
        if (stream_id % 2) != int(allowed_ids):
            raise h2.exceptions.ProtocolError("Invalid stream ID for peer.")
        stream = ClientStream(
            stream_id,
            config=self.config,
            inbound_window_size=self.local_settings.initial_window_size,
            outbound_window_size=self.remote_settings.initial_window_size,
        )
        stream.max_outbound_frame_size = self.max_outbound_frame_size
        self.streams[stream_id] = stream
        if outbound:
            self.highest_outbound_stream_id = stream_id
        else:
            self.highest_inbound_stream_id = stream_id
        return stream

    def _prepare_for_sending(self, frames: list[Any]) -> None:
        # h2 also asserts every frame fits the peer's frame size: a generator per call, ~4%
        # of the time a request; its own send_data/send_headers already split or refuse.
        for frame in frames:
            self._data_to_send += frame.serialize()

    def _receive_frame(self, frame: Frame) -> list[Any]:
        # h2's own version builds repr(frame) for a trace log on every frame, even with the
        # do-nothing logger (~4% of the time a request). The same handling, without it.
        try:
            frames, events = self._frame_dispatch_table[frame.__class__](frame)
        except h2.exceptions.StreamClosedError as e:
            if self._stream_is_closed_by_reset(e.stream_id):
                f = RstStreamFrame(e.stream_id)
                f.error_code = e.error_code
                self._prepare_for_sending([f])
                events = e._events
            else:
                raise
        except h2.exceptions.StreamIDTooLowError as e:
            if self._stream_is_closed_by_reset(e.stream_id):
                f = RstStreamFrame(e.stream_id)
                f.error_code = ErrorCodes.STREAM_CLOSED
                self._prepare_for_sending([f])
                events = []
            elif self._stream_is_closed_by_end(e.stream_id):
                raise h2.exceptions.StreamClosedError(e.stream_id) from e
            else:
                raise
        else:
            self._prepare_for_sending(frames)
        return events

    def _receive_goaway_frame(self, frame: GoAwayFrame) -> tuple[list[Frame], list[Any]]:
        # h2's own, except that it dropped every frame not yet written (window updates and
        # request bodies of streams the server still answers, resets): they go out as usual
        events = self.state_machine.process_input(_RECV_GOAWAY)
        event = h2.events.ConnectionTerminated()
        event.error_code = _error_code_from_int(frame.error_code)
        event.last_stream_id = frame.last_stream_id
        event.additional_data = frame.additional_data or None
        events.append(event)
        return [], events

    def acknowledge_connection_data(self, size: int) -> None:
        """Hand ``size`` processed bytes back to the connection window only: for data of
        streams that have ended, whose own windows no longer matter (one call a read instead
        of one per DATA frame)."""
        increment = self._inbound_flow_control_window_manager.process_bytes(size)
        if increment:
            frame = WindowUpdateFrame(0)
            frame.window_increment = increment
            self._prepare_for_sending([frame])

    def forget_stream(self, stream_id: int) -> None:
        """Drop a closed stream as h2's own count would (keeping how it was closed)."""
        stream = self.streams.get(stream_id)
        if stream is not None and stream.closed:
            del self.streams[stream_id]
            self._closed_streams[stream_id] = stream.closed_by

    def sweep_closed_streams(self) -> None:
        """Drop streams that closed after the client stopped watching them (h2's own sweep,
        which its stream count runs on every call and this class does not)."""
        self._open_streams(1)


class PlainConfig(h2.config.H2Configuration):
    """h2's configuration with its flags as plain attributes: h2 reads them through a Python
    descriptor each time (~5 reads a request). Values are set once and never checked again,
    so only fixed, valid ones are passed (see ``new_client_state``)."""

    client_side = True
    header_encoding = None
    validate_outbound_headers = False
    normalize_outbound_headers = False
    split_outbound_cookies = False
    validate_inbound_headers = False
    normalize_inbound_headers = False


def new_client_state(in_flight: dict[int, Any]) -> CountingH2Connection:
    """A client-side h2 connection (no header validation: headers are prepared once and
    trusted), push disabled, a 1 MiB stream window, counting ``in_flight`` as open streams."""
    config = PlainConfig(
        client_side=True,
        header_encoding=None,
        validate_outbound_headers=False,
        normalize_outbound_headers=False,
        validate_inbound_headers=False,
        normalize_inbound_headers=False,
    )
    state = CountingH2Connection(config=config)
    state.state_machine = ClientConnectionStateMachine()
    state.incoming_buffer = ResponseFrameBuffer(server=False)
    state.encoder = BlockCachingEncoder()
    state.decoder = BlockCachingDecoder()
    state.local_settings = h2.settings.Settings(
        client=True,
        initial_values={
            h2.settings.SettingCodes.ENABLE_PUSH: 0,
            h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: STREAM_WINDOW,
        },
    )
    state.in_flight = in_flight
    return state
