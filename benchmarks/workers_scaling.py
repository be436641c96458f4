"""Worker scaling: deli-tui ``--workers 1`` against ``--workers 2``, same nginx (2 workers).

Two cases, each run with 1 then 2 workers against the same nginx:

- HTTP/1.1, 100 connections: nginx costs about as much CPU per request as the engine, so on
  a 2-core machine a second engine worker can only take CPU from nginx. wrk -t1 against
  wrk -t2 shows what a second generator thread can buy here at all.
- HTTP/2 over TLS, 100 streams: the engine spends several times more CPU per request than
  nginx (pure-Python h2/hpack), so nginx is not the bottleneck and a second worker (a second
  connection) should raise req/s.

The table shows the CPU (in cores) used by the engine's processes and by nginx in each run.

    python benchmarks/workers_scaling.py [--duration 10] [--connections 100] [--nginx-workers 2]
"""

from __future__ import annotations

import argparse
import os

from engine_runs import run_headless, stop_on_sigterm
from figure_table import print_table, ratio, verdict
from local_nginx import LocalNginx, ensure_tools
from reference_tools import run_wrk


def _engine_runs(
    nginx: LocalNginx, args: argparse.Namespace, http2: bool, rows: list[list[object]]
) -> tuple[dict[int, float], list[str]]:
    url = nginx.https_url if http2 else nginx.http_url
    label = "h2 TLS" if http2 else "HTTP/1.1"
    rps: dict[int, float] = {}
    commands = []
    for workers in (1, 2):
        cpu0 = nginx.cpu_seconds()
        engine = run_headless(
            url,
            users=args.connections,
            duration_s=args.duration,
            workers=workers,
            http2=http2,
            ca_file=nginx.ca_file if http2 else None,
        )
        nginx_cores = (nginx.cpu_seconds() - cpu0) / engine.wall_s
        rps[workers] = engine.rps
        commands.append(engine.command)
        rows.append(
            [
                f"{label}: deli-tui --workers {workers}",
                engine.rps,
                engine.cores(),
                nginx_cores,
                f"{100 * engine.starved():.0f}%",
            ]
        )
        print(f"{label}, {workers} worker(s): deli-tui {engine.rps:,.0f} req/s", flush=True)
    return rps, commands


def measure(args: argparse.Namespace) -> None:
    ensure_tools("nginx", "wrk")
    rows: list[list[object]] = []
    wrk_rps: dict[int, float] = {}
    with LocalNginx(workers=args.nginx_workers, tls=True) as nginx:
        url = nginx.http_url
        run_wrk(url, args.connections, 1.0, latency=False)
        for threads in (1, 2):
            cpu0 = nginx.cpu_seconds()
            wrk = run_wrk(url, args.connections, args.duration, threads=threads, latency=False)
            rows.append(
                [
                    f"HTTP/1.1: wrk -t{threads}",
                    wrk.rps,
                    float("nan"),
                    (nginx.cpu_seconds() - cpu0) / args.duration,
                    "-",
                ]
            )
            wrk_rps[threads] = wrk.rps
        h1, commands = _engine_runs(nginx, args, False, rows)
        h2, more = _engine_runs(nginx, args, True, rows)
        commands += more
    print_table(
        f"Worker scaling (nginx {args.nginx_workers} workers, {args.connections} users, "
        f"{os.cpu_count()} cores, {args.duration:g} s each)",
        ["run", "req/s", "engine cores", "nginx cores", "worker waited for CPU"],
        rows,
    )
    h1_gain, h2_gain = ratio(h1[2], h1[1]), ratio(h2[2], h2[1])
    print_table(
        "Scaling: req/s with 2 workers / with 1",
        ["case", "deli-tui", "wrk -t2/-t1", "target", "verdict"],
        [
            ["HTTP/1.1 (server competes for the cores)", h1_gain, ratio(wrk_rps[2], wrk_rps[1]),
             "> 1", verdict(h1_gain > 1.0)],
            ["h2 over TLS (engine-bound, server not)", h2_gain, float("nan"), "> 1",
             verdict(h2_gain > 1.0)],
        ],
    )  # fmt: skip
    print("commands (h2 runs with DELI_CA_BUNDLE=ca.pem):\n  " + "\n  ".join(commands))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--nginx-workers", type=int, default=2)
    stop_on_sigterm()
    measure(parser.parse_args())


if __name__ == "__main__":
    main()
