"""``deli-tui run``: a scenario without the TUI, for CI and soak tests.

A live line per second goes to stderr, the summary table to stdout, reports to files (their
paths to stderr). Exit codes: 0 passed, 1 a threshold failed (the default ``error_rate < 1%``
when the scenario sets none), the engine failed, or the run was stopped before its end; 2 bad
input; 130 on Ctrl-C (after the summary of what was measured), 128 + N for signal N (SIGTERM,
SIGHUP stop the run the same way).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from deli_tui.cli.exit_codes import ExitCode
from deli_tui.cli.stress_args import add_stress_arguments, stress_from_args
from engine.errors import CollectionError, Problem
from engine.plan.model import RunPlan
from engine.redact import redact_text
from engine.run.process import EngineHandle
from engine.run.protocol import EngineError, Finished, Log, Snapshot, Start, Stop
from engine.units import format_ms, format_rate

LIVE_LINE_EVERY_S = 1.0
URL_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
ENGINE_START_TIMEOUT_S = 30.0


class BadArgument(Exception):
    """A command-line value that cannot be used; the message names the option."""


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``deli-tui run``."""
    parser.add_argument("path", metavar="PATH", help="collection dir, collection.yaml, or a URL")
    parser.add_argument("--scenario", metavar="NAME", help="scenario to run (default: first)")
    parser.add_argument("--users", metavar="N", help="virtual users (closed model)")
    parser.add_argument("--rate", metavar="R", help="requests per second (open model)")
    parser.add_argument("--duration", metavar="D", help="run length, e.g. 30s, 5m")
    parser.add_argument("--ramp-up", metavar="D", help="time to reach the target load")
    parser.add_argument("--workers", metavar="N", help="worker processes (default 1)")
    parser.add_argument("--http2", action="store_true", default=None, help="use HTTP/2")
    parser.add_argument("--client", choices=("fast", "httpx"), help="engine HTTP client")
    parser.add_argument(
        "--insecure", action="store_true", default=None, help="skip TLS verification"
    )
    parser.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="run the workers on a Ray cluster: auto, HOST:PORT, ray://HOST:PORT, or local "
        "(needs pip install 'deli-tui[cluster]')",
    )
    parser.add_argument("--env-file", metavar="F", help="variables file (KEY=value lines)")
    parser.add_argument("--json", metavar="FILE", help="write the full JSON report")
    parser.add_argument("--junit", metavar="FILE", help="write a JUnit XML report")
    parser.add_argument(
        "--csv", metavar="FILE", help="write every raw result as CSV (one row per request)"
    )
    parser.add_argument("--html", metavar="FILE", help="write a self-contained HTML report")
    parser.add_argument("--listen", metavar="SOCKET", help="serve the run for `deli-tui attach`")
    parser.add_argument("--quiet", action="store_true", help="no live lines")
    parser.add_argument(
        "--max-results",
        metavar="N",
        help="raw results each worker keeps in memory for the error inspector (default 100000)",
    )
    parser.add_argument(
        "--no-spool",
        action="store_true",
        help="write no raw result to disk while running (no --csv then)",
    )
    parser.add_argument(
        "--no-default-thresholds",
        action="store_true",
        help="judge no threshold when the scenario sets none (default: error_rate < 1%%)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="send each request once, in order, and show every check; exit 1 if any fails",
    )
    add_stress_arguments(parser)


def _count(option: str, text: str | None, minimum: int) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise BadArgument(f"{option} {text!r}: expected a whole number") from None
    if value < minimum:
        raise BadArgument(f"{option} {text}: must be at least {minimum}")
    return value


