"""``deli-tui compare A.json B.json``: two saved runs side by side, and a CI gate.

Prints each figure of run A (the baseline) and run B with the change. ``--fail-on`` rules
(``p95 +10%``, ``error_rate +0.5pp``, ``rps -5%``) turn it into a gate: exit 1 when B is
worse than A beyond any of them, 2 on bad input (a file that is not a run, a rule that does
not parse), 0 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from deli_tui.cli.exit_codes import ExitCode


def compare_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deli-tui compare",
        description="Compare two saved runs (JSON reports); optionally fail on a regression.",
    )
    parser.add_argument("a", metavar="A.json", help="the baseline run")
    parser.add_argument("b", metavar="B.json", help="the run to judge against it")
    parser.add_argument(
        "--fail-on",
        metavar="RULE",
        action="append",
        default=[],
        help="exit 1 when B is worse than A beyond RULE, e.g. 'p95 +10%%', 'p99 +20ms', "
        "'rps -5%%', 'error_rate +0.5pp', 'p95[Get user] +15%%' (repeatable)",
    )
    return parser


def compare_main(argv: Sequence[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Entry of ``deli-tui compare``; returns the exit code."""
    from engine.history.compare import compare_runs
    from engine.history.fail_on import judge_rule, parse_fail_on, unknown_requests
    from engine.history.saved_run import RunFileError, read_run
    from engine.reports.compare_table import comparison_table
    from engine.reports.summary import stdout_marks

    out = out or sys.stdout
    err = err or sys.stderr
    args = compare_parser().parse_args(argv)
    try:
        rules = [parse_fail_on(expr) for expr in args.fail_on]
    except ValueError as exc:
        print(f"error: {exc}", file=err)
        return ExitCode.BAD_INPUT
    try:
        a = read_run(Path(args.a))
        b = read_run(Path(args.b))
    except RunFileError as exc:
        print(f"error: {exc}", file=err)
        return ExitCode.BAD_INPUT
    comparison = compare_runs(a, b)
    unknown = unknown_requests(rules, comparison)
    if unknown:
        names = ", ".join(r.name for r in comparison.requests) or "none"
        print(
            f"error: --fail-on names request {unknown[0]!r}, which neither run has "
            f"(requests: {names})",
            file=err,
        )
        return ExitCode.BAD_INPUT
    results = [judge_rule(rule, comparison) for rule in rules]
    print(comparison_table(comparison, results, marks=stdout_marks()), file=out)
    return ExitCode.FAILED if any(r.failed for r in results) else ExitCode.PASSED
