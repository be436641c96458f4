"""Aggregator: cumulative and current-window figures, TTL cache, series, per-request stats."""

from __future__ import annotations

import math
import random
from dataclasses import replace

from engine.metrics.aggregate import Aggregator
from engine.metrics.recorder import WindowRecorder
from engine.metrics.window import WindowData
from engine.plan.model import LoadProfile, PreparedRequest, RunPlan, Stage
from engine.results import ERR_CONNECT, ERR_HTTP_STATUS
from tests.engine.metrics.feed import feed

NAMES = ("Get user", "List items")


def make_plan(
    *, workers: int = 1, model: str = "closed", thresholds: tuple[str, ...] = ()
) -> RunPlan:
    requests = tuple(
        PreparedRequest(
            name=name,
            method="GET",
            url="http://127.0.0.1:8089/",
            scheme="http",
            host="127.0.0.1",
            port=8089,
            target="/",
            headers=(),
        )
        for name in NAMES
    )
    return RunPlan(
        collection_name="demo",
        scenario_name="smoke",
        base_url="http://127.0.0.1:8089",
        requests=requests,
        profile=LoadProfile(model=model, stages=(Stage(10.0, 10.0),)),  # type: ignore[arg-type]
        thresholds=thresholds,
        workers=workers,
    )


def window_of(
    rec: WindowRecorder, seq: int, latencies_ns: list[int], index: int = 0, status: int = 200
) -> WindowData:
    for k, ns in enumerate(latencies_ns):
        feed(
            rec,
            index,
            status=status,
            latency_ns=ns,
            bytes_in=100,
            bytes_out=10,
            ttfb_ns=ns,
            at_s=seq * 0.5 + k * 1e-6,
        )
    return rec.flush(seq, seq * 0.5, seq * 0.5 + 0.5)


def exact_percentile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100.0 * len(ordered))) - 1]


def test_cumulative_percentiles_match_raw_samples_within_one_percent() -> None:
    rng = random.Random(9)
    agg = Aggregator(make_plan())
    rec = WindowRecorder(0, NAMES, 0.5, 1_000)
    everything: list[int] = []
    for seq in range(20):
        values = [int(rng.lognormvariate(math.log(8e6), 0.9)) + 1_000_000 for _ in range(2_000)]
        everything += values
        agg.add(window_of(rec, seq, values))
    snap = agg.final_snapshot(10.0, "completed")
    lat = snap.latency
    for q, got in ((50, lat.p50_ms), (90, lat.p90_ms), (99, lat.p99_ms), (99.9, lat.p99_9_ms)):
        exact = exact_percentile(everything, q) / 1e6
        assert abs(got - exact) / exact < 0.01, (q, got, exact)
    assert lat.min_ms == min(everything) / 1e6 and lat.max_ms == max(everything) / 1e6
    assert math.isclose(lat.mean_ms, sum(everything) / len(everything) / 1e6)
    assert lat.count == snap.requests == 40_000


def test_digests_hold_every_request_of_the_run_per_request_and_in_all() -> None:
    agg = Aggregator(make_plan())
    rec = WindowRecorder(0, NAMES, 0.5, 100)
    for seq in range(5):
        agg.add(window_of(rec, seq, [2_000_000 + 1_000 * k for k in range(300)]))
        agg.add(window_of(rec, seq, [9_000_000] * 20, index=1))
    digests = agg.digests()
    assert sum(c for _, c in digests.all) == 1_600
    first, second = digests.per_request
    assert sum(c for _, c in first) == 1_500 and sum(c for _, c in second) == 100
    assert all(abs(m - 9.0) / 9.0 < 0.01 for m, _ in second)


def test_an_error_sample_keeps_its_request_name_even_when_the_name_is_a_number() -> None:
    plan, names = make_plan(), ("1", "0")
    requests = tuple(replace(r, name=n) for r, n in zip(plan.requests, names, strict=True))
    agg = Aggregator(replace(plan, requests=requests))
    rec = WindowRecorder(0, names, 0.5, 100)
    feed(rec, 0, status=0, error=ERR_CONNECT, message="refused", at_s=0.1)
    agg.add(rec.flush(0, 0.0, 0.5))
    (sample,) = agg.final_snapshot(0.5, "completed").recent_errors
    assert sample.request == "1"  # the request at index 0 is named "1", not the one at index 1


def test_snapshot_is_cached_for_the_ttl_and_adding_does_not_invalidate_it() -> None:
    agg = Aggregator(make_plan(), ttl_s=60.0)
    rec = WindowRecorder(0, NAMES, 0.5, 100)
    agg.add(window_of(rec, 0, [1_000_000] * 10))
    first = agg.snapshot(0.5, "running")
    agg.add(window_of(rec, 1, [1_000_000] * 10))
    assert agg.snapshot(1.0, "running") is first
    assert first.requests == 10
    forced = agg.snapshot(1.0, "running", force=True)
    assert forced is not first and forced.requests == 20
    assert agg.snapshot(1.0, "stopping").phase == "stopping"  # a new phase is never stale
    assert Aggregator(make_plan(), ttl_s=0.0).snapshot(0.0, "starting").seq == 1


