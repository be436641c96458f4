"""HTTP/2 over TLS: deli-tui (one connection, 100 streams) against ``h2load -c1 -m100``.

nginx (1 worker) serves an ``http2`` TLS listener with a certificate made for this run; the
engine trusts it through ``$DELI_CA_BUNDLE`` (verification stays on). The engine runs
``deli-tui run https://... --http2 --users 100`` (one worker, so one connection multiplexing
100 streams). ``--profile`` shows where the worker's time goes (the h2 library's share).

    python benchmarks/h2_vs_h2load.py [--duration 10] [--streams 100] [--profile]
"""

from __future__ import annotations

import argparse

from engine_runs import add_common_arguments, run_headless, stop_on_sigterm
from figure_table import print_noise_note, print_table, ratio, verdict
from local_nginx import LocalNginx, ensure_tools
from profile_summary import print_summary
from raw_transport import run_raw_transport
from reference_tools import run_h2load


def measure(args: argparse.Namespace) -> None:
    ensure_tools("nginx", "h2load")
    gen_cpus = {0} if args.pin else None
    with LocalNginx(workers=1, tls=True) as nginx:
        nginx.pin({1} if args.pin else None)
        url = nginx.https_url
        run_h2load(url, 1, args.streams, 1.0)  # warm up
        h2load = run_h2load(url, 1, args.streams, args.duration, cpus=gen_cpus)
        print(f"h2load {h2load.rps:,.0f} req/s ({h2load.errors} errors)", flush=True)
        engine = run_headless(
            url,
            users=args.streams,
            duration_s=args.duration,
            workers=1,
            http2=True,
            ca_file=nginx.ca_file,
            profile=args.profile,
            cpus=gen_cpus,
        )
        print(f"deli-tui {engine.rps:,.0f} req/s ({engine.errors} errors)", flush=True)
        raw = None
        if not args.no_raw:
            raw = run_raw_transport(
                url, args.streams, args.duration, True, nginx.ca_file, cpus=gen_cpus
            )
    r = ratio(engine.rps, h2load.rps)
    rows: list[list[object]] = [
        [
            f"req/s, 1 conn x {args.streams} streams",
            engine.rps,
            h2load.rps,
            r,
            "as high as h2 allows",
            "-",
        ],
        [
            "mean latency ms",
            engine.latency("mean"),
            h2load.latency_ms.get("mean", float("nan")),
            ratio(engine.latency("mean"), h2load.latency_ms.get("mean", float("nan"))),
            "-",
            "-",
        ],
    ]
    eu, hu = engine.us_per_request(), h2load.us_per_request
    rows.append(["CPU us per request (worker / h2load)", eu, hu, ratio(eu, hu), "-", "-"])
    if raw is not None:
        rows.append(
            [
                "req/s, transport client alone",
                raw["rps"],
                h2load.rps,
                ratio(raw["rps"], h2load.rps),
                "-",
                "-",
            ]
        )
    print_table(
        f"HTTP/2 over TLS vs h2load (nginx 1 worker, {args.duration:g} s)",
        ["metric", "deli-tui", "h2load", "ratio", "target", "verdict"],
        rows,
    )
    print(
        f"errors: deli-tui {engine.errors}, h2load {h2load.errors}; {verdict(engine.errors == 0)}"
    )
    print(
        f"engine CPU, cores: worker {engine.cores('worker'):.2f}, supervisor "
        f"{engine.cores('supervisor'):.2f}, cli {engine.cores('cli'):.2f}; worker waited for "
        f"a CPU {100 * engine.starved():.0f}% of the run"
    )
    print_noise_note(engine.starved())
    print(f"command: DELI_CA_BUNDLE=ca.pem {engine.command}")
    print(f"reference: {h2load.command}")
    for pid, path in engine.profiles.items():
        print_summary(path, title=f"worker {pid} (py-spy, {path})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--streams", type=int, default=100)
    add_common_arguments(parser, profiling=True)
    stop_on_sigterm()
    measure(parser.parse_args())


if __name__ == "__main__":
    main()
