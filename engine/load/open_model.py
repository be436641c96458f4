"""The open model: sends released at intended times from an arrival schedule, whatever the
server does, with latency measured from the intended time (coordinated omission corrected).

A send that finds this worker's in-flight cap reached waits in a FIFO backlog and starts when
a slot frees, its latency still counted from the intended time (as wrk2 does); it is counted
as skipped, never silently dropped, if it cannot start within its request's timeout, if the
backlog is full, or if the run stops first.
"""

from __future__ import annotations

import math
import time
from collections import deque

from engine.load.loadrun import LoadRun
from engine.load.shapes import ArrivalScheduler
from engine.results import Result
from engine.run.protocol import Adjust

_clock = time.perf_counter_ns

BACKLOG_MAX = 100_000  # most sends waiting for a free in-flight slot
# Shortest sleep between batches of due sends. libuv timers tick in whole ms and round a
# shorter delay to 0, which made the scheduler wake on every loop turn to send one or two
# requests; sleeping >= 1 ms sends ~20 per wake at 20,000 req/s and cut the worker's CPU per
# request from ~31 to ~19 us. Lag stays ~1 ms plus loop latency, and is recorded per send.
BATCH_S = 0.001
WARM_S = 0.005  # connections opened before the start: the first second's rate x this


class OpenLoad(LoadRun):
    """Arrival-rate load: wake, send everything due, sleep until the next due time."""

    scheduler: ArrivalScheduler
    backlog: deque[int]
    max_in_flight: int

    def setup(self) -> None:
        n = self.n_workers
        self.scheduler = ArrivalScheduler.from_profile(
            self.profile, 1.0 / n, (self.worker_id + 0.5) / n
        )
        self.backlog = deque()
        self.max_in_flight = max(1, int(self.share(self.profile.max_in_flight, integral=True)))
        self.timeout_ns = tuple(int(r.timeout_s * 1e9) for r in self.plan.requests)
        self._next_index = self.picker.next_index

    async def prepare(self) -> None:
        """Open connections for the first sends before the start, as wrk2 does: enough for
        the first second's rate at 5 ms a response, within the in-flight cap. Without it the
        first 0.6 s of a 20,000 req/s run opened hundreds of connections one send at a time
        and the scheduler ran up to 110 ms late."""
        warm = getattr(self.client, "warm", None)
        if warm is None:
            return
        first_second = self.scheduler.integral_at(1.0) - self.scheduler.integral_at(0.0)
        await warm(min(self.max_in_flight, max(1, math.ceil(first_second * WARM_S))))

    async def drive(self) -> None:
        """Release sends in batches at their intended times until the schedule ends."""
        sched = self.scheduler
        start_ns = self.start_ns
        clock = time.perf_counter_ns
        release = self._release
        while not self.stopping:
            now = (clock() - start_ns) / 1e9
            due = sched.due
            while due is not None and due <= now:
                release(start_ns + int(due * 1e9))
                due = sched.advance()
            if due is None:
                if now >= sched.end_s:
                    self.reason = "completed"
                    return
                await self.pause(sched.end_s - now)  # rate 0 until the end, or adjusted
            else:
                await self.pause(max(due - now, BATCH_S))

    def adjust(self, command: Adjust) -> None:
        if command.rate is not None:
            self.scheduler.set_rate(self.elapsed(), command.rate)

    def model_gauges(self, t: float, target: float) -> None:
        r = self.recorder
        if t < self.scheduler.end_s:
            dt = 0.01  # the scheduled rate now, also after an Adjust
            r.target_rate = (
                self.scheduler.integral_at(t + dt) - self.scheduler.integral_at(t)
            ) / dt
        r.in_flight = len(self.in_flight)

    def on_stop(self) -> None:
        if self.backlog:  # queued sends that will never start now
            self.recorder.skipped += len(self.backlog)
            self.backlog.clear()

    def _release(self, intended_ns: int) -> None:
        """Start a send now, or queue it when the in-flight cap is reached, or skip it."""
        if len(self.in_flight) < self.max_in_flight:
            self._start(intended_ns)
        elif len(self.backlog) < BACKLOG_MAX:
            self.backlog.append(intended_ns)
        else:
            self.recorder.skipped += 1

    def _start(self, intended_ns: int) -> bool:
        """Send the next request now, unless it is later than its timeout (then: skipped).

        Callback-driven, no task or future per send: the transport calls the send's
        ``done`` with the result and the time the response ended.
        """
        index = self._next_index()
        t0 = _clock()
        if t0 - intended_ns > self.timeout_ns[index]:
            self.recorder.skipped += 1
            return False
        sent = _Send(self, index, intended_ns, t0)
        self.in_flight.add(sent)
        self.send(index, self.want_body[index], sent.done)
        return True

    def finished(self, sent: _Send, result: Result, end_ns: int) -> None:
        """Record a result (latency from the intended time, service time from the actual
        send, lag = actual - intended), then start queued sends into the freed slot."""
        if not self.landed(sent):
            return
        intended_ns = sent.intended_ns
        t0 = sent.t0
        try:
            self.complete(
                sent.index, result, end_ns - intended_ns, end_ns - t0, t0 - intended_ns, end_ns
            )
            backlog = self.backlog
            while backlog and self.graceful and not self._start(backlog.popleft()):
                pass
        except Exception as exc:  # a bug in recording: the run fails, it does not hang
            self.fail(exc)


class _Send:
    """One open-model send in flight."""

    __slots__ = ("index", "intended_ns", "run", "t0")

    def __init__(self, run: OpenLoad, index: int, intended_ns: int, t0: int) -> None:
        self.run = run
        self.index = index
        self.intended_ns = intended_ns
        self.t0 = t0

    def done(self, result: Result, end_ns: int) -> None:
        self.run.finished(self, result, end_ns)

    def cut_off(self) -> None:
        """The end of the run came before the response: sent, so counted (a timeout)."""
        run = self.run
        t1 = _clock()
        i, t0 = self.intended_ns, self.t0
        run.complete(self.index, run.cut_off, t1 - i, t1 - t0, t0 - i, t1)
