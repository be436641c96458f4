"""The engine's transport client alone, without worker, metrics or process: a secondary line.

Drives ``make_client(plan, max_connections=C)`` from C senders on uvloop for D seconds and
prints ``{"rps", "requests", "errors", "cpu_s"}`` as JSON. It shows what the transport costs
by itself, so the gap to the full engine (the main figure) is the worker's and metrics' share.
Run alone: ``python benchmarks/raw_transport.py URL [--connections 100] [--duration 10] [--http2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.plan.model import LoadProfile, PreparedRequest, RunPlan, Stage
from engine.transport import make_client

try:
    from engine.run.worker import GC_THRESHOLDS
except ImportError:
    GC_THRESHOLDS = (100_000, 50, 50)


def plan_for(url: str, connections: int, http2: bool) -> RunPlan:
    """A one-request GET plan for ``url``."""
    parts = urlsplit(url)
    scheme = "https" if parts.scheme == "https" else "http"
    port = parts.port or (443 if scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request = PreparedRequest(
        name="GET /", method="GET", url=url, scheme=scheme, host=parts.hostname or "127.0.0.1",
        port=port, target=target, headers=(),
    )  # fmt: skip
    profile = LoadProfile(
        model="closed", stages=(Stage(10.0, connections),), start_target=connections
    )
    return RunPlan("bench", "raw", url, (request,), profile, http2=http2)


async def drive(url: str, connections: int, duration_s: float, http2: bool) -> dict[str, float]:
    """C senders on ``client.start`` sending request 0 back to back until the time is up (the
    next sends of a poll go out together after it, as the engine's closed model does)."""
    plan = plan_for(url, connections, http2)
    client = make_client(plan, max_connections=connections)
    gc.collect()
    gc.freeze()  # the same gc tuning as an engine worker
    gc.set_threshold(*GC_THRESHOLDS)
    loop = asyncio.get_running_loop()
    counts = [0, 0]
    stop_at = time.monotonic() + duration_s
    ready: list[int] = []
    running = [connections]
    all_done = loop.create_future()
    start = client.start

    def on_done(result: tuple, end_ns: int) -> None:
        counts[0] += 1
        if result[1] or result[0] != 200:
            counts[1] += 1
        if not ready:
            loop.call_soon(send_ready)
        ready.append(0)

    def send_ready() -> None:
        batch = len(ready)
        ready.clear()
        if time.monotonic() >= stop_at:
            running[0] -= batch
            if running[0] == 0 and not all_done.done():
                all_done.set_result(None)
            return
        for _ in range(batch):
            start(0, False, on_done)

    cpu0 = time.process_time()
    t0 = time.perf_counter()
    for _ in range(connections):
        start(0, False, on_done)
    await all_done
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    await client.aclose()
    return {"rps": counts[0] / elapsed, "requests": counts[0], "errors": counts[1], "cpu_s": cpu}


def run_raw_transport(
    url: str,
    connections: int,
    duration_s: float,
    http2: bool = False,
    ca_file: Path | None = None,
    cpus: set[int] | None = None,
) -> dict[str, float]:
    """Run this module in a fresh process (its own uvloop) and return its figures."""
    env = dict(os.environ)
    if ca_file is not None:
        env["DELI_CA_BUNDLE"] = str(ca_file)
    cmd = [sys.executable, __file__, url, "--connections", str(connections),
           "--duration", f"{duration_s:g}"] + (["--http2"] if http2 else [])  # fmt: skip
    out = subprocess.run(
        cmd,
        check=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=duration_s + 60,
        preexec_fn=None if cpus is None else (lambda: os.sched_setaffinity(0, cpus)),
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--http2", action="store_true")
    parser.add_argument("--asyncio", action="store_true", help="the stock loop, not uvloop")
    args = parser.parse_args()
    runner = asyncio.run
    if not args.asyncio:
        try:
            import uvloop

            runner = uvloop.run
        except ImportError:
            pass
    print(json.dumps(runner(drive(args.url, args.connections, args.duration, args.http2))))


if __name__ == "__main__":
    main()
