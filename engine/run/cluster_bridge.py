"""A cluster run's Ray side: one actor per worker, and the bridge thread that relays them.

``ClusterRun`` gives the supervisor one ``WorkerSlot`` per worker, like a local run's, and its
bridge thread does the rest:

- places one ``WorkerActor`` per worker, spread over the nodes' CPUs (one CPU each);
- estimates each actor's clock offset (the fastest of a few round trips, halved), picks a
  shared start a little in the future and starts each worker at that moment on its own clock,
  so every worker's windows line up on the supervisor's timeline;
- relays: one long-poll per actor always in flight, each answer carrying every message the
  worker queued meanwhile (already pickled; written as they are into the slot's pipe), so no
  round trip per window piles up; commands from the slot's pipe go to the actor;
- reports an actor or node that dies as ``WorkerLost``: the run goes on with the others.

The slot's ``process`` is an ``ActorProcess``: its sentinel becomes readable when the actor
has ended, ``kill`` kills the actor. Secrets reach the actors only inside the plan; what the
bridge reports about them is redacted with the plan's secret values. Ray comes in as an
object from ``engine.run.cluster``; nothing here imports it.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from multiprocessing import Pipe
from multiprocessing.connection import Connection, wait
from typing import Any

from engine.plan.model import RunPlan
from engine.redact import redact_text
from engine.run.cluster_actor import WorkerActor
from engine.run.cluster_place import place_workers
from engine.run.protocol import PROTOCOL_VERSION, Stop
from engine.run.runstate import WorkerSlot
from engine.run.worker_protocol import (
    WorkerDone,
    WorkerFailed,
    WorkerLog,
    WorkerLost,
    WorkerReady,
)

ACTOR_START_TIMEOUT_S = 60.0  # actors not placed and answering by then: the run cannot start
START_LEAD_S = 0.5  # from sending the start to every actor to the shared start
POLL_S = 1.0  # a long-poll's longest wait; an actor answers at once when a message is queued
TICK_S = 0.05  # the bridge looks at commands from the supervisor this often
CLOCK_ROUNDS = 5


class ActorProcess:
    """A cluster worker as the supervisor's slot sees its process."""

    __slots__ = ("_lock", "_read", "_write", "actor", "cpu", "exitcode", "killed", "ray")

    pid = None

    def __init__(self, ray: Any) -> None:
        self.ray = ray
        self._read, self._write = os.pipe()
        self._lock = threading.Lock()
        self.actor: Any = None
        self.cpu: float | None = None
        self.exitcode: int | None = None
        self.killed = False

    @property
    def sentinel(self) -> int:
        return self._read

    def cpu_seconds(self) -> float | None:
        return self.cpu

    def kill(self) -> None:
        self.killed = True
        self.stop_actor()
        self.end(-9)

    def stop_actor(self) -> None:
        if self.actor is not None:
            with contextlib.suppress(Exception):
                self.ray.kill(self.actor, no_restart=True)

    def end(self, code: int) -> None:
        """The worker is over: the sentinel becomes readable."""
        with self._lock:
            if self.exitcode is None:
                self.exitcode = code
            if self._write >= 0:
                os.close(self._write)
                self._write = -1

    def join(self, timeout: float | None = None) -> None:
        """Nothing to wait for: ``end`` has happened when the sentinel is readable."""

    def release(self) -> None:
        self.end(0)
        with self._lock:
            if self._read >= 0:
                os.close(self._read)
                self._read = -1


class _Link:
    """One worker's bridge end: the pipe to its slot and its actor."""

    __slots__ = ("commands", "conn", "live", "process", "worker_id")

    def __init__(self, worker_id: int, conn: Connection, process: ActorProcess) -> None:
        self.worker_id = worker_id
        self.conn = conn
        self.process = process
        self.live = True
        self.commands: list[object] = []  # received before the actor started


class LaunchError(Exception):
    """The workers could not be placed or started; the message says why."""


class _Stopped(Exception):
    """A Stop came while the actors were being placed."""


