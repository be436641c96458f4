"""Load shapes: stage targets, open-model arrival times, think time, request flow."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest

from engine.load.shapes import (
    ArrivalScheduler,
    RequestPicker,
    peak_target,
    target_at,
    think_time,
)
from engine.plan.model import LoadProfile, PreparedRequest, Stage


def _profile(
    *stages: tuple[float, float], start: float = 0.0, model: str = "closed"
) -> LoadProfile:
    return LoadProfile(
        model=model,  # type: ignore[arg-type]
        stages=tuple(Stage(d, t, f"s{i}") for i, (d, t) in enumerate(stages)),
        start_target=start,
    )


def _times(sched: ArrivalScheduler) -> list[float]:
    out = []
    due = sched.due
    while due is not None:
        out.append(due)
        due = sched.advance()
    return out


def test_target_at_constant_holds_the_target_and_ends_after_the_stage() -> None:
    p = _profile((10.0, 50.0), start=50.0)
    assert target_at(p, 0.0) == (50.0, 0, "s0")
    assert target_at(p, 9.99) == (50.0, 0, "s0")
    assert target_at(p, 10.0) == (50.0, 1, "s0")


def test_target_at_ramp_is_linear_from_start_target() -> None:
    p = _profile((10.0, 100.0))
    assert target_at(p, 0.0)[0] == 0.0
    assert target_at(p, 2.5)[0] == pytest.approx(25.0)
    assert target_at(p, 7.5)[0] == pytest.approx(75.0)


def test_target_at_spike_jumps_up_holds_and_drops() -> None:
    p = _profile((5.0, 10.0), (0.0, 200.0), (3.0, 200.0), (0.0, 10.0), (5.0, 10.0), start=10.0)
    assert target_at(p, 4.0) == (10.0, 0, "s0")
    assert target_at(p, 5.0) == (200.0, 2, "s2")
    assert target_at(p, 7.9)[0] == 200.0
    assert target_at(p, 8.0) == (10.0, 4, "s4")
    assert target_at(p, 13.0) == (10.0, 5, "s4")


def test_target_at_stages_ramp_between_targets() -> None:
    p = _profile((10.0, 20.0), (10.0, 20.0), (5.0, 0.0))
    assert target_at(p, 5.0) == (10.0, 0, "s0")
    assert target_at(p, 15.0) == (20.0, 1, "s1")
    assert target_at(p, 22.5)[0] == pytest.approx(10.0)
    assert target_at(p, 22.5)[1] == 2
    assert target_at(p, 30.0) == (0.0, 3, "s2")
    assert peak_target(p) == 20.0


def test_arrivals_at_constant_rate_are_evenly_spaced_and_exact_in_count() -> None:
    sched = ArrivalScheduler.from_profile(_profile((2.0, 100.0), start=100.0, model="open"))
    times = _times(sched)
    assert len(times) == 200
    assert times[0] == pytest.approx(0.005)
    assert times[-1] == pytest.approx(1.995)
    gaps = {round(b - a, 9) for a, b in itertools.pairwise(times)}
    assert gaps == {0.01}


def test_arrivals_on_a_ramp_follow_the_integral_of_the_rate() -> None:
    sched = ArrivalScheduler.from_profile(_profile((2.0, 100.0), model="open"))
    times = _times(sched)
    assert len(times) == 100  # the area under 0 -> 100 req/s over 2 s
    # by t = 1 s the rate has reached 50/s and 25 arrivals are due (integral t^2 * 25)
    assert sum(1 for t in times if t < 1.0) == 25
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(g2 < g1 for g1, g2 in itertools.pairwise(gaps))  # speeding up


def test_arrivals_over_stages_including_ramp_down_sum_exactly() -> None:
    sched = ArrivalScheduler.from_profile(
        _profile((1.0, 200.0), (2.0, 200.0), (1.0, 0.0), model="open")
    )
    assert len(_times(sched)) == 100 + 400 + 100


def test_arrivals_split_over_workers_add_up_to_the_single_schedule() -> None:
    p = _profile((1.0, 300.0), (1.0, 300.0), model="open")
    single = _times(ArrivalScheduler.from_profile(p))
    merged = sorted(
        t for w in range(3) for t in _times(ArrivalScheduler.from_profile(p, 1 / 3, (w + 0.5) / 3))
    )
    assert len(merged) == len(single) == 450
    assert merged == pytest.approx(single, abs=1e-9)


def test_set_rate_switches_to_a_constant_rate_until_the_end() -> None:
    sched = ArrivalScheduler.from_profile(_profile((4.0, 10.0), start=10.0, model="open"))
    released = []
    while sched.due is not None and sched.due <= 1.0:
        released.append(sched.due)
        sched.advance()
    assert len(released) == 10
    sched.set_rate(1.0, 100.0)
    rest = _times(sched)
    assert rest[0] > 1.0
    assert len(rest) == 300  # 3 s at 100/s
    assert rest[0] - 1.0 <= 0.01 + 1e-9


def test_zero_rate_schedules_nothing() -> None:
    assert _times(ArrivalScheduler.from_profile(_profile((5.0, 0.0), model="open"))) == []


def test_think_time_stays_in_bounds() -> None:
    rng = random.Random(1)
    values = [think_time(rng, (0.1, 0.3)) for _ in range(1000)]
    assert min(values) >= 0.1
    assert max(values) <= 0.3
    assert think_time(rng, (0.0, 0.0)) == 0.0
    assert think_time(rng, (0.2, 0.2)) == 0.2


def _req(name: str, weight: float) -> PreparedRequest:
    return PreparedRequest(
        name=name,
        method="GET",
        url="http://127.0.0.1/",
        scheme="http",
        host="127.0.0.1",
        port=80,
        target="/",
        headers=(),
        weight=weight,
    )


def test_weighted_picker_follows_the_weights() -> None:
    reqs = [_req("a", 1.0), _req("b", 3.0), _req("c", 0.0), _req("d", 6.0)]
    picker = RequestPicker(reqs, "weighted", random.Random(42))
    counts = Counter(picker.next_index() for _ in range(100_000))
    assert counts[2] == 0
    assert counts[0] / 100_000 == pytest.approx(0.1, abs=0.01)
    assert counts[1] / 100_000 == pytest.approx(0.3, abs=0.01)
    assert counts[3] / 100_000 == pytest.approx(0.6, abs=0.01)
    assert len(picker.iteration()) == 1


def test_sequence_picker_runs_the_flow_in_order() -> None:
    reqs = [_req("a", 1.0), _req("b", 1.0), _req("c", 1.0)]
    picker = RequestPicker(reqs, "sequence", random.Random(0))
    assert list(picker.iteration()) == [0, 1, 2]
    assert [picker.next_index() for _ in range(7)] == [0, 1, 2, 0, 1, 2, 0]


def test_weighted_picker_rejects_all_zero_weights() -> None:
    with pytest.raises(ValueError, match="weight"):
        RequestPicker([_req("a", 0.0)], "weighted", random.Random(0))
