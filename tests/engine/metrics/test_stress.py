"""Stress steps judged from closed windows: warm-up left out, each step on its own results,
the first breaking step ends it, and the outcome named."""

from __future__ import annotations

import pytest

from engine.metrics.histogram import bucket_index
from engine.metrics.latency import LatencyTotals
from engine.metrics.stress import StressTracker, breaks_on
from engine.plan.model import StressPlan
from engine.run.protocol import LatencyStats

W = 0.5  # window length


def plan(
    loads: tuple[float, ...] = (10, 20, 30), until: tuple[str, ...] = ("p95 > 50ms",)
) -> StressPlan:
    return StressPlan(over="users", loads=loads, step_s=3.0, until=until, warmup_s=1.0)


def window(
    tracker: StressTracker, seq: int, latency_ms: float, n: int = 100, errors: int = 0
) -> None:
    """A closed window of ``n`` results of ``latency_ms`` each, ``errors`` of them failed."""
    totals = LatencyTotals()
    ns = int(latency_ms * 1_000_000)
    totals.counts[bucket_index(ns // 1000)] += n
    totals.requests, totals.errors = n, errors
    totals.min_ns, totals.max_ns, totals.sum_ns = ns, ns, ns * n
    tracker.add(seq, totals, W)


def test_the_first_second_of_each_step_is_left_out() -> None:
    tracker = StressTracker(plan(), W)
    # step 0 covers windows 0..5 (0 - 3 s); windows 0 and 1 are its warm-up
    assert [tracker.step_of(seq) for seq in range(7)] == [
        (0, False),
        (0, False),
        (0, True),
        (0, True),
        (0, True),
        (0, True),
        (1, False),
    ]


def test_each_step_is_judged_on_its_own_windows_and_the_first_break_ends_it() -> None:
    tracker = StressTracker(plan(), W)
    for seq in range(6):  # 10 users: 80 ms in the warm-up only, then 20 ms
        window(tracker, seq, 80.0 if seq < 2 else 20.0)
    assert tracker.judged == []  # not complete until a window of the next step arrives
    for seq in range(6, 12):  # 20 users: 40 ms
        window(tracker, seq, 40.0)
    assert [s.held for s in tracker.judged] == [True]
    first = tracker.judged[0]
    assert first.load == 10 and first.requests == 400  # 4 windows after the warm-up
    assert first.rps == pytest.approx(400 / 2.0)
    assert first.p95_ms == pytest.approx(20.0, rel=0.01)
    for seq in range(12, 18):  # 30 users: 60 ms, beyond the limit
        window(tracker, seq, 60.0)
    tracker.finish(completed=True)
    progress = tracker.progress()
    assert [s.held for s in progress.steps] == [True, True, False]
    assert progress.steps[-1].broke_on == "p95 > 50ms"
    assert (progress.breaking_point, progress.max_sustainable) == (30, 20)
    assert progress.concluded and tracker.broke


def test_windows_after_the_break_change_nothing() -> None:
    tracker = StressTracker(plan(loads=(10, 20, 30, 40)), W)
    for seq in range(6):
        window(tracker, seq, 90.0)
    window(tracker, 6, 10.0)  # the next step began: the first is judged, and broke
    assert tracker.broke
    for seq in range(7, 20):
        window(tracker, seq, 10.0)
    progress = tracker.progress()
    assert [s.load for s in progress.steps] == [10]
    assert (progress.breaking_point, progress.max_sustainable) == (10, None)


def test_when_every_step_holds_max_is_the_sustainable_load_and_there_is_no_break() -> None:
    tracker = StressTracker(plan(loads=(10, 20)), W)
    for seq in range(12):
        window(tracker, seq, 5.0)
    tracker.finish(completed=True)
    progress = tracker.progress()
    assert [s.held for s in progress.steps] == [True, True]
    assert progress.breaking_point is None and progress.max_sustainable == 20
    assert progress.concluded


def test_a_run_stopped_mid_step_leaves_that_step_unjudged() -> None:
    tracker = StressTracker(plan(), W)
    for seq in range(9):
        window(tracker, seq, 5.0)
    tracker.finish(completed=False)  # stopped 1.6 s into the second step
    progress = tracker.progress()
    assert [(s.load, s.complete) for s in progress.steps] == [(10, True), (20, False)]
    assert progress.steps[-1].held is True  # its verdict so far
    assert not progress.concluded and progress.breaking_point is None


def test_a_step_with_no_response_breaks() -> None:
    tracker = StressTracker(plan(), W)
    for seq in range(6):
        window(tracker, seq, 5.0)
    for seq in range(6, 12):
        tracker.add(seq, LatencyTotals(), W)
    window(tracker, 12, 5.0)
    progress = tracker.progress()
    assert progress.steps[-1].held is False and progress.steps[-1].broke_on == "no responses"


def test_error_rate_and_throughput_conditions() -> None:
    stats = LatencyStats(count=100, p95_ms=10.0)
    assert breaks_on(("error_rate > 1%",), stats, 100, 2, 50.0) == "error_rate > 1%"
    assert breaks_on(("error_rate > 1%",), stats, 100, 1, 50.0) is None
    assert breaks_on(("p95 > 200ms", "rps < 60"), stats, 100, 0, 50.0) == "rps < 60"
