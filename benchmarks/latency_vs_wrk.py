"""Latency overhead at low concurrency: deli-tui's p50/p99 against ``wrk --latency``.

At 1 and 10 connections (closed model, 1 engine worker) against nginx with 1 worker, the
engine's p50 and p99 should stay within 2x of wrk's. Both measure from send to last byte on
a kept-alive connection; the engine records through its full path (checks, histogram, ring).

    python benchmarks/latency_vs_wrk.py [--duration 10] [--connections 1 10]
"""

from __future__ import annotations

import argparse

from engine_runs import add_common_arguments, run_headless, stop_on_sigterm
from figure_table import print_table, ratio, verdict
from local_nginx import LocalNginx, ensure_tools
from reference_tools import run_wrk

TARGET = 2.0


def measure(args: argparse.Namespace) -> None:
    ensure_tools("nginx", "wrk")
    rows: list[list[object]] = []
    commands = []
    gen_cpus = {0} if args.pin else None
    with LocalNginx(workers=1) as nginx:
        nginx.pin({1} if args.pin else None)
        url = nginx.http_url
        run_wrk(url, 10, 1.0, latency=False)  # warm nginx up
        for conns in args.connections:
            wrk = run_wrk(url, conns, args.duration, cpus=gen_cpus)
            engine = run_headless(
                url, users=conns, duration_s=args.duration, workers=1, cpus=gen_cpus
            )
            print(
                f"{conns} conn: wrk {wrk.rps:,.0f} req/s p50 {wrk.latency_ms['p50']:.3f} ms "
                f"p99 {wrk.latency_ms['p99']:.3f} ms; deli-tui {engine.rps:,.0f} req/s "
                f"p50 {engine.latency('p50'):.3f} ms p99 {engine.latency('p99'):.3f} ms "
                f"(worker waited for a CPU {100 * engine.starved():.0f}% of the run)",
                flush=True,
            )
            for key in ("p50", "p99"):
                ours, ref = engine.latency(key), wrk.latency_ms[key]
                r = ratio(ours, ref)
                rows.append(
                    [
                        f"{key} ms, {conns} conn",
                        ours,
                        ref,
                        r,
                        f"<= {TARGET:g}x",
                        verdict(r <= TARGET),
                    ]
                )
            rows.append(
                [f"req/s, {conns} conn", engine.rps, wrk.rps, ratio(engine.rps, wrk.rps), "-", "-"]
            )
            commands.append(engine.command)
            commands.append(f"wrk -t1 -c{conns} -d{args.duration:g}s --latency {url}")
    print_table(
        f"Latency vs wrk --latency (nginx 1 worker, {args.duration:g} s each)",
        ["metric", "deli-tui", "wrk", "ratio", "target", "verdict"],
        rows,
    )
    print("commands:\n  " + "\n  ".join(commands))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 10])
    add_common_arguments(parser)
    stop_on_sigterm()
    measure(parser.parse_args())


if __name__ == "__main__":
    main()
