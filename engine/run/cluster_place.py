"""Where a cluster run's workers go: one CPU each, spread over the nodes in turn.

Pure: it reads the node list Ray gives (``ray.nodes()``: ``NodeID``, ``Alive``,
``NodeManagerAddress``, ``Resources``) and returns, per worker, the node to pin its actor to
and how the dashboard names that node.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.plan.cluster_address import INSTALL_HINT


class PlacementError(Exception):
    """The cluster cannot take this many workers; the message says what it has."""


def place_workers(nodes: Sequence[Mapping[str, Any]], n_workers: int) -> list[tuple[str, str]]:
    """(node id, node label) for each worker, round-robin over the nodes with a free CPU."""
    alive = [node for node in nodes if node.get("Alive") and _cpus(node) >= 1]
    capacity = {node["NodeID"]: _cpus(node) for node in alive}
    total = sum(capacity.values())
    if total < n_workers:
        raise PlacementError(
            f"the cluster has {total} CPU(s) on {len(alive)} node(s) for {n_workers} workers, "
            f"one CPU each: ask for --workers {max(total, 1)}, or add nodes "
            f"(ray start --address HEAD:6379 on each, with {INSTALL_HINT})"
        )
    labels = _labels(alive)
    placed: list[tuple[str, str]] = []
    used = dict.fromkeys(capacity, 0)
    while len(placed) < n_workers:
        for node in alive:
            node_id = node["NodeID"]
            if used[node_id] < capacity[node_id] and len(placed) < n_workers:
                used[node_id] += 1
                placed.append((node_id, labels[node_id]))
    return placed


def _cpus(node: Mapping[str, Any]) -> int:
    return int(node.get("Resources", {}).get("CPU", 0))


def _labels(nodes: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The node's address, with the start of its id when several nodes share one address."""
    addresses = [str(node.get("NodeManagerAddress", "?")) for node in nodes]
    labels = {}
    for node, address in zip(nodes, addresses, strict=True):
        shared = addresses.count(address) > 1
        labels[node["NodeID"]] = f"{address}/{node['NodeID'][:6]}" if shared else address
    return labels