def test_snapshot_refreshes_after_the_ttl() -> None:
    agg = Aggregator(make_plan(), ttl_s=0.0)
    a = agg.snapshot(0.0, "running")
    b = agg.snapshot(0.0, "running")
    assert a is not b and b.seq == a.seq + 1


def test_series_are_bounded_to_series_len() -> None:
    agg = Aggregator(make_plan(), series_len=8)
    rec = WindowRecorder(0, NAMES, 0.5, 100)
    for seq in range(30):
        agg.add(window_of(rec, seq, [1_000_000] * (seq + 1)))
    snap = agg.snapshot(15.0, "running", force=True)
    assert len(snap.rps_series) == len(snap.p99_series) == 8
    assert len(snap.error_series) == len(snap.users_series) == 8
    assert snap.rps_series == tuple(2.0 * n for n in range(23, 31))
    assert snap.rps == 60.0 and snap.requests == sum(range(1, 31))


def test_per_request_stats_status_codes_and_errors_by_class() -> None:
    agg = Aggregator(make_plan())
    rec = WindowRecorder(0, NAMES, 0.5, 100)
    for _ in range(8):
        feed(rec, 0, latency_ns=3_000_000, bytes_in=500, bytes_out=50, ttfb_ns=2_000_000, at_s=0.1)
    feed(
        rec,
        1,
        status=500,
        error=ERR_HTTP_STATUS,
        latency_ns=9_000_000,
        bytes_in=20,
        bytes_out=50,
        message="HTTP 500",
        at_s=0.2,
    )
    feed(rec, 1, status=0, error=ERR_CONNECT, latency_ns=100_000, message="refused", at_s=0.3)
    agg.add(rec.flush(0, 0.0, 0.5))
    snap = agg.final_snapshot(2.0, "completed")
    get_user, list_items = snap.per_request
    assert (get_user.name, get_user.requests, get_user.errors) == ("Get user", 8, 0)
    assert get_user.rps == 4.0 and get_user.status_codes == ((200, 8),)
    assert abs(get_user.latency.p99_ms - 3.0) / 3.0 < 0.01
    assert (list_items.requests, list_items.errors) == (2, 2)
    assert list_items.latency.max_ms == 9.0 and list_items.latency.min_ms == 0.1
    assert snap.status_codes == ((200, 8), (500, 1))
    assert snap.errors == (("connect", 1), ("http_status", 1))
    assert snap.error_rate == 0.2 and snap.successes == 8
    assert [e.request for e in snap.recent_errors] == ["List items", "List items"]
    assert [e.error_class for e in snap.recent_errors] == ["http_status", "connect"]
    assert (snap.bytes_in, snap.bytes_out) == (8 * 500 + 20, 9 * 50)
    assert snap.phase == "finished" and snap.mean_rps == 5.0


def test_current_window_waits_for_every_worker_and_sums_them() -> None:
    agg = Aggregator(make_plan(workers=2))
    rec_a = WindowRecorder(0, NAMES, 0.5, 100)
    rec_b = WindowRecorder(1, NAMES, 0.5, 100)
    rec_a.active_users, rec_b.active_users = 3, 4
    agg.add(window_of(rec_a, 0, [1_000_000] * 10))
    assert agg.snapshot(0.5, "running", force=True).rps_series == ()  # worker 1 not in yet
    agg.add(window_of(rec_b, 0, [4_000_000] * 30))
    snap = agg.snapshot(0.5, "running", force=True)
    assert snap.rps == 80.0 and snap.rps_series == (80.0,)
    assert snap.window_latency.count == 40 and snap.window_latency.max_ms == 4.0
    assert sum(c for _, c in snap.window_hist) == 40
    assert snap.users_series == (7.0,) and snap.active_users == 7
    # a worker that stops reporting holds the series back by two windows at most
    for seq in (1, 2, 3):
        agg.add(window_of(rec_a, seq, [1_000_000] * 5))
    assert agg.snapshot(2.0, "running", force=True).rps_series == (80.0, 10.0)
    final = agg.final_snapshot(2.0, "completed")
    assert final.rps_series == (80.0, 10.0, 10.0, 10.0)
    assert final.requests == 55


