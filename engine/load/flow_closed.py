"""The closed model running a flow: each virtual user logs in (its setup) once, then loops over
the flow's requests with its own variables, data row and cookie jar.

Sends go out from ``send_ready`` as in ``ClosedLoad``, filled from the user's values
(``Client.start_with``); a static scenario never comes here. A response is judged and its
values extracted before it is recorded, so a value that is not found is recorded as an
``extract`` error on that request, and the user's iteration ends there.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from engine.load.closed_model import ClosedLoad, _User
from engine.load.flow import CompiledFlow, UserState, passed
from engine.load.shapes import think_time
from engine.results import Result

_clock = time.perf_counter_ns


class _FlowUser(_User):
    """A virtual user of a flow: ``_User``'s life cycle, with its own state."""

    __slots__ = ("state",)

    def __init__(self, run: ClosedFlowLoad, row: int | None) -> None:
        self.run = run
        self.stop = False
        self.state = UserState(run.flow, row)
        self.iteration: Sequence[int] = ()
        self.pos = 0
        self.iterations_done = 0
        self.index = 0
        self.t0 = 0
        self.think = None
        self.on_done = self.response

    def response(self, result: Result, end_ns: int) -> None:
        """``on_done`` of the request in flight: judge, extract, record, then carry on."""
        run: ClosedFlowLoad = self.run  # type: ignore[assignment]
        in_flight = run.in_flight
        try:
            in_flight.remove(self)
        except KeyError:
            return  # the end of the run cut it off, and recorded it then
        try:
            state = self.state
            result, going_on = run.flow.outcome(state, self.index, result)
            latency = end_ns - self.t0
            run.complete(self.index, result, latency, latency, -1, end_ns)
            if going_on and not state.setup_done and self.pos == len(run.flow.setup):
                state.setup_done = True
            if not going_on:
                self.pos = len(self.iteration)  # the iteration ends here
            if self.stop or run.stopping:
                self.leave()
                if run.stopping and not in_flight:
                    run.poke()
                return
            if self.pos >= len(self.iteration):
                self.iterations_done += 1
                if run.iterations and self.iterations_done >= run.iterations:
                    self.stop = True
                    run.users_done += 1
                    self.leave()
                    run.poke()
                    return
            if run.thinks:
                self.think = run.loop.call_later(
                    think_time(run.rng, run.think_bounds), self.after_think
                )
            else:
                ready = run.ready  # run.queue(self), inlined (hot path)
                if not ready:
                    run.loop.call_soon(run.send_ready)
                ready.append(self)
        except Exception as exc:  # a bug in recording: the run fails, it does not hang
            run.fail(exc)

    def leave(self) -> None:
        run: ClosedFlowLoad = self.run  # type: ignore[assignment]
        if self in run.users:
            run.users.remove(self)
            row = self.state.row
            if row is not None and run.flow.rows is not None:
                run.flow.rows.give(row)


class ClosedFlowLoad(ClosedLoad):
    """``ClosedLoad`` whose users follow the plan's flow."""

    flow: CompiledFlow

    def setup(self) -> None:
        super().setup()
        self.flow = CompiledFlow(self.plan, self.judges, self.rng, self.worker_id, self.n_workers)
        # judged by the flow before recording (see CompiledFlow.outcome)
        self.complete = self.recorder.completer([passed] * len(self.plan.requests))
        self.start_with = self.client.start_with

    def new_user(self) -> _User | None:
        rows = self.flow.rows
        row = rows.take() if rows is not None else None
        if rows is not None and row is None:
            return None  # unique rows: every row is in use
        return _FlowUser(self, row)

    def send_ready(self) -> None:
        """Send the next request of every queued user (its next iteration when one ended)."""
        ready, self.ready = self.ready, []
        flow = self.flow
        start_with = self.start_with
        want_body = flow.want_body
        in_flight = self.in_flight
        try:
            for user in ready:
                if user.stop or self.stopping:
                    user.leave()
                    continue
                state: UserState = user.state  # type: ignore[attr-defined]
                pos = user.pos
                if pos >= len(user.iteration):
                    user.iteration = flow.iteration(state)
                    pos = 0
                index = user.index = user.iteration[pos]
                user.pos = pos + 1
                headers = flow.before_send(state, index)
                in_flight.add(user)
                user.t0 = _clock()
                start_with(index, state.values, want_body[index], headers, user.on_done)
        except Exception as exc:  # a bug: the run fails, it does not hang
            self.fail(exc)
