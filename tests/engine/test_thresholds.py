"""Thresholds: parsed with helpful errors, judged on engine snapshots."""

from __future__ import annotations

import pytest

from engine.run.protocol import LatencyStats, PhaseTimings, RequestStats, Snapshot, ThresholdResult
from engine.thresholds import Threshold, evaluate_thresholds, parse_threshold, thresholds_passed

LAT = LatencyStats(
    count=1000,
    min_ms=1.0,
    mean_ms=20.0,
    p50_ms=15.0,
    p75_ms=25.0,
    p90_ms=40.0,
    p95_ms=250.0,
    p99_ms=400.0,
    p99_9_ms=900.0,
    max_ms=1200.0,
)


def make_snapshot(
    *,
    requests: int = 1000,
    errors: tuple[tuple[str, int], ...] = (("timeout", 5),),
    skipped: int = 0,
    mean_rps: float = 120.0,
    latency: LatencyStats = LAT,
    per_request: tuple[RequestStats, ...] = (),
) -> Snapshot:
    return Snapshot(
        seq=1,
        phase="running",
        model="closed",
        collection="c",
        scenario="s",
        target="http://127.0.0.1",
        elapsed_s=10.0,
        planned_s=20.0,
        stage_index=0,
        stage_label="",
        requests=requests,
        successes=requests - sum(n for _, n in errors),
        rps=100.0,
        mean_rps=mean_rps,
        bytes_in=0,
        bytes_out=0,
        status_codes=((200, requests),),
        errors=errors,
        skipped=skipped,
        active_users=10,
        target_users=10.0,
        in_flight=3,
        target_rate=0.0,
        latency=latency,
        service_latency=latency,
        window_latency=latency,
        scheduler_lag_ms=LatencyStats(),
        window_hist=(),
        cumulative_hist=(),
        phases=PhaseTimings(),
        rps_series=(),
        p99_series=(),
        error_series=(),
        users_series=(),
        per_request=per_request,
        recent_errors=(),
        thresholds=(),
    )


@pytest.mark.parametrize(
    ("expr", "metric", "op", "limit", "request_name"),
    [
        ("p95 < 300ms", "p95", "<", 300.0, None),
        ("p95<300", "p95", "<", 300.0, None),
        ("p99 <= 1.5s", "p99", "<=", 1500.0, None),
        ("p99.9 < 2s", "p99.9", "<", 2000.0, None),
        ("p99_9 < 800us", "p99_9", "<", 0.8, None),
        ("max < 5s", "max", "<", 5000.0, None),
        ("mean < 20ms", "mean", "<", 20.0, None),
        ("error_rate < 1%", "error_rate", "<", 0.01, None),
        ("error_rate <= 0.05", "error_rate", "<=", 0.05, None),
        ("rps > 100", "rps", ">", 100.0, None),
        ("rps >= 50/s", "rps", ">=", 50.0, None),
        ("requests > 0", "requests", ">", 0.0, None),
        ("errors == 0", "errors", "==", 0.0, None),
        ("skipped == 0", "skipped", "==", 0.0, None),
        ("p95[Get user] < 300ms", "p95", "<", 300.0, "Get user"),
    ],
)
def test_parse_threshold(
    expr: str, metric: str, op: str, limit: float, request_name: str | None
) -> None:
    t = parse_threshold(expr)
    assert t == Threshold(expr, metric, op, pytest.approx(limit), request_name)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("expr", "says"),
    [
        ("p95 < 3x", "not a latency; use a number with a unit, e.g. 300ms"),
        ("p96 < 300ms", "unknown metric 'p96'; did you mean"),
        ("latency < 300ms", "metrics are p50"),
        ("error_rate < 5", "e.g. 1% or 0.01"),
        ("p95 = 300ms", "use '==' to compare"),
        ("p95 300ms", "write METRIC OP VALUE"),
        ("p95 <", "missing the value"),
        ("rps > fast", "requests per second"),
        ("skipped[Home] == 0", "whole run only"),
        ("p95[] < 1s", "empty request name"),
    ],
)
def test_bad_thresholds_are_rejected_with_a_hint(expr: str, says: str) -> None:
    with pytest.raises(ValueError, match="threshold") as info:
        parse_threshold(expr)
    assert says in str(info.value)


def test_evaluate_latency_and_error_rate() -> None:
    results = evaluate_thresholds(
        ["p95 < 300ms", "p99 < 300ms", "error_rate < 1%", "error_rate < 0.1%"], make_snapshot()
    )
    assert results == (
        ThresholdResult("p95 < 300ms", 250.0, True),
        ThresholdResult("p99 < 300ms", 400.0, False),
        ThresholdResult("error_rate < 1%", 0.005, True),
        ThresholdResult("error_rate < 0.1%", 0.005, False),
    )


def test_evaluate_counts_and_rps() -> None:
    snap = make_snapshot(skipped=7)
    values = {
        r.expr: (r.value, r.passed)
        for r in evaluate_thresholds(
            ["rps > 100", "requests >= 1000", "errors == 0", "skipped == 0", "max <= 1.2s"], snap
        )
    }
    assert values == {
        "rps > 100": (120.0, True),
        "requests >= 1000": (1000.0, True),
        "errors == 0": (5.0, False),
        "skipped == 0": (7.0, False),
        "max <= 1.2s": (1200.0, True),
    }


def test_per_request_threshold_uses_that_request_only() -> None:
    slow = LatencyStats(count=10, p95_ms=500.0)
    fast = LatencyStats(count=10, p95_ms=5.0)
    snap = make_snapshot(
        per_request=(
            RequestStats("Get user", 10, 1.0, 0, slow),
            RequestStats("Home", 10, 1.0, 1, fast),
        )
    )
    results = evaluate_thresholds(
        ["p95[Get user] < 300ms", "p95[Home] < 300ms", "error_rate[Home] < 5%", "p95[Nope] < 1s"],
        snap,
    )
    assert [(r.value, r.passed) for r in results] == [
        (500.0, False),
        (5.0, True),
        (0.1, False),
        (None, None),
    ]


def test_no_requests_yet_means_no_verdict() -> None:
    results = evaluate_thresholds(
        ["p95 < 300ms", "error_rate < 1%"], make_snapshot(requests=0, errors=())
    )
    assert results == (
        ThresholdResult("p95 < 300ms", None, None),
        ThresholdResult("error_rate < 1%", None, None),
    )
    assert thresholds_passed(results)
    assert not thresholds_passed(results, final=True)


def test_thresholds_passed() -> None:
    assert thresholds_passed(())
    assert thresholds_passed((), final=True)
    ok = ThresholdResult("a", 1.0, True)
    bad = ThresholdResult("b", 1.0, False)
    assert thresholds_passed((ok,), final=True)
    assert not thresholds_passed((ok, bad))


def test_an_expression_that_does_not_parse_fails_rather_than_crashes() -> None:
    (result,) = evaluate_thresholds(["p95 <<< 1"], make_snapshot())
    assert result == ThresholdResult("p95 <<< 1", None, False)
