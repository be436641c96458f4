"""WindowRecorder: what one window holds, how windows merge, and that flush starts afresh."""

from __future__ import annotations

import math
import pickle
import random
from collections import Counter
from collections.abc import Sequence

import numpy as np

from engine.load.checks import compile_checks
from engine.metrics.columns import FOLD_EVERY, buckets, micros
from engine.metrics.histogram import MAX_US, bucket_index
from engine.metrics.recorder import ERROR_SAMPLES_PER_WINDOW, WindowRecorder
from engine.metrics.window import WindowData
from engine.plan.model import Check
from engine.results import ERR_CHECK, ERR_CONNECT, ERR_HTTP_STATUS, ERR_TIMEOUT
from tests.engine.metrics.feed import feed

NAMES = ("Get user", "List items", "Post order")


def record_ok(
    rec: WindowRecorder, index: int, latency_ns: int, status: int = 200, at_s: float = 0.1
) -> None:
    feed(rec, index, status=status, latency_ns=latency_ns, bytes_in=300, bytes_out=90,
         ttfb_ns=latency_ns // 2, at_s=at_s)  # fmt: skip


def pairs_counter(pairs: tuple[tuple[int, int], ...]) -> Counter[int]:
    out: Counter[int] = Counter()
    for key, count in pairs:
        out[key] += count
    return out


def test_window_counts_requests_statuses_errors_and_bytes_per_request() -> None:
    rec = WindowRecorder(3, NAMES, 0.5, 100)
    for _ in range(5):
        record_ok(rec, 0, 2_000_000)
    record_ok(rec, 1, 40_000_000, status=404)
    feed(rec, 2, status=0, error=ERR_CONNECT, latency_ns=1_000_000, message="refused", at_s=0.2)
    feed(
        rec,
        1,
        status=503,
        error=ERR_HTTP_STATUS,
        latency_ns=5_000_000,
        bytes_in=10,
        bytes_out=90,
        ttfb_ns=4_000_000,
        message="HTTP 503",
        at_s=0.3,
    )
    w = rec.flush(7, 3.5, 4.0)
    assert (w.worker_id, w.seq, w.start_s, w.end_s) == (3, 7, 3.5, 4.0)
    assert w.requests == 8 and w.successes == 5  # a 404 without a status check is an error
    assert [r.requests for r in w.per_request] == [5, 2, 1]
    assert [r.errors for r in w.per_request] == [0, 2, 1]
    assert dict(w.status_codes) == {200: 5, 404: 1, 503: 1}
    assert dict(w.errors) == {ERR_CONNECT: 1, ERR_HTTP_STATUS: 2}
    assert dict(w.per_request[1].status_codes) == {404: 1, 503: 1}
    assert dict(w.per_request[2].error_codes) == {ERR_CONNECT: 1}
    assert w.per_request[0].latency_hist == ((bucket_index(2_000), 5),)
    assert w.bytes_in == 5 * 300 + 300 + 10 and w.bytes_out == 6 * 90 + 90
    assert (w.min_ns, w.max_ns) == (1_000_000, 40_000_000)
    assert w.sum_ns == 5 * 2_000_000 + 40_000_000 + 1_000_000 + 5_000_000
    assert sum(c for _, c in w.latency_hist) == 8
    # the connect error has no time to first byte; the others do
    assert sum(c for _, c in w.ttfb_hist) == 7
    assert [(s.request, s.error_class, s.status) for s in w.error_samples] == [
        ("List items", "http_status", 404),
        ("Post order", "connect", 0),
        ("List items", "http_status", 503),
    ]
    assert pickle.loads(pickle.dumps(w)) == w


def test_flush_resets_the_window_but_keeps_gauges() -> None:
    rec = WindowRecorder(0, ("a", "b"), 0.5, 100)
    rec.active_users = 12
    rec.target_users = 20.0
    rec.in_flight = 4
    rec.stage_index = 1
    rec.stage_label = "ramp"
    rec.skipped = 9
    record_ok(rec, 0, 3_000_000)
    feed(
        rec,
        1,
        status=0,
        error=ERR_TIMEOUT,
        latency_ns=10_000_000_000,
        bytes_out=50,
        message="timeout",
        at_s=0.4,
    )
    first = rec.flush(0, 0.0, 0.5)
    assert first.requests == 2 and first.skipped == 9 and first.error_samples
    second = rec.flush(1, 0.5, 1.0)
    assert second.requests == 0 and second.successes == 0
    assert second.latency_hist == () and second.ttfb_hist == () and second.status_codes == ()
    assert second.errors == () and second.error_samples == ()
    assert second.bytes_in == 0 and second.bytes_out == 0 and second.skipped == 0
    assert (second.min_ns, second.max_ns, second.sum_ns) == (0, 0, 0)
    assert all(r.requests == 0 and r.latency_hist == () for r in second.per_request)
    assert (second.active_users, second.target_users, second.in_flight) == (12, 20.0, 4)
    assert (second.stage_index, second.stage_label) == (1, "ramp")
    # and the next window records normally again, min included
    record_ok(rec, 1, 7_000_000)
    third = rec.flush(2, 1.0, 1.5)
    assert third.requests == 1 and third.min_ns == third.max_ns == 7_000_000
    assert len(rec.ring) == 3


def merge(windows: list[WindowData]) -> dict[str, object]:
    """The figures of several windows added together."""
    hist: Counter[int] = Counter()
    status: Counter[int] = Counter()
    per_request: list[Counter[int]] = [Counter() for _ in NAMES]
    for w in windows:
        hist += pairs_counter(w.latency_hist)
        status += pairs_counter(w.status_codes)
        for i, r in enumerate(w.per_request):
            per_request[i] += pairs_counter(r.latency_hist)
    return {
        "requests": sum(w.requests for w in windows),
        "successes": sum(w.successes for w in windows),
        "hist": hist,
        "status": status,
        "per_request": per_request,
        "service": sum((pairs_counter(w.service_hist) for w in windows), Counter()),
        "lag": sum((pairs_counter(w.lag_hist) for w in windows), Counter()),
        "bytes": (sum(w.bytes_in for w in windows), sum(w.bytes_out for w in windows)),
        "min": min(w.min_ns for w in windows if w.requests),
        "max": max(w.max_ns for w in windows),
        "sum": sum(w.sum_ns for w in windows),
        "service_sum": sum(w.service_sum_ns for w in windows),
    }


def test_windows_from_two_recorders_merge_to_the_same_as_recording_everything_in_one() -> None:
    rng = random.Random(5)
    results = []
    for _ in range(4_000):
        latency = int(rng.lognormvariate(math.log(4e6), 1.0))
        lag = int(rng.expovariate(1 / 50_000))
        status = rng.choice((200, 200, 200, 201, 500))
        results.append((rng.randrange(len(NAMES)), status, latency, latency - lag, lag))
    one = WindowRecorder(0, NAMES, 0.5, 10_000)
    a = WindowRecorder(0, NAMES, 0.5, 10_000)
    b = WindowRecorder(1, NAMES, 0.5, 10_000)
    for k, (index, status, latency, service, lag) in enumerate(results):
        fields = dict(status=status, latency_ns=latency, service_ns=service, lag_ns=lag,
                      bytes_in=100 + k % 7, bytes_out=50, ttfb_ns=service, at_s=0.1)  # fmt: skip
        feed(one, index, **fields)  # type: ignore[arg-type]
        feed(a if k % 3 else b, index, **fields)  # type: ignore[arg-type]
    merged = merge([a.flush(0, 0.0, 0.5), b.flush(0, 0.0, 0.5)])
    assert merged == merge([one.flush(0, 0.0, 0.5)])
    assert merged["requests"] == 4_000
    lags = merged["lag"]
    assert isinstance(lags, Counter) and sum(lags.values()) == 4_000  # every send has a lag


def test_open_model_keeps_service_time_apart_from_latency() -> None:
    rec = WindowRecorder(0, ("only",), 0.5, 100)
    # intended send 30 ms before the actual one: latency 40 ms, service 10 ms, lag 30 ms
    feed(
        rec,
        0,
        latency_ns=40_000_000,
        service_ns=10_000_000,
        lag_ns=30_000_000,
        bytes_in=1,
        bytes_out=1,
        ttfb_ns=9_000_000,
        at_s=1.0,
    )
    w = rec.flush(2, 1.0, 1.5)
    assert w.latency_hist == ((bucket_index(40_000), 1),)
    assert w.service_hist == ((bucket_index(10_000), 1),)
    assert w.lag_hist == ((bucket_index(30_000), 1),)
    assert w.service_sum_ns == 10_000_000 and w.sum_ns == 40_000_000
    row = next(rec.ring.rows())
    assert (row.latency_us, row.service_us) == (40_000, 10_000)


def test_closed_model_records_no_lag_and_service_equals_latency() -> None:
    rec = WindowRecorder(0, ("only",), 0.5, 100)
    for ms in (1, 2, 3):
        record_ok(rec, 0, ms * 1_000_000)
    w = rec.flush(0, 0.0, 0.5)
    assert w.lag_hist == ()
    assert w.service_hist == w.latency_hist
    assert w.service_sum_ns == w.sum_ns == 6_000_000


def test_connection_phases_are_recorded_only_when_they_happened() -> None:
    rec = WindowRecorder(0, ("only",), 0.5, 100)
    feed(
        rec,
        0,
        latency_ns=9_000_000,
        bytes_in=1,
        bytes_out=1,
        connect_ns=2_000_000,
        tls_ns=3_000_000,
        ttfb_ns=8_000_000,
        at_s=0.1,
    )
    feed(rec, 0, latency_ns=1_000_000, bytes_in=1, bytes_out=1, ttfb_ns=900_000, at_s=0.2)
    feed(
        rec,
        0,
        latency_ns=1_500_000,
        bytes_in=1,
        bytes_out=1,
        connect_ns=500_000,
        ttfb_ns=1_200_000,
        at_s=0.3,
    )
    w = rec.flush(0, 0.0, 0.5)
    assert pairs_counter(w.connect_hist) == Counter({bucket_index(2_000): 1, bucket_index(500): 1})
    assert w.tls_hist == ((bucket_index(3_000), 1),)
    assert sum(c for _, c in w.ttfb_hist) == 3


def test_error_samples_keep_the_newest_few_redacted() -> None:
    rec = WindowRecorder(0, ("only",), 0.5, 100, redact=lambda text: text.replace("s3cret", "***"))
    for k in range(12):
        feed(
            rec,
            0,
            status=0,
            error=ERR_CONNECT,
            latency_ns=1_000,
            message=f"token=s3cret try {k}",
            at_s=k / 10,
        )
    w = rec.flush(0, 0.0, 1.5)
    assert len(w.error_samples) == ERROR_SAMPLES_PER_WINDOW
    assert [s.message for s in w.error_samples][-1] == "token=*** try 11"
    assert all("s3cret" not in s.message for s in w.error_samples)
    assert w.error_samples[0].request == "only"
    assert all("s3cret" not in row.message for row in rec.ring.rows())


def test_out_of_range_values_are_clamped_not_fatal() -> None:
    rec = WindowRecorder(0, ("only",), 0.5, 10)
    huge = 5 * 2**32
    feed(rec, 0, status=1234, latency_ns=120_000_000_000, bytes_in=huge, bytes_out=huge, at_s=0.1)
    feed(rec, 0, latency_ns=-50, bytes_in=1, bytes_out=1, at_s=0.1)
    w = rec.flush(0, 0.0, 0.5)
    assert w.requests == 2 and dict(w.status_codes) == {200: 1}  # 1234 is no status
    rows = list(rec.ring.rows())
    assert rows[0].bytes_in == 2**32 - 1 and rows[0].latency_us == 60_000_000
    assert rows[1].latency_us == 0


def test_bulk_bucketing_matches_bucket_index_at_every_boundary() -> None:
    values = set(range(-3, 300))
    for bits in range(7, 27):
        for delta in (-1, 0, 1):
            values.add((1 << bits) + delta)
    values |= {MAX_US - 1, MAX_US, MAX_US + 1, 10 * MAX_US}
    ordered = sorted(values)
    nanos = np.array([v * 1000 + 999 for v in ordered], dtype=np.int64)
    got = buckets(micros(nanos)).tolist()
    assert got == [bucket_index(v) for v in ordered]


def _reference_window(results: Sequence[tuple[int, ...]]) -> dict[str, Counter[int]]:
    """Per-result Python arithmetic (bucket_index one by one): what the bulk fold must equal."""
    out: dict[str, Counter[int]] = {k: Counter() for k in ("lat", "svc", "lag", "ttfb", "conn")}
    for _index, _status, latency, service, lag, ttfb, conn in results:
        out["lat"][bucket_index(max(latency // 1000, 0))] += 1
        out["svc"][bucket_index(max(service // 1000, 0))] += 1
        if lag >= 0:
            out["lag"][bucket_index(lag // 1000)] += 1
        if ttfb > 0:
            out["ttfb"][bucket_index(ttfb // 1000)] += 1
        if conn > 0:
            out["conn"][bucket_index(conn // 1000)] += 1
    return out


def test_completer_records_across_several_folds_what_per_result_arithmetic_gives() -> None:
    """More results than one fold holds, open-model style (service and lag apart), with
    phases now and then: histograms, counts and the ring agree with a per-result reference."""
    rng = random.Random(11)
    results = []
    for k in range(2 * FOLD_EVERY + 123):
        latency = int(rng.lognormvariate(math.log(3e6), 1.5))
        lag = int(rng.expovariate(1 / 40_000)) if k % 3 else -1
        service = latency - max(lag, 0)
        conn = rng.randrange(1, 5_000_000) if k % 97 == 0 else 0
        results.append(
            (rng.randrange(len(NAMES)), rng.choice((200, 201, 302)), latency, service, lag,
             latency // 2, conn)
        )  # fmt: skip
    fast = WindowRecorder(0, NAMES, 0.5, 100_000)
    complete = fast.completer([None] * len(NAMES))
    for k, (index, status, latency, service, lag, ttfb, conn) in enumerate(results):
        end_ns = 1_000_000 * k
        result = (status, 0, "", 100 + k % 7, 60, conn, conn // 2, ttfb, None)
        complete(index, result, latency, service, lag, end_ns)
    w = fast.flush(0, 0.0, 0.5)
    want = _reference_window(results)
    assert pairs_counter(w.latency_hist) == want["lat"]
    assert pairs_counter(w.service_hist) == want["svc"]
    assert pairs_counter(w.lag_hist) == want["lag"]
    assert pairs_counter(w.ttfb_hist) == want["ttfb"]
    assert pairs_counter(w.connect_hist) == want["conn"]
    assert w.requests == w.successes == len(results)
    assert w.sum_ns == sum(r[2] for r in results)
    assert w.service_sum_ns == sum(r[3] for r in results)
    assert w.max_ns == max(r[2] for r in results)
    assert dict(w.status_codes) == Counter(r[1] for r in results)
    rows = list(fast.ring.rows())
    assert [(row.request, row.status, row.latency_us) for row in rows] == [
        (r[0], r[1], min(r[2] // 1000, 60_000_000)) for r in results
    ]
    assert rows[-1].elapsed_s == np.float32((len(results) - 1) / 1000)


def test_completer_classifies_with_the_checks_then_by_status() -> None:
    rec = WindowRecorder(0, ("checked", "plain"), 0.5, 100)
    judge = compile_checks((Check("status", (200,)), Check("body_contains", "ok")))
    complete = rec.completer([judge, None])

    def result(status: int, body: bytes | None = b"ok", err: int = 0, msg: str = "") -> tuple:
        return (status, err, msg, 10, 10, 0, 0, 1_000, body)

    complete(0, result(200), 1_000_000, 1_000_000, -1, 1)
    complete(0, result(200, b"nope"), 1_000_000, 1_000_000, -1, 2)  # a check fails
    complete(0, result(500), 1_000_000, 1_000_000, -1, 3)  # a status check fails, >= 400
    complete(1, result(503), 1_000_000, 1_000_000, -1, 4)  # no checks: an HTTP error status
    complete(1, result(204), 1_000_000, 1_000_000, -1, 5)
    complete(1, result(0, None, ERR_CONNECT, "refused"), 1_000_000, 1_000_000, -1, 6)
    w = rec.flush(0, 0.0, 0.5)
    assert w.requests == 6 and w.successes == 2
    assert dict(w.per_request[0].error_codes) == {ERR_CHECK: 1, ERR_HTTP_STATUS: 1}
    assert dict(w.per_request[1].error_codes) == {ERR_HTTP_STATUS: 1, ERR_CONNECT: 1}
    assert [(s.request, s.message) for s in w.error_samples] == [
        ("checked", "body does not contain 'ok'"),
        ("checked", "status 500, expected 200"),
        ("plain", "HTTP 503"),
        ("plain", "refused"),
    ]
    assert [row.message for row in rec.ring.rows()] == [
        "", "body does not contain 'ok'", "status 500, expected 200", "HTTP 503", "", "refused",
    ]  # fmt: skip


def test_completer_clamps_values_beyond_64_bits_instead_of_failing() -> None:
    rec = WindowRecorder(0, ("only",), 0.5, 10)
    complete = rec.completer([None])
    huge = 2**70
    complete(0, (huge, 0, "", huge, 10, 0, 0, 1_000, None), 2_000_000, 2_000_000, -1, 1)
    complete(0, (200, 0, "", 5, 10, 0, 0, 1_000, None), 3_000_000, 3_000_000, -1, 2)
    w = rec.flush(0, 0.0, 0.5)
    assert w.requests == 2 and dict(w.status_codes) == {200: 1}  # 2**70 is no status
    assert w.bytes_in == 2**63 - 1 + 5
    rows = list(rec.ring.rows())
    assert [(r.status, r.bytes_in) for r in rows] == [(0, 2**32 - 1), (200, 5)]