class ClusterRun:
    """One run's actors, slots and bridge thread."""

    def __init__(
        self, ray: Any, connect: Callable[[str, int], None], plan: RunPlan, n_workers: int
    ) -> None:
        self.ray = ray
        self.connect = connect
        self.plan = plan
        self.n = n_workers
        self.links: list[_Link] = []
        self.slots: list[WorkerSlot] = []
        self._aborted = threading.Event()
        for worker_id in range(n_workers):
            ours, theirs = Pipe(duplex=True)
            process = ActorProcess(self.ray)
            self.links.append(_Link(worker_id, theirs, process))
            self.slots.append(
                WorkerSlot(
                    worker_id, process, ours, node="?", remote=True, read_cpu=process.cpu_seconds
                )
            )
        self.thread = threading.Thread(target=self._run, name="cluster-bridge", daemon=True)

    def abort(self) -> None:
        """Stop relaying and kill the actors (the supervisor is leaving)."""
        self._aborted.set()
        for link in self.links:
            link.process.kill()

    def release(self) -> None:
        for link in self.links:
            link.process.release()
            with contextlib.suppress(OSError):
                link.conn.close()

    def redacted(self, text: str) -> str:
        return redact_text(text, self.plan.redact_values)

    # --- the bridge thread --------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._launch()
            self._relay()
        except _Stopped:
            for link in self._live():
                self._send(link, WorkerDone(link.worker_id, None, None, "stopped"))
        except Exception as exc:
            where = f"the Ray cluster at {self.plan.cluster}"
            text = self.redacted(f"cannot run on {where}: {_describe(exc)}")
            for link in self._live():
                self._send(link, WorkerFailed(link.worker_id, text))
        finally:
            for link in self.links:
                self._end(link, 0)

    def _live(self) -> list[_Link]:
        return [link for link in self.links if link.live]

    def _launch(self) -> None:
        assert self.plan.cluster is not None
        self.connect(self.plan.cluster, self.n)
        self._check_stop()
        ray = self.ray
        placement = place_workers(ray.nodes(), self.n)
        actor_class = ray.remote(WorkerActor)
        strategy = ray.util.scheduling_strategies.NodeAffinitySchedulingStrategy
        for link, (node_id, _) in zip(self.links, placement, strict=True):
            link.process.actor = actor_class.options(
                num_cpus=1,
                max_concurrency=4,
                max_restarts=0,
                scheduling_strategy=strategy(node_id, soft=False),
            ).remote()
        hellos = self._wait_all([link.process.actor.hello.remote() for link in self.links])
        for link, (version, _host, _pid) in zip(self.links, hellos, strict=True):
            if version != PROTOCOL_VERSION:
                raise LaunchError(
                    f"worker {link.worker_id} speaks engine protocol {version}, this machine "
                    f"{PROTOCOL_VERSION}: install the same deli-tui version on every node"
                )
        offsets = self._clock_offsets()
        start_at = time.monotonic() + START_LEAD_S + 0.002 * self.n
        for link, (_, node), offset in zip(self.links, placement, offsets, strict=True):
            self._send(link, WorkerReady(link.worker_id, node, offset, start_at))
        started = self._wait_all(
            [
                link.process.actor.start.remote(self.plan, link.worker_id, self.n, start_at + off)
                for link, off in zip(self.links, offsets, strict=True)
            ]
        )
        for link, niceness in zip(self.links, started, strict=True):
            if niceness > 0:
                text = (
                    f"worker {link.worker_id} runs at nice {niceness} (Ray's default for its "
                    "workers), below other processes on its node: start the nodes with "
                    "RAY_worker_niceness=0, or let the workers renice (CAP_SYS_NICE)"
                )
                self._send(link, WorkerLog(link.worker_id, "warning", text))

    def _wait_all(self, refs: list[Any]) -> list[Any]:
        """Every result, waiting at most ACTOR_START_TIMEOUT_S; a Stop meanwhile aborts."""
        ray = self.ray
        deadline = time.monotonic() + ACTOR_START_TIMEOUT_S
        pending = list(refs)
        while pending:
            self._check_stop()
            if time.monotonic() > deadline:
                raise LaunchError(
                    f"{len(pending)} of {len(refs)} workers did not start within "
                    f"{ACTOR_START_TIMEOUT_S:.0f} s: are the nodes up, with deli-tui[cluster] "
                    "installed, and a free CPU per worker?"
                )
            _, pending = ray.wait(pending, num_returns=len(pending), timeout=0.1)
        return list(ray.get(refs))

    def _clock_offsets(self) -> list[float]:
        """Each actor's clock minus ours, from the fastest of CLOCK_ROUNDS round trips."""
        ray = self.ray
        best = [(float("inf"), 0.0)] * self.n
        for _ in range(CLOCK_ROUNDS):
            for i, link in enumerate(self.links):
                sent = time.monotonic()
                theirs = ray.get(link.process.actor.clock.remote(), timeout=10.0)
                back = time.monotonic()
                if back - sent < best[i][0]:
                    best[i] = (back - sent, theirs - (sent + back) / 2)
            self._check_stop()
        return [offset for _, offset in best]

    def _check_stop(self) -> None:
        """Take the commands waiting in the slots' pipes: a Stop (or an abort) ends the launch."""
        if self._aborted.is_set():
            raise _Stopped
        for conn in wait([link.conn for link in self._live()], timeout=0):
            link = next(link for link in self.links if link.conn is conn)
            command = self._receive(link)
            if isinstance(command, Stop):
                raise _Stopped
            if command is not None:
                link.commands.append(command)

    def _relay(self) -> None:
        ray = self.ray
        pending: dict[Any, _Link] = {}
        for link in self._live():
            for command in link.commands:
                link.process.actor.command.remote(command)
            pending[link.process.actor.poll.remote(POLL_S)] = link
        while pending and not self._aborted.is_set():
            ready, rest = ray.wait(list(pending), num_returns=1, timeout=TICK_S)
            if ready and rest:
                more, _ = ray.wait(rest, num_returns=len(rest), timeout=0)
                ready += more
            for ref in ready:
                link = pending.pop(ref)
                if self._deliver(link, ref):
                    pending[link.process.actor.poll.remote(POLL_S)] = link
            self._forward_commands()

    def _deliver(self, link: _Link, ref: Any) -> bool:
        """Write one poll's messages into the slot's pipe; False when the worker has ended."""
        try:
            blobs, cpu, ended = self.ray.get(ref)
        except Exception as exc:  # the actor or its node died (RayActorError and kin)
            if link.live and not link.process.killed:
                self._send(link, WorkerLost(link.worker_id, self.redacted(_describe(exc))))
            self._end(link, 1)
            return False
        link.process.cpu = cpu
        for blob in blobs:
            try:
                link.conn.send_bytes(blob)
            except OSError:  # the supervisor has closed the slot
                ended = True
                break
        if ended:
            link.process.stop_actor()  # give its CPU back to the cluster now
            self._end(link, 0)
        return not ended

    def _forward_commands(self) -> None:
        for conn in wait([link.conn for link in self._live()], timeout=0):
            link = next(link for link in self.links if link.conn is conn)
            command = self._receive(link)
            if command is not None and link.process.actor is not None:
                link.process.actor.command.remote(command)

    def _receive(self, link: _Link) -> object | None:
        try:
            return link.conn.recv()
        except (EOFError, OSError):  # the supervisor has closed the slot
            link.process.stop_actor()
            self._end(link, 0)
            return None

    def _send(self, link: _Link, message: object) -> None:
        with contextlib.suppress(OSError, ValueError):
            link.conn.send(message)

    def _end(self, link: _Link, code: int) -> None:
        link.live = False
        link.process.end(code)


def _describe(exc: BaseException) -> str:
    """One line about a Ray error (its first line: Ray's texts run to tracebacks)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
