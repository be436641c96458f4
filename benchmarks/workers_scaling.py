"""Worker scaling: deli-tui ``--workers 1`` against ``--workers 2``, same nginx (2 workers).

On a 2-core machine the server competes with the load generator for the same cores, so the
table also shows how much CPU nginx and the engine used in each run, and wrk -t1 against
wrk -t2 as the reference for what a second generator thread can buy here at all.

    python benchmarks/workers_scaling.py [--duration 10] [--connections 100] [--nginx-workers 2]
"""

from __future__ import annotations

import argparse
import os

from engine_runs import run_headless, stop_on_sigterm
from figure_table import print_table, ratio, verdict
from local_nginx import LocalNginx, ensure_tools
from reference_tools import run_wrk


def measure(args: argparse.Namespace) -> None:
    ensure_tools("nginx", "wrk")
    rows: list[list[object]] = []
    engine_rps: dict[int, float] = {}
    wrk_rps: dict[int, float] = {}
    commands = []
    with LocalNginx(workers=args.nginx_workers) as nginx:
        url = nginx.http_url
        run_wrk(url, args.connections, 1.0, latency=False)
        for workers in (1, 2):
            cpu0 = nginx.cpu_seconds()
            wrk = run_wrk(url, args.connections, args.duration, threads=workers, latency=False)
            wrk_nginx = (nginx.cpu_seconds() - cpu0) / args.duration
            wrk_rps[workers] = wrk.rps
            cpu0 = nginx.cpu_seconds()
            engine = run_headless(
                url, users=args.connections, duration_s=args.duration, workers=workers
            )
            nginx_cores = (nginx.cpu_seconds() - cpu0) / engine.wall_s
            engine_cores = engine.cores()
            engine_rps[workers] = engine.rps
            commands.append(engine.command)
            rows.append([f"deli-tui --workers {workers}", engine.rps, engine_cores, nginx_cores])
            rows.append([f"wrk -t{workers}", wrk.rps, float("nan"), wrk_nginx])
            print(
                f"workers {workers}: deli-tui {engine.rps:,.0f} req/s, wrk {wrk.rps:,.0f} req/s",
                flush=True,
            )
    print_table(
        f"Worker scaling (nginx {args.nginx_workers} workers, {args.connections} connections, "
        f"{os.cpu_count()} cores, {args.duration:g} s each)",
        ["run", "req/s", "engine cores", "nginx cores"],
        rows,
    )
    gain = ratio(engine_rps[2], engine_rps[1])
    wrk_gain = ratio(wrk_rps[2], wrk_rps[1])
    print_table(
        "Scaling",
        ["metric", "deli-tui", "wrk", "target", "verdict"],
        [["req/s with 2 / with 1", gain, wrk_gain, "> 1", verdict(gain > 1.0)]],
    )
    print("commands:\n  " + "\n  ".join(commands))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--nginx-workers", type=int, default=2)
    stop_on_sigterm()
    measure(parser.parse_args())


if __name__ == "__main__":
    main()