def _rate(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise BadArgument(f"--rate {text!r}: expected requests per second, e.g. 100") from None
    if not value > 0 or value == float("inf"):
        raise BadArgument(f"--rate {text}: must be a positive number")
    return value


def _duration(option: str, text: str | None) -> float | None:
    if text is None:
        return None
    from engine.durations import parse_duration

    try:
        value = float(parse_duration(text))
    except ValueError as exc:
        raise BadArgument(f"{option}: {exc}") from None
    if value < 0 or (value == 0 and option == "--duration"):
        raise BadArgument(
            f"{option} {text}: must be " + ("above 0" if option == "--duration" else "0 or more")
        )
    return value


def _cluster(text: str | None) -> str | None:
    if text is None:
        return None
    from engine.plan.cluster_address import check_cluster_address

    try:
        return check_cluster_address(text)
    except ValueError as exc:
        raise BadArgument(f"--cluster: {exc}") from None


def check_cluster_ready(plan: RunPlan) -> None:
    """A plan for a cluster needs Ray here; ``BadArgument`` says how to install it."""
    from engine.plan.cluster_address import INSTALL_HINT, ray_installed

    if plan.cluster and not ray_installed():
        raise BadArgument(f"running on a cluster ({plan.cluster}) needs Ray: {INSTALL_HINT}")


def build_plan_from_args(args: argparse.Namespace) -> tuple[list[RunPlan], Path | None]:
    """The run plan for these arguments (a smoke check of a whole collection: one or more,
    see ``smoke_plans``), and the collection's root when it is one the run may write into.
    Raises ``BadArgument`` or ``CollectionError``."""
    from engine.plan.build import PlanOverrides

    if args.users is not None and args.rate is not None:
        raise BadArgument(
            "--users and --rate: give one (--users N for virtual users, the closed model; "
            "--rate R for requests per second, the open model)"
        )
    if args.scenario is not None and URL_LIKE.match(args.path):
        raise BadArgument(
            f"--scenario {args.scenario}: a URL target has no scenarios; give a collection "
            "directory, or leave --scenario out"
        )
    if args.no_spool and args.csv:
        raise BadArgument("--csv is written from the results spooled to disk: not with --no-spool")
    try:
        stress = stress_from_args(args)
    except ValueError as exc:
        raise BadArgument(str(exc)) from None
    overrides = PlanOverrides(
        users=_count("--users", args.users, 1),
        rate=_rate(args.rate),
        duration_s=_duration("--duration", args.duration),
        ramp_up_s=_duration("--ramp-up", args.ramp_up),
        workers=_count("--workers", args.workers, 1),
        http2=args.http2,
        client=args.client,
        insecure=args.insecure,
        cluster=_cluster(args.cluster),
        default_thresholds=not args.no_default_thresholds,
        max_results=_count("--max-results", args.max_results, 1),
        stress=stress,
    )
    if URL_LIKE.match(args.path):
        from engine.plan.build import plan_for_url

        return [plan_for_url(args.path, overrides)], None
    from engine.collection.loader import load_collection
    from engine.plan.build import build_plan

    collection = load_collection(Path(args.path))
    env_file = Path(args.env_file) if args.env_file else None
    root = None if collection.read_only else collection.root
    if args.smoke and args.scenario is None:
        from engine.plan.build import smoke_plans

        return smoke_plans(collection, overrides, env_file=env_file, environ=dict(os.environ)), root
    plan = build_plan(
        collection, args.scenario, overrides, env_file=env_file, environ=dict(os.environ)
    )
    return [plan], root


def make_spool_dir(
    args: argparse.Namespace, plan: RunPlan, root: Path | None, err: TextIO
) -> Path | None:
    """The run's directory for the workers' spool (see ``engine.run.rundir``): the
    collection's ``.deli/runs/``, beside ``--csv``/``--json`` for a URL, else the cache;
    None with ``--no-spool`` or on a cluster. A directory that cannot be made is said."""
    from engine.run.rundir import cache_runs_dir, make_run_dir, run_id

    if args.no_spool or plan.cluster:
        return None
    name = run_id(plan.scenario_name)
    if root is not None:
        places = [(root / ".deli" / "runs", name)]
    elif args.csv or args.json:
        places = [(Path(args.csv or args.json).resolve().parent, f".deli-run-{name}")]
    else:
        places = []
    places.append((cache_runs_dir(), name))
    problem = ""
    for parent, dirname in places:
        try:
            return make_run_dir(parent, dirname)
        except OSError as exc:
            problem = f"{parent}: {exc.strerror or exc}"
    say(f"warning: raw results are kept in memory only ({problem})", err)
    return None


def live_line(s: Snapshot) -> str:
    """One progress line: time, throughput, latency percentiles, errors, load."""
    total = f"/{s.planned_s:.0f}s" if s.planned_s else "s"
    load = (
        f"rate {s.target_rate:.0f}/s in-flight {s.in_flight} skipped {s.skipped}"
        if s.model == "open"
        else f"users {s.active_users} in-flight {s.in_flight}"
    )
    lat = s.latency
    return (
        f"[{s.elapsed_s:5.1f}{total}] {format_rate(s.rps):>6} req/s  "
        f"p50 {format_ms(lat.p50_ms)} p95 {format_ms(lat.p95_ms)} p99 {format_ms(lat.p99_ms)}  "
        f"requests {s.requests} errors {s.error_count}  {load}"
    )


class _StopRequests:
    """Turns SIGINT/SIGTERM/SIGHUP into a clean stop; remembers the first signal."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.count = 0
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signals are delivered to the main thread only
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            self._previous[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        """Give the signals back, unless one has stopped the run. The process is then on its
        way out with that signal's exit code, and a repeated Ctrl-C while it closes the engine,
        prints the summary or exits must not kill it on the way (exit -2 instead of 130, or no
        summary). So repeats are ignored from here on: SIG_IGN, because the interpreter resets
        Python-level handlers to the default action during its own shutdown, and SIG_IGN is
        the one it leaves alone."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler if self.signum is None else signal.SIG_IGN)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum
        self.count += 1


def say(text: str, stream: TextIO) -> None:
    """Print, ignoring a terminal that went away (an SSH session that dropped)."""
    with contextlib.suppress(OSError, ValueError):
        print(text, file=stream, flush=True)


def _print_problems(problems: list[Problem], err: TextIO) -> None:
    for problem in problems:
        say(f"error: {problem}", err)


def _write_reports(
    args: argparse.Namespace, plan: RunPlan, finished: Finished, err: TextIO
) -> bool:
    """Write the reports asked for; False (and a message) when one could not be written."""
    ok = True
    writers: list[tuple[str, Callable[[], object]]] = []
    if args.json or args.junit:
        from engine.reports.json_report import write_json
        from engine.reports.junit_report import write_junit

        if args.json:
            writers.append((args.json, lambda: write_json(args.json, plan, finished)))
        if args.junit:
            writers.append((args.junit, lambda: write_junit(args.junit, plan, finished)))
    if args.csv:
        writers.append((args.csv, lambda: _write_csv(args.csv, plan, finished, err)))
    if args.html:
        from engine.reports.html_report import write_html

        writers.append((args.html, lambda: write_html(args.html, plan, finished)))
    for path, write in writers:
        try:
            write()
        except OSError as exc:
            say(f"error: cannot write {path}: {exc.strerror or exc}", err)
            ok = False
        else:
            say(f"wrote {path}", err)
    return ok


def _write_csv(path: str, plan: RunPlan, finished: Finished, err: TextIO) -> None:
    from engine.reports.csv_report import write_run_csv

    for missing in write_run_csv(path, plan, finished):
        say(f"warning: {path}: {missing}", err)


def _summary_table(plan: RunPlan, finished: Finished) -> str:
    from engine.reports.summary import summary_table

    return str(summary_table(plan, finished))


def run_plan_headless(
    plan: RunPlan,
    args: argparse.Namespace,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Run ``plan`` on a fresh engine, print progress and the summary, return the exit code."""
    stops = _StopRequests()
    stops.install()
    finished: Finished | None = None
    latest: Snapshot | None = None
    failed_engine = False
    sent_stop = 0
    secrets = plan.redact_values
    try:
        engine = EngineHandle.start(listen=args.listen)
    except OSError as exc:
        stops.restore()
        say(f"error: cannot start the engine: {exc}", err)
        return ExitCode.FAILED
    try:
        engine.send(Start(plan))
        if args.listen:
            say(f"listening on {args.listen} (deli-tui attach {args.listen})", err)
        next_line = time.monotonic() + LIVE_LINE_EVERY_S
        while finished is None:
            if stops.count > sent_stop:
                engine.send(Stop(graceful=sent_stop == 0))
                sent_stop += 1
            if not engine.poll(0.1):
                if not engine.alive:
                    say("error: the engine process ended unexpectedly", err)
                    failed_engine = True
                    break
                continue
            try:
                message = engine.recv()
            except EOFError:
                say("error: the engine process ended unexpectedly", err)
                failed_engine = True
                break
            if isinstance(message, Snapshot):
                latest = message
                due = time.monotonic() >= next_line and message.phase != "starting"
                if due and not args.quiet:
                    next_line = time.monotonic() + LIVE_LINE_EVERY_S
                    say(live_line(message), err)
            elif isinstance(message, Log):
                if message.level != "info" or not args.quiet:
                    say(f"{message.level}: {redact_text(message.message, secrets)}", err)
            elif isinstance(message, EngineError):
                say(f"error: {redact_text(message.message, secrets)}", err)
                failed_engine = failed_engine or message.fatal
            elif isinstance(message, Finished):
                finished = message
    except ConnectionError as exc:
        say(f"error: lost the engine: {exc}", err)
        failed_engine = True
    finally:
        engine.close(timeout=10.0)
        stops.restore()
    if finished is None:
        if latest is None:
            return ExitCode.INTERRUPTED if stops.signum == signal.SIGINT else ExitCode.FAILED
        # The summary of what was measured up to the last snapshot, marked as failed.
        finished = Finished(latest, False, "the engine process ended unexpectedly")
    from engine.redact import redact_finished

    finished = redact_finished(finished, secrets)
    reports_ok = _write_reports(args, plan, finished, err)
    say(_summary_table(plan, finished), out)
    if stops.signum is not None:
        return ExitCode.INTERRUPTED if stops.signum == signal.SIGINT else 128 + stops.signum
    if finished.verdict != "passed" or failed_engine or not reports_ok:
        return ExitCode.FAILED
    return ExitCode.PASSED


def run_from_args(args: argparse.Namespace) -> int:
    """Entry of ``deli-tui run``: build the plan, run it, report. Returns the exit code."""
    err = sys.stderr
    try:
        plans, root = build_plan_from_args(args)
        plan = plans[0]
        check_cluster_ready(plan)
    except BadArgument as exc:
        say(f"error: {exc}", err)
        return ExitCode.BAD_INPUT
    except CollectionError as exc:
        _print_problems(exc.problems, err)
        return ExitCode.BAD_INPUT
    except FileNotFoundError as exc:
        say(f"error: {exc.filename or args.path}: no such file or directory", err)
        return ExitCode.BAD_INPUT
    if args.smoke:
        from deli_tui.cli.smoke import smoke_headless

        return smoke_headless(plans, sys.stdout)
    reports = (("--json", args.json), ("--junit", args.junit), ("--csv", args.csv))
    for option, value in (*reports, ("--html", args.html)):
        if value and not Path(value).resolve().parent.is_dir():
            say(f"error: {option} {value}: the directory does not exist", err)
            return ExitCode.BAD_INPUT
    if args.listen:
        from engine.run.listen import claim_socket_path

        try:
            claim_socket_path(Path(args.listen))
        except OSError as exc:
            say(f"error: --listen {args.listen}: {exc}", err)
            return ExitCode.BAD_INPUT
    spool_dir = make_spool_dir(args, plan, root, err)
    try:
        return run_plan_headless(replace(plan, run_dir=str(spool_dir) if spool_dir else None), args)
    finally:
        if spool_dir is not None:
            from engine.run.rundir import remove_run_dir

            remove_run_dir(spool_dir)
