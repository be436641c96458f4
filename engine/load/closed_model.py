"""The closed model: virtual users that each loop over the flow, following the stages' target.

The user count is this worker's share of the target, re-read every ``TICK_S``; a retired user
finishes its current request and leaves. With ``iterations`` a user ends after that many and is
not replaced, and the run ends when every user of the peak target is done.

A user is a small state machine driven by its request's ``on_done`` callback, not a task: the
response handler records the result and queues the user's next send, so a request costs no
task wake-up, coroutine step or future (~1.5 us a request on this machine). Latency ends at
the transport's ``end_ns``, stamped as the response's last byte was read.

Next sends go out together once the loop has handled every response of the current poll (one
``call_soon`` per batch, as wrk writes on the next writable event): sending from inside each
response handler put a write syscall (~4 us on loopback) between one response's arrival and
the parsing of the next, and that wait showed up as latency at 10 connections (p99 2.3x wrk).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence

from engine.load.loadrun import TICK_S, LoadRun
from engine.load.shapes import peak_target, target_at, think_time
from engine.results import Result
from engine.run.protocol import Adjust

_clock = time.perf_counter_ns


class _User:
    """One virtual user: send, record the response, send the next (or think, or leave)."""

    __slots__ = (
        "index",
        "iteration",
        "iterations_done",
        "on_done",
        "pos",
        "run",
        "stop",
        "t0",
        "think",
    )

    def __init__(self, run: ClosedLoad) -> None:
        self.run = run
        self.stop = False  # retired or finished: sends nothing more
        # request indexes of the current iteration
        self.iteration: Sequence[int] = run.picker.iteration()
        self.pos = 0  # next position in it
        self.iterations_done = 0
        self.index = 0  # the request in flight
        self.t0 = 0
        self.think: asyncio.TimerHandle | None = None  # the timer while thinking
        self.on_done = self.response  # bound once, not per request

    def after_think(self) -> None:
        self.think = None
        self.run.queue(self)

    def response(self, result: Result, end_ns: int) -> None:
        """``on_done`` of the request in flight: record it, then carry on."""
        run = self.run
        in_flight = run.in_flight
        try:
            in_flight.remove(self)  # LoadRun.landed(), inlined (hot path)
        except KeyError:
            return  # the end of the run cut it off, and recorded it then
        try:
            latency = end_ns - self.t0
            run.complete(self.index, result, latency, latency, -1, end_ns)
            if self.stop or run.stopping:
                self.leave()
                if run.stopping and not in_flight:
                    run.poke()  # the last one: the drain can end
                return
            if self.pos >= len(self.iteration):
                self.iterations_done += 1
                if run.iterations and self.iterations_done >= run.iterations:
                    self.stop = True  # finished, not retired: no longer counts as running
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

    def retire(self) -> None:
        """A thinking (or not yet started) user leaves now; one inside a request after it."""
        self.stop = True
        if self not in self.run.in_flight:
            if self.think is not None:
                self.think.cancel()
                self.think = None
            self.leave()

    def cut_off(self) -> None:
        """The end of the run came before the response: recorded as a timeout saying why."""
        run = self.run
        t1 = _clock()
        run.complete(self.index, run.cut_off, t1 - self.t0, t1 - self.t0, -1, t1)
        self.stop = True
        self.leave()

    def leave(self) -> None:
        with contextlib.suppress(ValueError):
            self.run.users.remove(self)


class ClosedLoad(LoadRun):
    """Virtual users on callbacks; latency equals service time (no intended send time)."""

    users: list[_User]
    adjusted_users: int | None
    users_done: int

    def setup(self) -> None:
        self.users = []
        self.adjusted_users = None
        self.users_done = 0
        self.iterations = self.profile.iterations or 0
        self.think_bounds = self.profile.think_time_s
        self.thinks = self.think_bounds[1] > 0
        self.ready: list[_User] = []  # users whose next send goes out after this poll

    def new_user(self) -> _User | None:
        """A user to start (None: none can start now)."""
        return _User(self)

    def queue(self, user: _User) -> None:
        """Send ``user``'s next request with the others of this poll, once it is handled."""
        ready = self.ready
        if not ready:
            self.loop.call_soon(self.send_ready)
        ready.append(user)

    def send_ready(self) -> None:
        """Send the next request of every queued user (a new iteration when one is done).

        The one place a closed-model request is sent from."""
        # (a method on the user per send cost ~70 ns a request more)
        ready, self.ready = self.ready, []
        send = self.send
        want_body = self.want_body
        in_flight = self.in_flight
        weighted = self.picker.weighted
        try:
            for user in ready:
                if user.stop or self.stopping:
                    user.leave()
                    continue
                pos = user.pos
                iteration = user.iteration
                if pos >= len(iteration):
                    if weighted:  # a sequence flow repeats its iteration: nothing to pick
                        iteration = user.iteration = self.picker.iteration()
                    pos = 0
                index = user.index = iteration[pos]
                user.pos = pos + 1
                in_flight.add(user)
                user.t0 = _clock()
                send(index, want_body[index], user.on_done)
        except Exception as exc:  # a bug: the run fails, it does not hang
            self.fail(exc)

    async def drive(self) -> None:
        """Follow the user target every TICK_S until the stages end or the users are done."""
        iterations = self.profile.iterations
        peak = int(self.share(peak_target(self.profile), integral=True))
        while not self.stopping:
            t = self.elapsed()
            target, index, _ = target_at(self.profile, t)
            if index >= len(self.profile.stages):
                self.reason = "completed"
                return
            want = self._wanted(target)
            self._set_users(want - self.users_done if iterations else want)
            limit = self.adjusted_users if self.adjusted_users is not None else peak
            if iterations and self.users_done >= limit and not self.users:
                self.reason = "iterations done"
                return
            await self.pause(min(TICK_S, self.profile.duration_s - t))

    def _wanted(self, target: float) -> int:
        if self.adjusted_users is not None:
            return self.adjusted_users
        return int(self.share(target, integral=True))

    def adjust(self, command: Adjust) -> None:
        if command.users is not None:
            self.adjusted_users = max(0, int(command.users))

    def model_gauges(self, t: float, target: float) -> None:
        r = self.recorder
        r.active_users = sum(1 for u in self.users if not u.stop)
        r.in_flight = len(self.in_flight)
        r.target_users = float(self._wanted(target))

    def before_drain(self) -> None:
        for user in list(self.users):
            user.retire()

    def _set_users(self, want: int) -> None:
        """Start or retire users so ``want`` are running."""
        running = [u for u in self.users if not u.stop]
        for _ in range(want - len(running)):
            user = self.new_user()
            if user is None:
                break
            self.users.append(user)
            self.queue(user)
        for user in running[max(want, 0) :][::-1]:
            user.retire()
