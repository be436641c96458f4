"""The shared half of a worker's load loop: timing, classification, windows, commands, stop.

``LoadRun`` runs in any event loop. A subclass drives one load model (``ClosedLoad`` in
``engine.load.closed_model``, ``OpenLoad`` in ``engine.load.open_model``); this class owns
what both need: the per-result step (classify, then record), the window clock aligned to
``start_at``, the command inbox, and the graceful stop. Times are ``time.perf_counter_ns()``:
on Linux it reads CLOCK_MONOTONIC, the clock of ``time.monotonic()``, so the supervisor's
``start_at`` converts to ns and windows align across workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from typing import Protocol

from engine.load.checks import compile_checks, needs_body
from engine.load.shapes import RequestPicker, target_at
from engine.metrics.recorder import Complete, WindowRecorder
from engine.metrics.window import WindowData
from engine.plan.model import RunPlan
from engine.results import ERR_TIMEOUT, Result, error_result
from engine.run.protocol import Adjust, Stop
from engine.run.worker_protocol import share_of
from engine.transport.base import Client

TICK_S = 0.1  # how often slow loops (user count, graceful wait) look again
OnWindow = Callable[[WindowData], None]


class InFlight(Protocol):
    """A sent request whose result has not been recorded yet."""

    def cut_off(self) -> None:
        """Record the request as cut off (``LoadRun.cut_off``); a later result is ignored."""


class LoadRun:
    """One worker's run of a plan; subclasses implement ``drive()`` for their load model."""

    def __init__(
        self,
        plan: RunPlan,
        worker_id: int,
        n_workers: int,
        start_at: float,
        client: Client,
        recorder: WindowRecorder,
        on_window: OnWindow,
        control: asyncio.Queue[object] | None,
    ) -> None:
        self.plan = plan
        self.profile = plan.profile
        self.worker_id = worker_id
        self.n_workers = n_workers
        self.start_at = start_at
        self.start_ns = int(start_at * 1e9)
        self.client = client
        self.recorder = recorder
        self.on_window = on_window
        self.control = control
        self.rng = random.Random()
        self.picker = RequestPicker(plan.requests, plan.flow, self.rng)
        self.want_body = tuple(needs_body(r.checks) for r in plan.requests)
        recorder.start_ns = self.start_ns
        self.judges = [compile_checks(r.checks) for r in plan.requests]
        # the per-result step: classify (transport error, checks, HTTP status), then record
        self.complete: Complete = recorder.completer(self.judges)
        self.stopping = False
        self.graceful = True
        self.reason = ""
        self.failure: BaseException | None = None
        # sent, result not recorded yet: waited for at the end, then cut off
        self.in_flight: set[InFlight] = set()
        self.loop = asyncio.get_running_loop()
        self.send = client.start
        # what a request cancelled before its response is recorded as (a timeout): set by
        # _drain() to say why, so a cut-off send is counted, never lost
        self.cut_off: Result = error_result(ERR_TIMEOUT, "cut off before its response")
        self._wake: asyncio.Future[None] | None = None
        self.setup()

    # --- what a load model provides -----------------------------------------------------------

    def setup(self) -> None:
        """Create the model's own state (called at the end of ``__init__``)."""

    async def drive(self) -> None:
        """Generate load until the profile ends or ``stopping``; set ``reason``."""
        raise NotImplementedError

    def adjust(self, command: Adjust) -> None:
        """Apply a live change (already this worker's share)."""

    async def prepare(self) -> None:
        """Get ready before ``start_at`` (cancelled if not done by then)."""

    def model_gauges(self, t: float, target: float) -> None:
        """Set the model's gauges on the recorder before a window closes."""

    def on_stop(self) -> None:
        """The run is stopping: drop what has not started yet."""

    def before_drain(self) -> None:
        """The load is over (stages ended or stopped): nothing new may start."""

    # --- shared -------------------------------------------------------------------------------

    def elapsed(self) -> float:
        return (time.perf_counter_ns() - self.start_ns) / 1e9

    def share(self, total: float, integral: bool) -> float:
        return share_of(total, self.worker_id, self.n_workers, integral)

    def stop(self, graceful: bool, reason: str = "stopped") -> None:
        """End the run: no new requests; in-flight ones finish if ``graceful``."""
        if not self.stopping:
            self.stopping = True
            self.reason = self.reason or reason
        self.graceful = self.graceful and graceful
        self.on_stop()
        self.poke()

    def landed(self, sent: InFlight) -> bool:
        """A result for ``sent`` came: False if the end of the run already cut it off (and
        recorded it). The last one landing while stopping wakes the drain."""
        in_flight = self.in_flight
        try:
            in_flight.remove(sent)
        except KeyError:
            return False
        if self.stopping and not in_flight:
            self.poke()
        return True

    def poke(self) -> None:
        """Wake ``pause()`` early (a command changed what the model should do)."""
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    def fail(self, exc: BaseException) -> None:
        if self.failure is None:
            self.failure = exc
        self.stop(graceful=False, reason="failed")

    async def pause(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or less if the run is stopped or adjusted."""
        if self.stopping or delay <= 0:
            return
        await self.pause_anyway(delay)

    async def pause_anyway(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or less if ``poke()`` is called (also while stopping)."""
        loop = self.loop
        wake = self._wake = loop.create_future()
        handle = loop.call_later(delay, _resolve, wake)
        try:
            await wake
        finally:
            handle.cancel()
            self._wake = None

    async def run(self) -> tuple[WindowData | None, str]:
        """Run to the end; returns (final partial window, reason)."""
        delay = self.start_at - time.monotonic()
        if delay > 0:
            # what the model prepares (connections) may use the wait, never delay the start
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.prepare(), delay)
            delay = self.start_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        windows = asyncio.create_task(self._windows())
        inbox = asyncio.create_task(self._inbox()) if self.control is not None else None
        try:
            await self.drive()
            await self._drain()
        finally:
            windows.cancel()
            if inbox is not None:
                inbox.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await windows
        self._update_gauges()
        end = max(self.elapsed(), 0.0)
        seq = int(end // self.plan.window_s)
        final = self.recorder.flush(seq, seq * self.plan.window_s, end)
        if self.failure is not None:
            # what was measured up to the failure still counts (cut-off requests included)
            with contextlib.suppress(Exception):
                self.on_window(final)
            raise self.failure
        return final, self.reason or "completed"

    async def _windows(self) -> None:
        """Flush the recorder at every window boundary (aligned to ``start_at``)."""
        w = self.plan.window_s
        seq = 0
        while True:
            end = (seq + 1) * w
            await asyncio.sleep(max(0.0, end - self.elapsed()))
            self._update_gauges()
            try:
                self.on_window(self.recorder.flush(seq, seq * w, end))
            except Exception as exc:
                self.fail(exc)
                return
            seq += 1

    async def _inbox(self) -> None:
        """Apply commands from the supervisor (already this worker's share)."""
        assert self.control is not None
        while True:
            command = await self.control.get()
            if isinstance(command, Stop):
                self.stop(command.graceful)
            elif isinstance(command, Adjust):
                self.adjust(command)
                self.poke()

    def _update_gauges(self) -> None:
        client = self.client
        self.recorder.connections_opened = client.connections_opened
        self.recorder.retried = getattr(client, "retried", 0)  # HTTP/2 only
        t = max(self.elapsed(), 0.0)
        target, index, label = target_at(self.profile, t)
        self.recorder.stage_index = index
        self.recorder.stage_label = label
        self.model_gauges(t, target)

    async def _drain(self) -> None:
        """Let in-flight requests finish (up to graceful_stop_s), then cut off the rest: each is
        recorded as a timeout saying why (``cut_off``), so a sent request is never lost."""
        self.stopping = True
        self.before_drain()
        loop = self.loop
        grace = self.profile.graceful_stop_s
        deadline = loop.time() + grace
        # a finished send may start a queued one: look again until none is in flight
        while self.in_flight and self.graceful:  # a later Stop(graceful=False) cuts it short
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await self.pause_anyway(min(remaining, TICK_S))
        if self.failure is not None:
            why = "cut off: the run failed"
        elif self.graceful:
            why = f"cut off by the end of the run (graceful stop {grace:g} s)"
        else:
            why = "cut off by an immediate stop"
        self.cut_off = error_result(ERR_TIMEOUT, why)
        self.graceful = False  # from here nothing new starts
        for sent in list(self.in_flight):
            sent.cut_off()
        self.in_flight.clear()
        self.on_stop()


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)
