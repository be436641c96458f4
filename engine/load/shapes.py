"""Load shapes as pure functions: stage targets, open-model arrival times, think time, flow.

Sans-I/O: nothing here sleeps, sends or reads a clock. The worker asks "what is the target
at elapsed t", "when is the next send due" and "which request next", and does the I/O.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

from engine.plan.model import Flow, LoadProfile, PreparedRequest


def target_at(profile: LoadProfile, t: float) -> tuple[float, int, str]:
    """(target, stage index, stage label) at elapsed ``t`` seconds.

    The target moves linearly from the previous stage's target (``start_target`` for the
    first) to the stage's own. After the last stage: the last target and index ==
    ``len(stages)`` (the run is over).
    """
    previous = profile.start_target
    elapsed = 0.0
    for i, stage in enumerate(profile.stages):
        end = elapsed + stage.duration_s
        if t < end:
            frac = (t - elapsed) / stage.duration_s if t > elapsed else 0.0
            return previous + (stage.target - previous) * frac, i, stage.label
        previous = stage.target
        elapsed = end
    label = profile.stages[-1].label if profile.stages else ""
    return previous, len(profile.stages), label


def peak_target(profile: LoadProfile) -> float:
    """The highest target the profile ever asks for."""
    return max([profile.start_target, *(s.target for s in profile.stages)])


class _Segment:
    """A stretch of linearly changing rate from ``t0`` to ``t1`` (``r0`` -> ``r1`` per s);
    ``n0`` is the cumulative arrival integral at ``t0``."""

    __slots__ = ("n0", "n1", "r0", "slope", "t0", "t1")

    def __init__(self, t0: float, t1: float, r0: float, r1: float, n0: float) -> None:
        self.t0 = t0
        self.t1 = t1
        self.r0 = r0
        self.slope = (r1 - r0) / (t1 - t0) if t1 > t0 else 0.0
        self.n0 = n0
        self.n1 = n0 + (r0 + r1) * 0.5 * (t1 - t0)

    def time_of(self, n: float) -> float:
        """The time at which the cumulative integral reaches ``n`` (n0 <= n <= n1)."""
        dn = n - self.n0
        if dn <= 0.0:
            return self.t0
        a = self.slope
        if a == 0.0:
            return self.t0 + dn / self.r0
        # solve r0*x + a/2*x^2 = dn for x >= 0; the form below avoids cancellation
        disc = self.r0 * self.r0 + 2.0 * a * dn
        return self.t0 + 2.0 * dn / (self.r0 + math.sqrt(max(disc, 0.0)))


class ArrivalScheduler:
    """Intended send times of the open model for a piecewise linear rate.

    The k-th send (k = 0, 1, ...) is due when the integral of the rate reaches ``k + phase``,
    so a ramp's count is exact (0 -> 100 req/s over 2 s gives exactly 100 sends) and each
    time is computed directly, with no drift from adding intervals. With N workers each
    taking ``rate / N`` and ``phase = (worker_id + 0.5) / N``, the union of their sends is
    exactly the single-worker schedule. ``due`` is the next send's time (elapsed seconds,
    None when the schedule is over); ``advance()`` moves past it. O(1) per arrival.
    """

    __slots__ = ("_k", "_phase", "_seg", "_segments", "due", "end_s")

    def __init__(
        self, points: Sequence[tuple[float, float, float]], phase: float = 0.5, start_t: float = 0.0
    ) -> None:
        """``points``: (duration_s, from_rate, to_rate) pieces laid end to end from ``start_t``."""
        self._phase = phase
        self._segments: list[_Segment] = []
        t = start_t
        n = 0.0
        for duration, r0, r1 in points:
            if duration <= 0:
                continue
            seg = _Segment(t, t + duration, max(r0, 0.0), max(r1, 0.0), n)
            self._segments.append(seg)
            t, n = seg.t1, seg.n1
        self.end_s = t
        self._seg = 0
        self._k = 0
        self.due: float | None = self._time_of_k()

    @classmethod
    def from_profile(
        cls, profile: LoadProfile, scale: float = 1.0, phase: float = 0.5
    ) -> ArrivalScheduler:
        """The schedule of an open-model profile, its rates multiplied by ``scale``."""
        points = []
        previous = profile.start_target
        for stage in profile.stages:
            points.append((stage.duration_s, previous * scale, stage.target * scale))
            previous = stage.target
        return cls(points, phase)

    def _time_of_k(self) -> float | None:
        n = self._k + self._phase
        segments = self._segments
        i = self._seg
        while i < len(segments):
            seg = segments[i]
            if n < seg.n1:
                return seg.time_of(n)
            i += 1
            self._seg = i
        return None

    def advance(self) -> float | None:
        """Move past the current send; returns the new ``due``."""
        self._k += 1
        self.due = due = self._time_of_k()
        return due

    def integral_at(self, t: float) -> float:
        """Cumulative arrivals (the rate's integral) at elapsed ``t``."""
        for seg in self._segments:
            if t < seg.t1:
                if t <= seg.t0:
                    return seg.n0
                x = t - seg.t0
                return seg.n0 + seg.r0 * x + 0.5 * seg.slope * x * x
        return self._segments[-1].n1 if self._segments else 0.0

    def set_rate(self, t: float, rate: float) -> None:
        """From ``t`` on, a constant ``rate`` until the schedule's end (an Adjust command).

        The pending send keeps its remaining distance (at most one arrival) from ``t``, so
        changing the rate never bursts or stalls.
        """
        remaining = self._k + self._phase - self.integral_at(t)
        rate = max(rate, 0.0)
        self._segments = [_Segment(t, max(self.end_s, t), rate, rate, 0.0)]
        self._seg = 0
        self._k = 0
        self._phase = min(max(remaining, 0.0), 1.0)
        self.due = self._time_of_k()


def think_time(rng: random.Random, bounds: tuple[float, float]) -> float:
    """A think time in seconds, uniform in [lo, hi] (0 when hi is 0)."""
    lo, hi = bounds
    if hi <= 0:
        return 0.0
    if hi <= lo:
        return lo
    return rng.uniform(lo, hi)


class RequestPicker:
    """Which request comes next: the flow in order ("sequence") or weighted random.

    ``iteration()`` is one closed-model iteration (the whole flow, or one weighted pick);
    ``next_index()`` is the next send of the open model (round-robin, or weighted).
    """

    __slots__ = ("_cumulative", "_i", "_n", "_order", "_random", "_total", "weighted")

    def __init__(self, requests: Sequence[PreparedRequest], flow: Flow, rng: random.Random) -> None:
        if not requests:
            raise ValueError("a run plan needs at least one request")
        self.weighted = flow == "weighted"
        self._n = len(requests)
        self._order = tuple(range(self._n))
        self._cumulative = list(accumulate(max(r.weight, 0.0) for r in requests))
        self._total = self._cumulative[-1]
        if self.weighted and self._total <= 0:
            raise ValueError("weighted flow: every request has weight 0")
        self._random = rng.random
        self._i = 0

    def pick(self) -> int:
        """A weighted random request index: O(log n) by bisection of cumulative weights."""
        i = bisect_right(self._cumulative, self._random() * self._total)
        return i if i < self._n else self._n - 1

    def iteration(self) -> Sequence[int]:
        """The request indexes of one iteration."""
        if self.weighted:
            return (self.pick(),)
        return self._order

    def next_index(self) -> int:
        """The next request of a stream of single sends."""
        if self.weighted:
            return self.pick()
        i = self._i
        self._i = i + 1 if i + 1 < self._n else 0
        return i
