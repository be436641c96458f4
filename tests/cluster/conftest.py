"""A two-node Ray cluster on this machine for this package's tests, and a counting HTTP server.

The cluster (``ray.cluster_utils.Cluster``: a head and one more node, one CPU each) keeps its
control traffic on 127.0.0.1, has no dashboard and a small object store. Tests need the
``cluster`` extra: without Ray they are skipped, except in CI, where that is a failure.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from typing import Any

import psutil
import pytest

from deli_tui.demo_server import DemoApp
from engine.plan.cluster_address import ray_installed
from tests.servers.asgi import RunningServer, uvicorn_server

OBJECT_STORE_BYTES = 80 * 1024 * 1024
LEFTOVER_WAIT_S = 20.0


def ray_processes() -> set[int]:
    """Pids of Ray's processes on this machine (its daemons, agents and workers)."""
    found = set()
    for process in psutil.process_iter(["cmdline", "status"]):
        try:
            if process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            cmdline = process.info["cmdline"] or []
        except psutil.Error:
            continue
        text = " ".join(cmdline)
        if text.startswith("ray::") or "site-packages/ray/" in text:
            found.add(process.pid)
    return found


def wait_for_no_new_ray_processes(before: set[int], timeout: float = LEFTOVER_WAIT_S) -> set[int]:
    """Ray processes that appeared since ``before`` and are still alive after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        left = ray_processes() - before
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


@pytest.fixture(scope="package")
def ray_cluster() -> Iterator[str]:
    """The address (127.0.0.1:PORT) of a two-node Ray cluster, started once for the tests of
    this package and gone after them (other tests count the test process's children)."""
    if not ray_installed():
        if os.environ.get("CI"):
            pytest.fail("CI must install the cluster extra: pip install -e '.[test,cluster]'")
        pytest.skip("Ray is not installed (pip install 'deli-tui[cluster]')")
    from engine.run.cluster import import_ray

    import_ray(loopback=True)
    from ray.cluster_utils import Cluster

    before = ray_processes()
    node: dict[str, Any] = {
        "num_cpus": 1,
        "include_dashboard": False,
        "object_store_memory": OBJECT_STORE_BYTES,
        "node_ip_address": "127.0.0.1",
    }
    cluster = Cluster(initialize_head=True, head_node_args=node)
    try:
        cluster.add_node(**{k: v for k, v in node.items() if k != "include_dashboard"})
        cluster.wait_for_nodes()
        yield cluster.address
    finally:
        cluster.shutdown()
    left = wait_for_no_new_ray_processes(before)
    assert not left, f"Ray processes outlived the test cluster: {sorted(left)}"


class CountingApp:
    """The demo app, counting the HTTP requests it answers."""

    def __init__(self) -> None:
        self.app = DemoApp()
        self.count = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.count += 1
        await self.app(scope, receive, send)


@pytest.fixture
def counting_server() -> Iterator[tuple[RunningServer, CountingApp]]:
    app = CountingApp()
    with uvicorn_server(app) as server:
        yield server, app


def settle(seconds: float = 0.3) -> None:
    """Let the server's loop finish answering what is in flight."""
    asyncio.run(asyncio.sleep(seconds))
