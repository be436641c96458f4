"""Memory of 100,000 retained results: the engine's ``ResultRing`` against ``__slots__`` objects.

Measured with tracemalloc (bytes allocated and still held after filling), with realistic values
(rising timestamps, latencies of a few ms, so the reference's ints are real objects, not the
small-int cache). Target: <= 5 MB per 100,000 results. The ring is filled through its real
``append``; a second ring run keeps 1% error messages (bounded by ``max_messages``).

    python benchmarks/results_memory.py [--results 100000]
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from figure_table import print_table, ratio, verdict

from engine.metrics.ring import ResultRing, bytes_per_result

TARGET_MB = 5.0


class SlotsResult:
    """The reference: one object per result, as a straightforward engine would keep them."""

    __slots__ = (
        "bytes_in",
        "bytes_out",
        "elapsed_s",
        "error",
        "latency_us",
        "message",
        "request",
        "service_us",
        "status",
    )  # fmt: skip

    def __init__(
        self, elapsed_s: float, request: int, status: int, error: int, latency_us: int,
        service_us: int, bytes_in: int, bytes_out: int, message: str,
    ) -> None:  # fmt: skip
        self.elapsed_s = elapsed_s
        self.request = request
        self.status = status
        self.error = error
        self.latency_us = latency_us
        self.service_us = service_us
        self.bytes_in = bytes_in
        self.bytes_out = bytes_out
        self.message = message


def _rows(n: int, error_every: int) -> list[tuple]:
    rnd = random.Random(7)
    rows = []
    for i in range(n):
        failed = error_every and i % error_every == 0
        latency = rnd.randint(300, 20_000)
        rows.append((
            i / 20_000.0, i % 3, 0 if failed else 200, 4 if failed else 0,
            latency + rnd.randint(0, 200), latency, 0 if failed else rnd.randint(150, 2000),
            80 + i % 7, f"read error: connection reset by peer (request {i})" if failed else "",
        ))  # fmt: skip
    return rows


def held_bytes(build: Callable[[], object]) -> tuple[int, object]:
    """Bytes allocated by ``build()`` and still held while its result lives."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = build()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return after - before, kept


def measure(args: argparse.Namespace) -> None:
    n = args.results
    rows: list[list[object]] = []
    for label, error_every in (("all 200s", 0), ("1% errors with messages", 100)):
        data = _rows(n, error_every)

        def fill_ring(data: list[tuple] = data) -> ResultRing:
            ring = ResultRing(n)
            append = ring.append
            for row in data:
                append(*row)
            return ring

        def fill_objects(data: list[tuple] = data) -> list[SlotsResult]:
            # fresh int/float/str objects per result, as a live run makes them
            return [
                SlotsResult(*(v + 0 if not isinstance(v, str) else v[:] + "" for v in row))
                for row in data
            ]

        ring_bytes, _ring = held_bytes(fill_ring)
        del _ring
        obj_bytes, _objs = held_bytes(fill_objects)
        del _objs
        ring_mb, obj_mb = ring_bytes / 1e6 * 100_000 / n, obj_bytes / 1e6 * 100_000 / n
        rows.append(
            [
                f"MB per 100k results, ResultRing ({label})",
                ring_mb,
                obj_mb,
                ratio(ring_mb, obj_mb),
                f"<= {TARGET_MB:g} MB",
                verdict(ring_mb <= TARGET_MB),
            ]
        )
        rows.append(
            [
                f"bytes per result ({label})",
                ring_bytes / n,
                obj_bytes / n,
                ratio(ring_bytes, obj_bytes),
                "-",
                "-",
            ]
        )
    print_table(
        f"Retained results memory ({n:,} results, tracemalloc)",
        ["metric", "ResultRing", "__slots__ list", "ratio", "target", "verdict"],
        rows,
    )
    print(f"ResultRing column bytes per result (structural): {bytes_per_result()}")
    print("command: python benchmarks/results_memory.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=100_000)
    measure(parser.parse_args())


if __name__ == "__main__":
    main()
