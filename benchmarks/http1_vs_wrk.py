"""HTTP/1.1 throughput: deli-tui (1 worker, 100 users) against ``wrk -t1 -c100``, same nginx.

nginx runs with 1 worker and ``return 200``; wrk and the engine take turns against it, each
for ``--duration`` seconds, ``--rounds`` times; the table shows the medians and the ratio
(target >= 0.7). The engine runs through ``deli-tui run URL --users 100 --json``, checks and
per-request stats on. A second line drives the transport client alone. ``--profile`` records
the worker with py-spy and prints where its time goes.

    python benchmarks/http1_vs_wrk.py [--duration 10] [--rounds 1] [--profile]
"""

from __future__ import annotations

import argparse
import statistics

from engine_runs import add_common_arguments, run_headless, stop_on_sigterm
from figure_table import print_noise_note, print_table, ratio, verdict
from local_nginx import LocalNginx, ensure_tools
from profile_summary import print_summary
from raw_transport import run_raw_transport
from reference_tools import run_wrk

TARGET = 0.7


def measure(args: argparse.Namespace) -> None:
    ensure_tools("nginx", "wrk")
    wrk_rps, engine_rps, raw_rps = [], [], []
    engine_us, nginx_share, wrk_us, all_us, user_us, wrk_user_us = [], [], [], [], [], []
    last_engine = None
    gen_cpus = {0} if args.pin else None
    with LocalNginx(workers=1) as nginx:
        nginx.pin({1} if args.pin else None)
        url = nginx.http_url
        run_wrk(url, args.connections, 1.0, latency=False)  # warm nginx up
        for round_no in range(args.rounds):
            wrk = run_wrk(url, args.connections, args.duration, latency=False, cpus=gen_cpus)
            wrk_rps.append(wrk.rps)
            wrk_us.append(wrk.us_per_request)
            wrk_user_us.append(wrk.user_us_per_request)
            cpu0 = nginx.cpu_seconds()
            engine = run_headless(
                url,
                users=args.connections,
                duration_s=args.duration,
                workers=1,
                cpus=gen_cpus,
                profile=args.profile if round_no == args.rounds - 1 else False,
            )
            nginx_share.append((nginx.cpu_seconds() - cpu0) / engine.wall_s)
            engine_rps.append(engine.rps)
            engine_us.append(engine.us_per_request("worker"))
            all_us.append(engine.us_per_request(""))
            user_us.append(engine.us_per_request("worker", user_only=True))
            last_engine = engine
            if not args.no_raw:
                raw = run_raw_transport(url, args.connections, args.duration, cpus=gen_cpus)
                raw_rps.append(raw["rps"])
            print(
                f"round {round_no + 1}: wrk {wrk.rps:,.0f} req/s, deli-tui {engine.rps:,.0f} "
                f"req/s ({engine.errors} errors)"
                + (f", transport alone {raw_rps[-1]:,.0f} req/s" if raw_rps else ""),
                flush=True,
            )
    w, e = statistics.median(wrk_rps), statistics.median(engine_rps)
    rows: list[list[object]] = [
        [
            "req/s, 100 conns, 1 worker",
            e,
            w,
            ratio(e, w),
            f">= {TARGET}",
            verdict(ratio(e, w) >= TARGET),
        ],
    ]
    wu, eu, au = (statistics.median(x) for x in (wrk_us, engine_us, all_us))
    rows.append(["CPU us per request, worker", eu, wu, ratio(eu, wu), "-", "-"])
    uu, wuu = statistics.median(user_us), statistics.median(wrk_user_us)
    rows.append(["  of which user space (worker)", uu, wuu, ratio(uu, wuu), "-", "-"])
    rows.append(["CPU us per request, all engine processes", au, wu, ratio(au, wu), "-", "-"])
    if raw_rps:
        r = statistics.median(raw_rps)
        rows.append(["req/s, transport client alone", r, w, ratio(r, w), "-", "-"])
    print_table(
        f"HTTP/1.1 vs wrk (nginx 1 worker, {args.connections} connections, "
        f"{args.duration:g} s x {args.rounds})",
        ["metric", "deli-tui", "wrk -t1", "ratio", "target", "verdict"],
        rows,
    )
    assert last_engine is not None
    roles = ", ".join(f"{k} {last_engine.cores(k):.2f}" for k in ("cli", "supervisor", "worker"))
    print(f"engine CPU in the last run, cores: {roles}")
    print(f"worker runnable but waiting for a CPU: {100 * last_engine.starved():.0f}% of the run")
    print(f"nginx CPU while the engine ran: {100 * statistics.median(nginx_share):.0f}% of a core")
    print_noise_note(last_engine.starved())
    print(f"command: {last_engine.command}")
    print(f"reference: wrk -t1 -c{args.connections} -d{args.duration:g}s {url}")
    for pid, path in last_engine.profiles.items():
        print_summary(path, title=f"worker {pid} (py-spy, {path})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=1, help="alternate runs; medians shown")
    parser.add_argument("--connections", type=int, default=100)
    add_common_arguments(parser, profiling=True)
    stop_on_sigterm()
    measure(parser.parse_args())


if __name__ == "__main__":
    main()
