"""HTTP/2 against a stock nginx that says GOAWAY: every request nginx answered is a success.

nginx (1 worker) serves ``listen ... ssl http2`` with its defaults: ``keepalive_requests
1000`` (after 1,000 requests on a connection it sends GOAWAY and closes the connection once
the streams it accepted are answered) and the default HTTP/2 stream limit. Its access log is
on. The engine runs ``deli-tui run https://... --http2 --users N`` through the headless CLI;
then the run's counts are set against nginx's own: requests nginx logged with status 200
must equal the run's successes, and the run must have no errors (a stream nginx never
processed is retried on a new connection, not counted as an error).

    python benchmarks/h2_goaway_nginx.py [--duration 10] [--users 20] [--workers 1]
"""

from __future__ import annotations

import argparse
import time

from engine_runs import run_headless, stop_on_sigterm
from figure_table import print_noise_note, print_table, verdict
from local_nginx import LocalNginx, ensure_tools

KEEPALIVE_REQUESTS = 1000  # nginx's default


def measure(args: argparse.Namespace) -> bool:
    ensure_tools("nginx")
    with LocalNginx(
        workers=1,
        tls=True,
        keepalive_requests=KEEPALIVE_REQUESTS,
        access_log=True,
        stock_http2=True,
    ) as nginx:
        engine = run_headless(
            nginx.https_url,
            users=args.users,
            duration_s=args.duration,
            workers=args.workers,
            http2=True,
            ca_file=nginx.ca_file,
        )
        time.sleep(0.5)  # nginx writes a line as each request ends; let the last ones land
        logged = nginx.access_log_statuses()
    report = engine.report
    successes = int(report.get("successes", 0))
    requests = int(report.get("requests", 0))
    errors = report.get("errors", {})
    nginx_ok = logged.get(200, 0)
    nginx_all = sum(logged.values())
    connections = int(report.get("phases", {}).get("new_connections", 0))
    retried = int(report.get("phases", {}).get("retried", 0))
    rows: list[list[object]] = [
        ["requests", requests, nginx_all, "-", "-"],
        ["successes (status 200)", successes, nginx_ok, "equal", verdict(successes == nginx_ok)],
        ["errors", engine.errors, nginx_all - nginx_ok, "0", verdict(engine.errors == 0)],
        [
            "connections (new)",
            connections,
            f"~{nginx_all / KEEPALIVE_REQUESTS:.0f} (requests / {KEEPALIVE_REQUESTS})",
            "-",
            "-",
        ],
        ["sent again (above a GOAWAY)", retried, "never logged", "-", "-"],
        ["req/s", engine.rps, "-", "-", "-"],
    ]
    print_table(
        f"HTTP/2 over TLS against stock nginx (keepalive_requests {KEEPALIVE_REQUESTS}), "
        f"{args.users} users, {args.workers} worker(s), {args.duration:g} s",
        ["metric", "deli-tui", "nginx access log", "target", "verdict"],
        rows,
    )
    if errors:
        print(f"errors by class: {errors}")
    print(f"nginx statuses: {logged}")
    print(
        f"worker waited for a CPU {100 * engine.starved():.0f}% of the run; "
        f"command: DELI_CA_BUNDLE=ca.pem {engine.command}"
    )
    print_noise_note(engine.starved())
    return engine.errors == 0 and successes == nginx_ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load")
    parser.add_argument("--users", type=int, default=20, help="concurrent streams")
    parser.add_argument("--workers", type=int, default=1, help="engine worker processes")
    stop_on_sigterm()
    raise SystemExit(0 if measure(parser.parse_args()) else 1)


if __name__ == "__main__":
    main()
