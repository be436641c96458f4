"""HTTP/2 ``start()``: results by callback, once each, never from inside start(); and the tuned
h2 state (h2_state) checked against plain h2, sans I/O."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from time import perf_counter_ns

from engine.plan.model import RunPlan
from engine.results import ERR_CONNECT, ERR_NONE, ERR_READ, ERR_TIMEOUT, Result
from engine.transport import make_client
from engine.transport.http2 import Http2Client
from tests.servers.asgi import RunningServer

MakePlan = Callable[..., RunPlan]


class Deliveries:
    """Collects ``on_done`` calls per start and notes any made from inside ``start()``."""

    def __init__(self) -> None:
        self.results: dict[int, list[tuple[Result, int]]] = {}
        self.sent_ns: dict[int, int] = {}
        self.inside_start = False
        self.calls_inside_start = 0
        self.all_in = asyncio.Event()
        self.expected = 0

    def start(self, client: Http2Client, key: int, index: int, want_body: bool = False) -> None:
        self.expected += 1
        self.sent_ns[key] = perf_counter_ns()
        self.inside_start = True
        try:
            client.start(index, want_body, lambda result, end_ns: self.done(key, result, end_ns))
        finally:
            self.inside_start = False

    def done(self, key: int, result: Result, end_ns: int) -> None:
        if self.inside_start:
            self.calls_inside_start += 1
        self.results.setdefault(key, []).append((result, end_ns))
        if sum(map(len, self.results.values())) >= self.expected:
            self.all_in.set()


async def test_start_delivers_every_result_once_with_end_after_send_across_many_streams(
    h2c_server: RunningServer, make_plan: MakePlan
):
    url = h2c_server.url
    plan = make_plan(f"{url}/", f"{url}/status/404", f"{url}/bytes/3000", http2=True)
    client = make_client(plan, max_connections=40)  # 300 starts: most wait for a stream slot
    assert isinstance(client, Http2Client)
    assert (await client.request(0, False))[0] == 200  # the connection is up: the fast path
    seen = Deliveries()
    for key in range(300):
        seen.start(client, key, key % 3)
    await asyncio.wait_for(seen.all_in.wait(), 60)
    await asyncio.sleep(0.05)  # room for a duplicate delivery to show up
    await client.aclose()
    assert seen.calls_inside_start == 0
    assert sorted(seen.results) == list(range(300))
    assert all(len(calls) == 1 for calls in seen.results.values())
    statuses = Counter((key % 3, calls[0][0][0]) for key, calls in seen.results.items())
    assert statuses == {(0, 200): 100, (1, 404): 100, (2, 200): 100}
    for key, [(result, end_ns)] in seen.results.items():
        assert result[1] == ERR_NONE
        assert end_ns >= seen.sent_ns[key]
        assert 0 < result[7] <= end_ns - seen.sent_ns[key]  # time to first byte within it
        if key % 3 == 2:
            assert result[3] >= 3000


async def test_start_on_a_cold_client_connects_once_and_never_answers_inside_start(
    h2_tls_server: RunningServer, tls_files: dict[str, str], make_plan: MakePlan
):
    plan = make_plan(f"{h2_tls_server.url}/json", http2=True)
    client = make_client(plan, max_connections=100, ca_file=tls_files["ca"])
    seen = Deliveries()
    for key in range(150):
        seen.start(client, key, 0, want_body=True)
    await asyncio.wait_for(seen.all_in.wait(), 60)
    await client.aclose()
    assert seen.calls_inside_start == 0
    results = [calls[0][0] for calls in seen.results.values()]
    assert len(results) == 150 and all(len(c) == 1 for c in seen.results.values())
    assert all(r[:2] == (200, ERR_NONE) and b'"name": "deli"' in (r[8] or b"") for r in results)
    assert sum(1 for r in results if r[5] > 0) == 1  # one connection, its cost reported once


async def test_on_done_may_start_the_next_request_like_a_virtual_user(
    h2_tls_server: RunningServer, tls_files: dict[str, str], make_plan: MakePlan
):
    plan = make_plan(f"{h2_tls_server.url}/", http2=True)
    client = make_client(plan, max_connections=20, ca_file=tls_files["ca"])
    finished = asyncio.Event()
    counts = Counter[int]()
    remaining = [400]

    def on_done(result: Result, end_ns: int) -> None:
        counts[result[0]] += 1
        if remaining[0] > 0:
            remaining[0] -= 1
            client.start(0, False, on_done)  # from inside the protocol's data_received
        elif sum(counts.values()) == 400 + 20:
            finished.set()

    for _ in range(20):
        client.start(0, False, on_done)
    await asyncio.wait_for(finished.wait(), 60)
    await client.aclose()
    assert counts == {200: 420}


async def test_a_stream_past_its_deadline_is_swept_as_a_timeout_and_others_still_finish(
    h2c_server: RunningServer, make_plan: MakePlan
):
    url = h2c_server.url
    plan = make_plan(f"{url}/delay/3000", f"{url}/delay/3000", f"{url}/", http2=True, timeout_s=0.3)
    client = make_client(plan, max_connections=2)  # two slow streams fill both slots
    seen = Deliveries()
    t0 = perf_counter_ns()
    for key in range(3):
        seen.start(client, key, key)
    await asyncio.wait_for(seen.all_in.wait(), 10)
    await client.aclose()
    slow = [seen.results[k][0] for k in (0, 1)]
    waited = seen.results[2][0]
    assert all(r[1] == ERR_TIMEOUT and "0.3 s waiting for headers" in r[2] for r, _ in slow)
    assert all(end_ns - t0 >= 300_000_000 for _, end_ns in slow)
    # the third waited for a slot; it either timed out waiting or ran once the slots freed
    assert waited[0][1] == ERR_TIMEOUT or waited[0][:2] == (200, ERR_NONE)


async def test_aclose_answers_streams_in_flight_and_starts_waiting_for_a_slot(
    h2c_server: RunningServer, make_plan: MakePlan
):
    plan = make_plan(f"{h2c_server.url}/delay/5000", http2=True, timeout_s=30)
    client = make_client(plan, max_connections=2)
    seen = Deliveries()
    for key in range(6):  # two in flight, four waiting for a slot
        seen.start(client, key, 0)
    await asyncio.sleep(0.3)
    await client.aclose()
    await asyncio.wait_for(seen.all_in.wait(), 10)
    await asyncio.sleep(0.05)
    assert sorted(seen.results) == list(range(6))
    assert all(len(calls) == 1 for calls in seen.results.values())
    assert {calls[0][0][1] for calls in seen.results.values()} == {ERR_READ}


async def test_headers_beyond_one_frame_go_out_as_continuation_frames(
    h2c_server: RunningServer, make_plan: MakePlan
):
    big = "v" * 30_000  # Huffman-coded still beyond one 16 KiB frame
    plan = make_plan(
        ("POST", f"{h2c_server.url}/echo", b'{"a": 1}'), http2=True, headers=(("x-big", big),)
    )
    client = make_client(plan, max_connections=2)
    results = [await asyncio.wait_for(client.request(0, True), 10) for _ in range(3)]
    await client.aclose()
    assert [r[:2] for r in results] == [(200, ERR_NONE)] * 3
    assert all(r[8] == b'{"a": 1}' for r in results)
    assert all(r[4] > 30_000 for r in results)


async def test_load_models_over_http2_account_for_every_request(
    h2c_server: RunningServer, make_plan: MakePlan
):
    """The worker's closed and open models drive ``start()``: exact counts, no errors."""
    from dataclasses import replace

    from engine.plan.model import LoadProfile, Stage
    from engine.run.worker import run_load

    url = h2c_server.url
    base = make_plan(f"{url}/", f"{url}/status/201", http2=True)
    closed = replace(
        base,
        profile=LoadProfile(
            model="closed", stages=(Stage(30.0, 30),), start_target=30, iterations=5
        ),
    )
    opened = replace(
        base,
        profile=LoadProfile(model="open", stages=(Stage(1.0, 200),), start_target=200),
    )
    for plan, expected in ((closed, 30 * 5 * 2), (opened, 200)):
        windows: list = []
        final, ring, _ = await asyncio.wait_for(
            run_load(plan, 0, 1, time.monotonic() + 0.05, windows.append), 30
        )
        if final is not None:
            windows.append(final)
        assert sum(w.requests for w in windows) == expected == ring.count
        rows = list(ring.rows())
        assert {row.error for row in rows} == {ERR_NONE}
        assert sorted({row.status for row in rows}) == [200, 201]


