"""Engine workers as Ray actors (``--cluster ADDRESS``): the supervisor's side of a cluster run.

The only module that imports Ray (the optional extra ``deli-tui[cluster]``). ``ClusterSession``
connects the supervisor process to Ray (``local``: starts a private Ray on 127.0.0.1) and
stays connected until the supervisor goes. ``ClusterRun`` gives the supervisor one
``WorkerSlot`` per worker, like a local run's, and a bridge thread does the Ray side:

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
bridge reports about them is redacted with the plan's secret values.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import Pipe
from multiprocessing.connection import Connection, wait
from typing import Any

from engine.plan.cluster_address import INSTALL_HINT, is_loopback
from engine.plan.model import RunPlan
from engine.redact import redact_text
from engine.run.cluster_actor import WorkerActor
from engine.run.cluster_place import place_workers
from engine.run.protocol import PROTOCOL_VERSION, Stop
from engine.run.runstate import WorkerSlot
from engine.run.worker_protocol import WorkerDone, WorkerFailed, WorkerLost, WorkerReady

ACTOR_START_TIMEOUT_S = 60.0  # actors not placed and answering by then: the run cannot start
START_LEAD_S = 0.5  # from sending the start to every actor to the shared start
POLL_S = 0.25  # a long-poll's longest wait; an actor answers at once when a message is queued
TICK_S = 0.02  # the bridge looks at commands from the supervisor this often
CLOCK_ROUNDS = 5
LOCAL_OBJECT_STORE = 256 * 1024 * 1024
# Ray turns a loopback address into the host's own IP unless it runs "without clusters": read
# when Ray is imported (ray._private.ray_constants, Ray 2.60), so set before the first import.
_LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


class ClusterUnavailable(Exception):
    """The run cannot use the cluster; the message says why and what to do."""


def import_ray(loopback: bool) -> Any:
    """Ray, imported now (``loopback``: a cluster on this machine, control traffic on 127.0.0.1)."""
    if loopback and "ray" not in sys.modules:
        os.environ.setdefault(_LOOPBACK_ENV, "0")
    try:
        import ray
    except ImportError as exc:
        raise ClusterUnavailable(f"running on a cluster needs Ray: {INSTALL_HINT}") from exc
    return ray


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


class _Stopped(Exception):
    """A Stop came while the actors were being placed."""


class ClusterSession:
    """This supervisor process's connection to Ray, made by the first cluster run.

    ``ray.init`` and ``ray.shutdown`` run on one thread that lives as long as the session:
    Ray started from a thread that has ended leaves its node agents behind at shutdown
    (measured with Ray 2.60: ``ray::DashboardAgent`` and ``ray::RuntimeEnvAgent`` orphaned).
    """

    def __init__(self) -> None:
        self._connector = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ray-session")
        self._address: str | None = None
        self._local_cpus = 0
        self._runs: list[ClusterRun] = []
        self.ray: Any = None

    def launch(self, plan: RunPlan, n_workers: int) -> list[WorkerSlot]:
        """Slots for a run of ``plan`` on its cluster; the bridge thread places the actors."""
        assert plan.cluster is not None
        if self.ray is None:
            self.ray = import_ray(is_loopback(plan.cluster))
        for old in [r for r in self._runs if not r.thread.is_alive()]:
            old.release()
            self._runs.remove(old)
        run = ClusterRun(self, plan, n_workers)
        self._runs.append(run)
        run.thread.start()
        return run.slots

    def connect(self, address: str, n_workers: int) -> None:
        """Connect (once; again when the address changes or a private Ray is too small)."""
        self._connector.submit(self._connect, address, n_workers).result()

    def _connect(self, address: str, n_workers: int) -> None:
        ray = self.ray
        big_enough = address != "local" or self._local_cpus >= n_workers
        if ray.is_initialized() and self._address == address and big_enough:
            return
        if ray.is_initialized():
            ray.shutdown()
        options: dict[str, Any] = {
            "log_to_driver": False,
            "logging_level": logging.ERROR,
            "namespace": "deli-tui",
        }
        if address == "local":
            self._local_cpus = max(n_workers, os.cpu_count() or 1)
            options.update(
                address="local",
                num_cpus=self._local_cpus,
                include_dashboard=False,
                object_store_memory=LOCAL_OBJECT_STORE,
                _node_ip_address="127.0.0.1",
            )
        else:
            options["address"] = address
            if is_loopback(address):
                options["_node_ip_address"] = "127.0.0.1"
        ray.init(**options)
        self._address = address

    def close(self, timeout: float) -> None:
        """Stop every run's actors and disconnect (a private Ray is shut down with it)."""
        deadline = time.monotonic() + timeout
        for run in self._runs:
            run.abort()
        for run in self._runs:
            run.thread.join(max(0.0, deadline - time.monotonic()))
            run.release()
        self._runs.clear()
        if self.ray is not None:
            ray = self.ray
            with contextlib.suppress(Exception):
                self._connector.submit(ray.shutdown).result(max(1.0, deadline - time.monotonic()))
        self._connector.shutdown(wait=False)


class ClusterRun:
    """One run's actors, slots and bridge thread."""

    def __init__(self, session: ClusterSession, plan: RunPlan, n_workers: int) -> None:
        self.session = session
        self.ray = session.ray
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
        self.session.connect(self.plan.cluster, self.n)
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
                raise ClusterUnavailable(
                    f"worker {link.worker_id} speaks engine protocol {version}, this machine "
                    f"{PROTOCOL_VERSION}: install the same deli-tui version on every node"
                )
        offsets = self._clock_offsets()
        start_at = time.monotonic() + START_LEAD_S + 0.002 * self.n
        for link, (_, node), offset in zip(self.links, placement, offsets, strict=True):
            self._send(link, WorkerReady(link.worker_id, node, offset, start_at))
        self._wait_all(
            [
                link.process.actor.start.remote(self.plan, link.worker_id, self.n, start_at + off)
                for link, off in zip(self.links, offsets, strict=True)
            ]
        )

    def _wait_all(self, refs: list[Any]) -> list[Any]:
        """Every result, waiting at most ACTOR_START_TIMEOUT_S; a Stop meanwhile aborts."""
        ray = self.ray
        deadline = time.monotonic() + ACTOR_START_TIMEOUT_S
        pending = list(refs)
        while pending:
            self._check_stop()
            if time.monotonic() > deadline:
                raise ClusterUnavailable(
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
