"""Long run: RSS of the engine's processes over a 10-minute headless run at a high rate.

deli-tui runs ``--rate 20000`` (open model; ``--users N`` for a closed one instead) against
nginx for ``--duration`` seconds (default 600). Every ``--every`` seconds the RSS of the CLI,
the supervisor and each worker is sampled with psutil and printed; at the end, first / last /
max per process and in total. Flat means the last sample is within 10% of the first one taken
after warm-up (``--warmup``, default 60 s: the ring buffer and the time series fill in the
first minute); the growth over the second half of the run is shown beside it.

    python benchmarks/soak_rss.py [--duration 600] [--rate 20000] [--every 10]
"""

from __future__ import annotations

import argparse

from engine_runs import ProcessSample, run_headless, stop_on_sigterm
from figure_table import print_table, verdict
from local_nginx import LocalNginx, ensure_tools

FLAT_WITHIN = 0.10
MIB = 1024 * 1024


def _print_sample(sample: ProcessSample) -> None:
    parts = ", ".join(
        f"{role} {rss / MIB:.1f}" for role, (_, rss) in sorted(sample.by_role.items())
    )
    fds = ", ".join(f"{role} {n}" for role, n in sorted(sample.fds.items()) if "worker" in role)
    print(
        f"t={sample.t:6.0f} s  RSS total {sample.rss / MIB:7.1f} MiB  ({parts})  fds: {fds}",
        flush=True,
    )


def measure(args: argparse.Namespace) -> None:
    ensure_tools("nginx")
    load = {"users": args.users} if args.users else {"rate": args.rate}
    print(f"soak: {args.duration:g} s, {load}, sampling every {args.every:g} s", flush=True)
    with LocalNginx(workers=1) as nginx:
        engine = run_headless(
            nginx.http_url,
            duration_s=args.duration,
            workers=args.workers,
            sample_every_s=args.every,
            on_sample=_print_sample,
            **load,
        )
    samples = [s for s in engine.samples if s.t >= args.warmup]
    if not samples:
        raise SystemExit("no samples after warm-up: run longer than --warmup")
    roles = sorted({r for s in samples for r in s.by_role})
    rows: list[list[object]] = []
    for role in [*roles, "total"]:
        series = [
            s.rss if role == "total" else s.by_role[role][1]
            for s in samples
            if role == "total" or role in s.by_role
        ]
        first, last, peak = series[0], series[-1], max(series)
        growth = last / first - 1
        second_half = last / series[len(series) // 2] - 1
        rows.append([role, first / MIB, last / MIB, peak / MIB, f"{growth:+.1%}",
                     f"{second_half:+.1%}", verdict(abs(growth) <= FLAT_WITHIN)])  # fmt: skip
    print_table(
        f"RSS over {engine.wall_s:.0f} s ({engine.requests:,} requests, {engine.rps:,.0f} req/s; "
        f"first sample at >= {args.warmup:g} s)",
        ["process", "first MiB", "last MiB", "max MiB", "last/first", "2nd half", "within 10%"],
        rows,
    )
    print(f"errors {engine.errors}, skipped {engine.reports.summary.get('skipped', 0)}")
    # a stall shows here: the server's (service time) or the engine's own (scheduler lag); in
    # the open model each request in flight holds a connection, so a stall opens more of them
    fds = [n for s in engine.samples for role, n in s.fds.items() if "worker" in role]
    for key in ("service_latency_ms", "scheduler_lag_ms"):
        figures = engine.reports.summary.get(key) or {}
        if figures:
            print(f"{key}: p99 {figures.get('p99')}, max {figures.get('max')}")
    if fds:
        print(f"worker file descriptors: min {min(fds)}, max {max(fds)}, last {fds[-1]}")
    print(f"command: {engine.command}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600.0, help="run length in seconds")
    parser.add_argument("--rate", type=float, default=20_000.0, help="open-model rate")
    parser.add_argument("--users", type=int, default=0, help="closed model instead of --rate")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=60.0, help="first sample compared at")
    stop_on_sigterm()
    args = parser.parse_args()
    args.warmup = min(args.warmup, args.duration / 3)
    measure(args)


if __name__ == "__main__":
    main()