def test_client_connection_state_machine_agrees_with_h2_for_every_state_and_input():
    import h2.connection
    import h2.exceptions

    from engine.transport.h2_state import ClientConnectionStateMachine

    def outcome(machine: h2.connection.H2ConnectionStateMachine, state, input_):
        machine.state = state
        try:
            answer: object = machine.process_input(input_)
        except h2.exceptions.ProtocolError:
            answer = "refused"
        return answer, machine.state

    for state in h2.connection.ConnectionState:
        for input_ in h2.connection.ConnectionInputs:
            plain = outcome(h2.connection.H2ConnectionStateMachine(), state, input_)
            ours = outcome(ClientConnectionStateMachine(), state, input_)
            assert ours == plain, (state, input_)


def test_client_state_refuses_streams_beyond_the_servers_limit_and_reads_responses():
    """Sans-I/O: the client state against an h2 server state allowing two streams; responses
    with a header block in CONTINUATION frames and padded data, split across reads."""
    import h2.config
    import h2.connection
    import h2.events
    import h2.exceptions
    import h2.settings
    import pytest

    from engine.transport.h2_state import new_client_state

    in_flight: dict[int, object] = {}
    client = new_client_state(in_flight)
    server = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=False, header_encoding=None)
    )
    server.local_settings = h2.settings.Settings(
        client=False, initial_values={h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 2}
    )
    server.initiate_connection()
    client.initiate_connection()
    client.receive_data(server.data_to_send())
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    request = [(b":method", b"GET"), (b":scheme", b"http"), (b":authority", b"a"), (b":path", b"/")]
    for _ in range(2):
        stream_id = client.get_next_available_stream_id()
        client.send_headers(stream_id, request, end_stream=True)
        in_flight[stream_id] = object()
    with pytest.raises(h2.exceptions.TooManyStreamsError):
        client.send_headers(client.get_next_available_stream_id(), request, end_stream=True)
    received = server.receive_data(client.data_to_send())
    assert [type(e) for e in received].count(h2.events.RequestReceived) == 2
    big = b"x" * 40_000  # beyond one frame: HEADERS + CONTINUATION
    server.send_headers(1, [(b":status", b"200"), (b"x-big", big)])
    server.send_data(1, b"padded", pad_length=10, end_stream=True)
    server.send_headers(3, [(b":status", b"204")], end_stream=True)
    wire = server.data_to_send()
    events = []
    for offset in range(0, len(wire), 1000):  # frames split across reads
        events += client.receive_data(wire[offset : offset + 1000])
    answered = [
        (e.stream_id, e.headers) for e in events if isinstance(e, h2.events.ResponseReceived)
    ]
    assert answered == [(1, [(b":status", b"200"), (b"x-big", big)]), (3, [(b":status", b"204")])]
    data = [e for e in events if isinstance(e, h2.events.DataReceived)]
    assert [(e.data, e.flow_controlled_length) for e in data] == [(b"padded", 6 + 10 + 1)]
    assert [e.stream_id for e in events if isinstance(e, h2.events.StreamEnded)] == [1, 3]


