"""The closed model: virtual users that each loop over the flow, following the stages' target.

The user count is this worker's share of the target, re-read every ``TICK_S``; a retired user
finishes its current request and leaves. With ``iterations`` a user ends after that many and is
not replaced, and the run ends when every user of the peak target is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from functools import partial

from engine.loadmodel import peak_target, target_at, think_time
from engine.loadrun import TICK_S, LoadRun
from engine.protocol import Adjust


class _User:
    """One virtual user."""

    __slots__ = ("busy", "stop", "task")

    def __init__(self) -> None:
        self.busy = False  # inside a request (not thinking)
        self.stop = False
        self.task: asyncio.Task[None] | None = None


class ClosedLoad(LoadRun):
    """Virtual users as coroutines; latency equals service time (no intended send time)."""

    users: list[_User]
    adjusted_users: int | None
    users_done: int

    def setup(self) -> None:
        self.users = []
        self.adjusted_users = None
        self.users_done = 0

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
        r.in_flight = sum(1 for u in self.users if u.busy)
        r.target_users = float(self._wanted(target))

    def before_drain(self) -> None:
        for user in self.users:
            self._retire(user)

    def _retire(self, user: _User) -> None:
        """A thinking user leaves now; one inside a request leaves after it."""
        user.stop = True
        if not user.busy and user.task is not None:
            user.task.cancel()

    def _set_users(self, want: int) -> None:
        """Start or retire users so ``want`` are running."""
        running = [u for u in self.users if not u.stop]
        for _ in range(want - len(running)):
            user = _User()
            self.users.append(user)
            task = user.task = self.spawn(self._user(user))
            task.add_done_callback(partial(self._user_gone, user))
        for user in running[max(want, 0) :][::-1]:
            self._retire(user)

    def _user_gone(self, user: _User, _task: object) -> None:
        with contextlib.suppress(ValueError):
            self.users.remove(user)

    async def _user(self, user: _User) -> None:
        """One virtual user: iterations of the flow, think time after each request."""
        request = self.client.request
        want_body = self.want_body
        complete = self.complete
        picker = self.picker
        rng = self.rng
        bounds = self.profile.think_time_s
        thinks = bounds[1] > 0
        iterations = self.profile.iterations or 0
        clock = time.perf_counter_ns
        done = 0
        while not user.stop:
            for index in picker.iteration():
                user.busy = True
                t0 = clock()
                try:
                    result = await request(index, want_body[index])
                except asyncio.CancelledError:  # cut off by the end of the run: still counted
                    t1 = clock()
                    complete(index, self.cut_off, t1 - t0, t1 - t0, -1, t1)
                    raise
                finally:
                    user.busy = False
                t1 = clock()
                complete(index, result, t1 - t0, t1 - t0, -1, t1)
                if user.stop:
                    return
                if thinks:
                    await asyncio.sleep(think_time(rng, bounds))
            done += 1
            if iterations and done >= iterations:
                user.stop = True  # finished, not retired: it no longer counts as running
                self.users_done += 1
                self.poke()
                return
