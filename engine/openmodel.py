"""The open model: sends released at intended times from an arrival schedule, whatever the
server does, with latency measured from the intended time (coordinated omission corrected).

A send that finds this worker's in-flight cap reached waits in a FIFO backlog and starts when
a slot frees, its latency still counted from the intended time (as wrk2 does); it is counted
as skipped, never silently dropped, if it cannot start within its request's timeout, if the
backlog is full, or if the run stops first.
"""

from __future__ import annotations

import time
from collections import deque

from engine.loadmodel import ArrivalScheduler
from engine.loadrun import LoadRun
from engine.protocol import Adjust

BACKLOG_MAX = 100_000  # most sends waiting for a free in-flight slot
# Shortest sleep between batches of due sends. libuv timers tick in whole ms and round a
# shorter delay to 0, which made the scheduler wake on every loop turn to send one or two
# requests; sleeping >= 1 ms sends ~20 per wake at 20,000 req/s and cut the worker's CPU per
# request from ~31 to ~19 us. Lag stays ~1 ms plus loop latency, and is recorded per send.
BATCH_S = 0.001


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
        r.in_flight = len(self.tasks)

    def on_stop(self) -> None:
        if self.backlog:  # queued sends that will never start now
            self.recorder.skipped += len(self.backlog)
            self.backlog.clear()

    def _release(self, intended_ns: int) -> None:
        """Start a send now, or queue it when the in-flight cap is reached, or skip it."""
        if len(self.tasks) < self.max_in_flight:
            self.spawn(self._send(intended_ns))
        elif len(self.backlog) < BACKLOG_MAX:
            self.backlog.append(intended_ns)
        else:
            self.recorder.skipped += 1

    async def _send(self, intended_ns: int) -> None:
        """One in-flight slot: a send, then queued sends while any are still worth starting.

        Latency runs from the intended time, service time from the actual send, and
        lag = actual - intended.
        """
        request = self.client.request
        want_body = self.want_body
        complete = self.complete
        next_index = self.picker.next_index
        timeout_ns = self.timeout_ns
        clock = time.perf_counter_ns
        backlog = self.backlog
        recorder = self.recorder
        while True:
            index = next_index()
            t0 = clock()
            if t0 - intended_ns > timeout_ns[index]:
                recorder.skipped += 1
            else:
                result = await request(index, want_body[index])
                t1 = clock()
                complete(index, result, t1 - intended_ns, t1 - t0, t0 - intended_ns, t1)
            if not backlog:
                return
            intended_ns = backlog.popleft()