async def test_warm_opens_the_connection_before_the_first_send_and_leaves_faults_to_it(
    h2c_server: RunningServer, closed_port: int, make_plan: MakePlan
):
    plan = make_plan(f"{h2c_server.url}/", f"http://127.0.0.1:{closed_port}/", http2=True)
    client = make_client(plan, max_connections=10)
    assert isinstance(client, Http2Client)
    await asyncio.wait_for(client.warm(5), 10)  # the refused endpoint raises nothing here
    seen = Deliveries()
    for key in range(20):
        seen.start(client, key, 0)
    seen.start(client, 20, 1)
    await asyncio.wait_for(seen.all_in.wait(), 10)
    await client.aclose()
    results = [seen.results[key][0][0] for key in range(20)]
    assert all(r[:2] == (200, ERR_NONE) and r[5] == 0 for r in results)  # none paid a connect
    assert seen.calls_inside_start == 0
    refused = seen.results[20][0][0]
    assert refused[1] == ERR_CONNECT and "refused" in refused[2]


def test_after_a_goaway_the_client_state_reads_the_answers_of_accepted_streams_only():
    """Sans-I/O: the server accepts streams 1 and 3, says GOAWAY (last stream 3), then answers
    them. Plain h2 rejects those answers ("RECV_HEADERS in state CLOSED"); the client state
    reads them, keeps the frames it had queued, acknowledges data, and opens no new stream."""
    import h2.config
    import h2.connection
    import h2.events
    import h2.exceptions
    import pytest
    from hyperframe.frame import GoAwayFrame

    from engine.transport.h2_state import new_client_state

    request = [(b":method", b"GET"), (b":scheme", b"http"), (b":authority", b"a"), (b":path", b"/")]

    reset_5 = b"\x00\x00\x04\x03\x00\x00\x00\x00\x05"  # RST_STREAM frame header, stream 5
    kept: list[bytes] = []

    def exchange(client: h2.connection.H2Connection) -> list[object]:
        server = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding=None)
        )
        server.initiate_connection()
        client.initiate_connection()
        client.receive_data(server.data_to_send())
        server.receive_data(client.data_to_send())
        client.receive_data(server.data_to_send())
        for stream_id in (1, 3, 5):
            client.send_headers(stream_id, request, end_stream=True)
        server.receive_data(client.data_to_send())
        goaway = GoAwayFrame(0)
        goaway.last_stream_id = 3
        client.reset_stream(5)  # queued, not yet written when the GOAWAY arrives
        events = client.receive_data(goaway.serialize())
        kept.append(client.data_to_send())
        for stream_id in (1, 3):
            server.send_headers(stream_id, [(b":status", b"200")])
            server.send_data(stream_id, b"x" * 16_000, end_stream=True)
        events += client.receive_data(server.data_to_send())
        client.acknowledge_received_data(16_000, 1)
        return events

    with pytest.raises(h2.exceptions.ProtocolError, match="RECV_HEADERS in state"):
        exchange(
            h2.connection.H2Connection(
                h2.config.H2Configuration(client_side=True, header_encoding=None)
            )
        )
    assert reset_5 not in kept[0]  # plain h2 dropped the queued frame
    client = new_client_state({})
    events = exchange(client)
    assert reset_5 in kept[1]
    (terminated,) = [e for e in events if isinstance(e, h2.events.ConnectionTerminated)]
    assert terminated.last_stream_id == 3
    assert [e.stream_id for e in events if isinstance(e, h2.events.StreamEnded)] == [1, 3]
    assert b"x" * 100 not in client.data_to_send()  # a WINDOW_UPDATE, nothing else
    with pytest.raises(h2.exceptions.ProtocolError):
        client.send_headers(7, request, end_stream=True)
