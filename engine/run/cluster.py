"""Engine workers as Ray actors (``--cluster ADDRESS``): the supervisor's connection to Ray.

The only module that imports Ray (the optional extra ``deli-tui[cluster]``), and only when a
run asks for a cluster: ``ClusterSession`` connects the supervisor process (``local``: starts
a private Ray on 127.0.0.1 and stops it with the session), stays connected for the next runs,
and starts each run's ``ClusterRun`` (``engine.run.cluster_bridge``), which gives the
supervisor one ``WorkerSlot`` per worker, like a local run's.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from engine.plan.cluster_address import INSTALL_HINT, is_loopback
from engine.plan.model import RunPlan
from engine.run.cluster_bridge import ClusterRun
from engine.run.runstate import WorkerSlot

LOCAL_OBJECT_STORE = 256 * 1024 * 1024
CONNECT_TIMEOUT_S = 60.0
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
        run = ClusterRun(self.ray, self.connect, plan, n_workers)
        self._runs.append(run)
        run.thread.start()
        return run.slots

    def connect(self, address: str, n_workers: int) -> None:
        """Connect (once; again when the address changes or a private Ray is too small).
        A connection that hangs (seen with Ray Client on a loaded host) fails the run."""
        try:
            self._connector.submit(self._connect, address, n_workers).result(CONNECT_TIMEOUT_S)
        except TimeoutError:
            raise ClusterUnavailable(
                f"no answer from Ray at {address} within {CONNECT_TIMEOUT_S:.0f} s"
            ) from None

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
                _system_config={"worker_niceness": 0},  # see WorkerActor.start
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