def test_open_model_reports_service_time_and_scheduler_lag() -> None:
    agg = Aggregator(make_plan(model="open"))
    rec = WindowRecorder(0, NAMES, 0.5, 100)
    rec.target_rate = 100.0
    for _ in range(50):
        feed(
            rec,
            0,
            latency_ns=30_000_000,
            service_ns=10_000_000,
            lag_ns=20_000_000,
            bytes_in=1,
            bytes_out=1,
            at_s=0.1,
        )
    agg.add(rec.flush(0, 0.0, 0.5))
    snap = agg.snapshot(0.5, "running")
    assert snap.model == "open" and snap.target_rate == 100.0
    assert abs(snap.latency.p50_ms - 30.0) / 30.0 < 0.01
    assert abs(snap.service_latency.p50_ms - 10.0) / 10.0 < 0.01
    assert snap.service_latency.mean_ms == 10.0
    assert abs(snap.scheduler_lag_ms.p99_ms - 20.0) / 20.0 < 0.01


def test_thresholds_are_judged_on_each_snapshot() -> None:
    agg = Aggregator(make_plan(thresholds=("p95 < 300ms", "error_rate < 1%")))
    rec = WindowRecorder(0, NAMES, 0.5, 100)
    agg.add(window_of(rec, 0, [400_000_000] * 10, status=200))
    snap = agg.final_snapshot(1.0, "completed")
    assert [t.expr for t in snap.thresholds] == ["p95 < 300ms", "error_rate < 1%"]
    assert [t.passed for t in snap.thresholds] == [False, True]
    assert snap.thresholds[0].value is not None and abs(snap.thresholds[0].value - 400.0) < 4.0


def test_empty_run_gives_a_complete_snapshot_of_zeros() -> None:
    snap = Aggregator(make_plan()).final_snapshot(0.0, "stopped")
    assert snap.requests == 0 and snap.rps == 0.0 and snap.mean_rps == 0.0
    assert snap.latency.count == 0 and snap.window_hist == () and snap.cumulative_hist == ()
    assert [r.requests for r in snap.per_request] == [0, 0]
    assert snap.planned_s == 10.0 and snap.target == "http://127.0.0.1:8089"


def test_service_time_and_lag_min_max_are_exact_and_never_beyond_the_latency() -> None:
    """Min and max of every measure come from the values, not from histogram bucket edges:
    the service time of a request is never longer than its latency from the intended send."""
    agg = Aggregator(make_plan(model="open", workers=2))
    rng = random.Random(4)
    latencies, services, lags = [], [], []
    for worker in (0, 1):
        rec = WindowRecorder(worker, NAMES, 0.5, 100)
        for seq in range(3):
            for k in range(3_000):  # folds inside a window and across windows
                lag = int(rng.expovariate(1 / 300_000))
                service = int(rng.uniform(290e6, 301.9e6))
                latencies.append(service + lag)
                services.append(service)
                lags.append(lag)
                feed(rec, k % 2, latency_ns=service + lag, service_ns=service, lag_ns=lag)
            agg.add(rec.flush(seq, seq * 0.5, seq * 0.5 + 0.5))
    snap = agg.final_snapshot(1.5, "completed")
    assert round(snap.latency.max_ms * 1e6) == max(latencies)
    service, lag = snap.service_latency, snap.scheduler_lag_ms
    assert (round(service.min_ms * 1e6), round(service.max_ms * 1e6)) == (
        min(services),
        max(services),
    )
    assert service.max_ms <= snap.latency.max_ms
    assert (round(lag.min_ms * 1e6), round(lag.max_ms * 1e6)) == (min(lags), max(lags))
    for stats in (snap.latency, service, lag):
        assert stats.min_ms <= stats.p50_ms <= stats.p99_9_ms <= stats.max_ms


def test_error_messages_are_counted_exactly_across_windows_and_workers() -> None:
    from engine.results import ERR_TIMEOUT

    agg = Aggregator(make_plan(workers=2))
    expected: dict[tuple[str, str], int] = {}
    for worker in (0, 1):
        rec = WindowRecorder(worker, NAMES, 0.5, 10)  # a ring far smaller than the errors
        for seq in range(3):
            for k in range(3_000):
                if k % 3 == 0:
                    feed(rec, 0, status=0, error=ERR_CONNECT, message="refused", at_s=seq * 0.5)
                    expected[("connect", "refused")] = expected.get(("connect", "refused"), 0) + 1
                elif k % 50 == 1:
                    text = f"timed out after {worker + 1} s"
                    feed(rec, 1, status=0, error=ERR_TIMEOUT, message=text, at_s=seq * 0.5)
                    expected[("timeout", text)] = expected.get(("timeout", text), 0) + 1
                else:
                    feed(rec, 0, at_s=seq * 0.5)
            agg.add(rec.flush(seq, seq * 0.5, seq * 0.5 + 0.5))
    snap = agg.final_snapshot(1.5, "completed")
    assert {(cls, text): n for cls, text, n in snap.error_messages} == expected
    assert [n for _, _, n in snap.error_messages] == sorted(expected.values(), reverse=True)
    assert sum(n for _, _, n in snap.error_messages) == snap.error_count
