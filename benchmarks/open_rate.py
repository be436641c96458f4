"""Open model at a fixed arrival rate: achieved rate against the target, and the scheduler's lag.

deli-tui runs ``--rate 20000`` (1 worker by default) against nginx (1 worker) for
``--duration`` seconds. The achieved rate (requests / planned duration, and the report's own
``rps``) should be within 1% of the target; the scheduler's lateness and the skipped sends
(in-flight cap reached) come from the engine's report.

    python benchmarks/open_rate.py [--rate 20000] [--duration 10] [--workers 1]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from pathlib import Path

from engine_runs import add_common_arguments, run_headless, stop_on_sigterm
from figure_table import print_noise_note, print_table, verdict
from local_nginx import LocalNginx, ensure_tools

TOLERANCE = 0.01


def _lag_rows(report: dict) -> list[list[object]]:
    """Rows for whatever scheduler-lag figures the report carries."""
    lag = report.get("scheduler_lag_ms")
    if isinstance(lag, dict):
        keys = [k for k in ("mean", "p50", "p99", "p99_9", "max") if k in lag]
        return [[f"scheduler lag {k} ms", float(lag[k]), "-", "-", "-"] for k in keys]
    if lag is not None:
        return [["scheduler lag ms", float(lag), "-", "-", "-"]]
    return [["scheduler lag ms", "not in report", "-", "-", "-"]]


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def steady_state(csv_path: Path, from_s: float, to_s: float) -> tuple[float, float, float, int]:
    """From the raw results: (completions per second, lag p50 ms, lag p99 ms, rows) for
    results completed between ``from_s`` and ``to_s``; lag = latency - service time."""
    lags: list[float] = []
    first_s = None
    with csv_path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            t_text = row.get("elapsed_s")
            t_s = float(t_text) if t_text is not None else int(row["elapsed_ms"]) / 1000.0
            if first_s is None:
                first_s = t_s
            if from_s <= t_s < to_s:
                lags.append(float(row["latency_ms"]) - float(row["service_ms"]))
    start = max(from_s, first_s or 0.0)  # the ring keeps the newest results only
    span = to_s - start
    rate = len(lags) / span if span > 0 else float("nan")
    return rate, _percentile(lags, 0.5), _percentile(lags, 0.99), len(lags)


def measure(args: argparse.Namespace) -> None:
    ensure_tools("nginx")
    csv_path = Path(tempfile.mkdtemp(prefix="deli-bench-open-")) / "results.csv"
    with LocalNginx(workers=1) as nginx:
        nginx.pin({1} if args.pin else None)
        engine = run_headless(
            nginx.http_url,
            rate=args.rate,
            duration_s=args.duration,
            workers=args.workers,
            keep_csv=csv_path,
            cpus={0} if args.pin else None,
        )
    report = engine.reports.summary
    warm = min(1.0, args.duration / 4)
    steady_rate, lag50, lag99, rows_used = steady_state(csv_path, warm, args.duration - 0.5)
    csv_path.unlink(missing_ok=True)
    csv_path.parent.rmdir()
    by_plan = engine.requests / args.duration
    skipped = int(report.get("skipped", 0))
    rows: list[list[object]] = [
        [
            f"steady req/s (completions {warm:g} s..end-0.5 s)",
            steady_rate,
            args.rate,
            steady_rate / args.rate,
            verdict(abs(steady_rate / args.rate - 1) <= TOLERANCE),
        ],
        ["  steady-state scheduler lag p50 ms", lag50, "-", "-", "-"],
        ["  steady-state scheduler lag p99 ms", lag99, "-", "-", "-"],
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
            "- (includes the drain)",
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
    service = report.get("service_latency_ms")
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
    by_role = ", ".join(f"{k} {engine.cores(k):.2f}" for k in ("cli", "supervisor", "worker"))
    print(f"engine CPU, cores: {by_role}; worker us/request {engine.us_per_request():.1f}")
    print(f"worker runnable but waiting for a CPU: {100 * engine.starved():.0f}% of the run")
    print(f"steady-state figures from {rows_used:,} raw results (CSV export)")
    print_noise_note(engine.starved())
    print(f"command: {engine.command}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20_000.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=1)
    add_common_arguments(parser)
    stop_on_sigterm()
    measure(parser.parse_args())


if __name__ == "__main__":
    main()
