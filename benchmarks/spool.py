"""The raw-result spool at full speed: 10,000,000 results to disk, worker RSS, and the cost.

nginx (1 worker) answers ``GET /``; a collection runs 100 users x 100,000 iterations (10M
requests, each checked: status 200, body ``ok``) through the headless CLI, once as users run
it (every result spooled to ``.deli/runs/<id>/``) and once with ``--no-spool``, alternating,
in the same invocation. While each run goes, the worker's RSS is sampled and the spool's
size on disk is watched (its peak; the spool is working data, gone when the reports are
written); the spooled run writes ``--csv`` from it, whose rows are set against the run's
request count, and the two runs' req/s against each other.

    python benchmarks/spool.py [--users 100] [--iterations 100000] [--rounds 1]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import tempfile
import threading
from pathlib import Path

from engine_runs import EngineRun, run_headless, stop_on_sigterm
from figure_table import print_noise_note, print_table, ratio, verdict
from local_nginx import LocalNginx, ensure_tools

from engine.metrics.spool import SPOOL_COLUMNS

MIB = 1024 * 1024
_COLUMN_NAMES = {name for name, _ in SPOOL_COLUMNS}
_COLLECTION = """\
name: spool bench
base_url: {base_url}
timeout: 10s
scenarios:
  ten-million:
    users: {users}
    iterations: {iterations}
    duration: 3600s
"""
_REQUEST = "name: ok\nmethod: GET\nurl: /\nchecks:\n  status: 200\n  body_contains: ok\n"


class SpoolWatcher:
    """Watches ``runs`` (a collection's ``.deli/runs``) and keeps the largest total size its
    run directories reached (the spool goes away when the run ends)."""

    def __init__(self, runs: Path) -> None:
        self.runs = runs
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> SpoolWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            total = 0
            for path in self.runs.glob("*/worker-*.*"):
                if path.suffix[1:] not in _COLUMN_NAMES:
                    continue
                with contextlib.suppress(OSError):
                    total += path.stat().st_size
            self.peak = max(self.peak, total)


def csv_rows(path: Path) -> int:
    """Data rows of the ``--csv`` file the spooled run wrote (its lines less the header)."""
    lines = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 24):
            lines += chunk.count(b"\n")
    return lines - 1


def worker_rss(run: EngineRun, skip_s: float) -> tuple[float, float, float]:
    """(first after ``skip_s``, last, max) worker RSS in MiB."""
    series = [
        rss
        for sample in run.samples
        if sample.t >= skip_s
        for role, (_, rss) in sample.by_role.items()
        if role.startswith("worker")
    ]
    if not series:
        return float("nan"), float("nan"), float("nan")
    return series[0] / MIB, series[-1] / MIB, max(series) / MIB


def measure(args: argparse.Namespace) -> bool:
    ensure_tools("nginx")
    work = Path(tempfile.mkdtemp(prefix="deli-bench-spool-"))
    total = args.users * args.iterations
    try:
        with LocalNginx(workers=1) as nginx:
            root = work / "collection"
            root.mkdir()
            (root / "collection.yaml").write_text(
                _COLLECTION.format(
                    base_url=nginx.http_url.rstrip("/"),
                    users=args.users,
                    iterations=args.iterations,
                )
            )
            (root / "ok.yaml").write_text(_REQUEST)
            runs: dict[str, list[EngineRun]] = {"spool": [], "no spool": []}
            spooled: list[int] = []
            for _ in range(args.rounds):
                for name, extra in (("spool", ()), ("no spool", ("--no-spool",))):
                    csv_path = work / "results.csv" if name == "spool" else None
                    with SpoolWatcher(root / ".deli" / "runs") as watcher:
                        run = run_headless(
                            str(root), duration_s=3600, workers=1, extra_args=extra,
                            sample_every_s=1.0, keep_csv=csv_path,
                        )  # fmt: skip
                    runs[name].append(run)
                    if csv_path is not None:
                        spooled.append(csv_rows(csv_path))
                        csv_path.unlink()
                    print(
                        f"{name}: {run.requests:,} requests, {run.rps:,.0f} req/s, "
                        f"spool peak {watcher.peak / MIB:,.0f} MiB",
                        flush=True,
                    )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with_spool, without = runs["spool"], runs["no spool"]
    rps_with = sum(r.rps for r in with_spool) / len(with_spool)
    rps_without = sum(r.rps for r in without) / len(without)
    r = ratio(rps_with, rps_without)
    first, last, peak = worker_rss(with_spool[-1], skip_s=10.0)
    nfirst, nlast, npeak = worker_rss(without[-1], skip_s=10.0)
    rows_ok = all(n == run.requests == total for n, run in zip(spooled, with_spool, strict=True))
    flat = last <= first * 1.10
    rows: list[list[object]] = [
        ["requests per run", with_spool[-1].requests, without[-1].requests, "-", "-", "-"],
        ["rows in --csv (from the spool)", spooled[-1], "-", "-", "= requests", verdict(rows_ok)],
        ["req/s", rps_with, rps_without, r, ">= 0.90", verdict(r >= 0.90)],
        ["worker RSS MiB at 10 s", first, nfirst, ratio(first, nfirst), "-", "-"],
        ["worker RSS MiB at the end", last, nlast, ratio(last, nlast), "within 10%", verdict(flat)],
        ["worker RSS MiB max", peak, npeak, ratio(peak, npeak), "-", "-"],
        ["worker CPU us per request", with_spool[-1].us_per_request(), without[-1].us_per_request(),
         ratio(with_spool[-1].us_per_request(), without[-1].us_per_request()), "-", "-"],
    ]  # fmt: skip
    print_table(
        f"Spooling every result: {total:,} requests ({args.users} users x {args.iterations:,}), "
        f"nginx 1 worker, {args.rounds} round(s)",
        ["metric", "spool", "no spool", "ratio", "target", "verdict"],
        rows,
    )
    print(f"worker waited for a CPU {100 * with_spool[-1].starved():.0f}% of the spooled run")
    print_noise_note(max(with_spool[-1].starved(), without[-1].starved()))
    print(f"command: {with_spool[-1].command}  (and the same with --no-spool)")
    return rows_ok and flat and r >= 0.90


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--iterations", type=int, default=100_000, help="per user")
    parser.add_argument("--rounds", type=int, default=1, help="spool / no-spool pairs")
    stop_on_sigterm()
    raise SystemExit(0 if measure(parser.parse_args()) else 1)


if __name__ == "__main__":
    main()
