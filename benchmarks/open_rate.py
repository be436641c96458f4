"""Open model at a fixed arrival rate: achieved rate against the target, and the scheduler's lag.

deli-tui runs ``--rate 20000`` (1 worker by default) against nginx (1 worker) for
``--duration`` seconds. The achieved rate (requests / planned duration, and the report's own
``rps``) should be within 1% of the target; the scheduler's lateness and the skipped sends
(in-flight cap reached) come from the engine's report.

    python benchmarks/open_rate.py [--rate 20000] [--duration 10] [--workers 1]
"""

from __future__ import annotations

import argparse

from engine_runs import run_headless, stop_on_sigterm
from figure_table import print_table, verdict
from local_nginx import LocalNginx, ensure_tools

TOLERANCE = 0.01


def _lag_rows(report: dict) -> list[list[object]]:
    """Rows for whatever scheduler-lag figures the report carries."""
    lag = report.get("scheduler_lag_ms")
    if isinstance(lag, dict):
        return [[f"scheduler lag {k} ms", float(v), "-", "-", "-"] for k, v in lag.items()]
    if lag is not None:
        return [["scheduler lag ms", float(lag), "-", "-", "-"]]
    return [["scheduler lag ms", "not in report", "-", "-", "-"]]


def measure(args: argparse.Namespace) -> None:
    ensure_tools("nginx")
    with LocalNginx(workers=1) as nginx:
        engine = run_headless(
            nginx.http_url, rate=args.rate, duration_s=args.duration, workers=args.workers
        )
    report = engine.report
    by_plan = engine.requests / args.duration
    skipped = int(report.get("skipped", 0))
    rows: list[list[object]] = [
        [
            "achieved req/s (requests / planned s)",
            by_plan,
            args.rate,
            by_plan / args.rate,
            verdict(abs(by_plan / args.rate - 1) <= TOLERANCE),
        ],
        [
            "report rps (requests / measured s)",
            engine.rps,
            args.rate,
            engine.rps / args.rate,
            verdict(abs(engine.rps / args.rate - 1) <= TOLERANCE),
        ],
        [
            "measured duration s",
            float(report.get("duration_s", float("nan"))),
            args.duration,
            "-",
            "-",
        ],
        ["skipped sends", skipped, 0, "-", verdict(skipped == 0)],
        ["errors", engine.errors, 0, "-", verdict(engine.errors == 0)],
        ["latency p50 ms (from intended send)", engine.latency("p50"), "-", "-", "-"],
        ["latency p99 ms (from intended send)", engine.latency("p99"), "-", "-", "-"],
    ]
    service = report.get("service_ms") or report.get("service_time_ms")
    if isinstance(service, dict):
        for key in ("p50", "p99"):
            if key in service:
                rows.append(
                    [
                        f"service time {key} ms (from actual send)",
                        float(service[key]),
                        "-",
                        "-",
                        "-",
                    ]
                )
    rows += _lag_rows(report)
    print_table(
        f"Open model at {args.rate:,.0f} req/s ({args.workers} worker(s), nginx 1 worker, "
        f"{args.duration:g} s), target within {TOLERANCE:.0%}",
        ["metric", "deli-tui", "target", "ratio", "verdict"],
        rows,
    )
    cores = sum(engine.cpu_s.values()) / engine.wall_s
    by_role = ", ".join(f"{k} {v:.1f} s" for k, v in sorted(engine.cpu_s.items()))
    print(f"engine CPU: {cores:.2f} cores ({by_role})")
    print(f"command: {engine.command}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20_000.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=1)
    stop_on_sigterm()
    measure(parser.parse_args())


if __name__ == "__main__":
    main()
