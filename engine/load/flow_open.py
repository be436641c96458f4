"""The open model running a flow: each arrival is a fresh user that runs the flow once (its
setup included), as k6's arrival-rate executors do.

An arrival's first request is due at its scheduled time; each later one is due when the
previous response ended (plus think time), and its latency counts from that intended time,
so a send that waits for the in-flight cap still shows the wait. Sends that cannot start in
their timeout are counted as skipped, and the rest of that arrival's flow is not sent. When
the schedule ends, the arrivals already started finish their flows (within the scenario's
graceful stop), as k6's arrival-rate executors finish their iterations; a stop ends them.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence

from engine.load.flow import CompiledFlow, UserState, passed
from engine.load.loadrun import TICK_S
from engine.load.open_model import BACKLOG_MAX, OpenLoad
from engine.load.shapes import think_time
from engine.results import Result

_clock = time.perf_counter_ns


class _Arrival:
    """One arrival: a user running the flow once, one request in flight at a time."""

    __slots__ = ("index", "intended_ns", "iteration", "pos", "run", "state", "t0")

    def __init__(self, run: OpenFlowLoad, state: UserState, intended_ns: int) -> None:
        self.run = run
        self.state = state
        self.intended_ns = intended_ns
        self.iteration: Sequence[int] = run.flow.iteration(state)
        self.pos = 0
        self.index = 0
        self.t0 = 0

    def done(self, result: Result, end_ns: int) -> None:
        self.run.step_finished(self, result, end_ns)

    def cut_off(self) -> None:
        """The end of the run came before the response: sent, so counted (a timeout)."""
        run = self.run
        t1 = _clock()
        i, t0 = self.intended_ns, self.t0
        run.complete(self.index, run.cut_off, t1 - i, t1 - t0, t0 - i, t1)


class OpenFlowLoad(OpenLoad):
    """``OpenLoad`` whose arrivals each run the plan's flow."""

    flow: CompiledFlow
    backlog: deque[int | _Arrival]  # type: ignore[assignment]

    def setup(self) -> None:
        super().setup()
        self.flow = CompiledFlow(self.plan, self.judges, self.rng, self.worker_id, self.n_workers)
        # judged by the flow before recording (see CompiledFlow.outcome)
        self.complete = self.recorder.completer([passed] * len(self.plan.requests))
        self.start_with = self.client.start_with
        self.think_bounds = self.profile.think_time_s
        self.thinking: set[_Arrival] = set()  # between two steps, waiting for their next

    async def drive(self) -> None:
        """The schedule, then the flows of the arrivals already started, up to the graceful
        stop (a stop command ends them at once)."""
        await super().drive()
        deadline = self.loop.time() + self.profile.graceful_stop_s
        while (self.in_flight or self.thinking or self.backlog) and not self.stopping:
            remaining = deadline - self.loop.time()
            if remaining <= 0:
                break
            await self.pause(min(remaining, TICK_S))

    def _start(self, entry: int | _Arrival) -> bool:  # type: ignore[override]
        """Send an arrival's next request now (a new arrival: its first), unless it is later
        than its timeout (then: skipped, and the arrival's flow ends)."""
        flow = self.flow
        if entry.__class__ is int:
            rows = flow.rows
            row = rows.take() if rows is not None else None
            if rows is not None and row is None:  # unique rows: all used
                self.recorder.skipped += 1
                return False
            arrival = _Arrival(self, UserState(flow, row), entry)  # type: ignore[arg-type]
        else:
            arrival = entry  # type: ignore[assignment]
        index = arrival.iteration[arrival.pos]
        t0 = _clock()
        if t0 - arrival.intended_ns > self.timeout_ns[index]:
            self.recorder.skipped += 1
            return False
        arrival.pos += 1
        arrival.index = index
        arrival.t0 = t0
        state = arrival.state
        headers = flow.before_send(state, index)
        self.in_flight.add(arrival)
        self.start_with(index, state.values, flow.want_body[index], headers, arrival.done)
        return True

    def step_finished(self, arrival: _Arrival, result: Result, end_ns: int) -> None:
        """Record a step (latency from its intended time), then queue the arrival's next
        step and start queued sends into the freed slot."""
        if not self.landed(arrival):
            return
        try:
            state = arrival.state
            result, going_on = self.flow.outcome(state, arrival.index, result)
            intended_ns, t0 = arrival.intended_ns, arrival.t0
            self.complete(
                arrival.index, result, end_ns - intended_ns, end_ns - t0, t0 - intended_ns, end_ns
            )
            if going_on and arrival.pos < len(arrival.iteration) and not self.stopping:
                if self.think_bounds[1] > 0:
                    pause = think_time(self.rng, self.think_bounds)
                    arrival.intended_ns = end_ns + int(pause * 1e9)
                    self.thinking.add(arrival)
                    self.loop.call_later(pause, self._next_step, arrival)
                else:
                    arrival.intended_ns = end_ns
                    self.backlog.append(arrival)
            backlog = self.backlog
            while backlog and self.graceful and not self._start(backlog.popleft()):
                pass
        except Exception as exc:  # a bug in recording: the run fails, it does not hang
            self.fail(exc)

    def _next_step(self, arrival: _Arrival) -> None:
        """After thinking: the arrival's next step starts, or queues for a free slot."""
        self.thinking.discard(arrival)
        if self.stopping:
            return
        try:
            if len(self.in_flight) < self.max_in_flight and not self.backlog:
                self._start(arrival)
            elif len(self.backlog) < BACKLOG_MAX:
                self.backlog.append(arrival)
            else:
                self.recorder.skipped += 1
        except Exception as exc:
            self.fail(exc)
