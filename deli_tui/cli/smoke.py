"""``deli-tui run PATH --smoke``: each request once, in order, with every check shown; exit 1
if any request fails, 0 when all pass."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TextIO

from deli_tui.cli.exit_codes import ExitCode
from engine.plan.model import RunPlan
from engine.redact import redact_text
from engine.reports.summary import stdout_marks
from engine.run.smoke import SmokeResult, smoke_check, smoke_passed
from engine.units import format_bytes, format_ms


def smoke_lines(
    result: SmokeResult, marks: tuple[str, str, str], secrets: tuple[str, ...]
) -> list[str]:
    """A request's line (mark, method, name, status, time, size) and a line per check."""
    good, bad, _ = marks
    r = result.response
    status = str(r.status) if r.error_class is None else r.error_class
    lines = [
        f"  {good if result.passed else bad} {result.method:<6} {result.label}  {status}  "
        f"{format_ms(r.elapsed_ms)}  {format_bytes(r.size)}"
    ]
    for held, what in result.findings():
        lines.append(f"      {good if held else bad} {redact_text(what, secrets)}")
    return lines


def smoke_headless(plans: Sequence[RunPlan], out: TextIO) -> int:
    """Run the smoke check of ``plans``, printing as it goes; returns the exit code."""
    marks = stdout_marks()
    secrets = tuple(dict.fromkeys(v for plan in plans for v in plan.redact_values))
    plan = plans[0]

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    what = " + ".join(p.scenario_name for p in plans)
    say(f"  smoke  {plan.collection_name} / {what}  ->  {plan.base_url}")

    def show(result: SmokeResult) -> None:
        for line in smoke_lines(result, marks, secrets):
            say(line)

    results = asyncio.run(smoke_check(plans, show))
    failed = sum(1 for r in results if not r.passed)
    good, bad, _ = marks
    ok = smoke_passed(results)
    passed = len(results) - failed
    say(f"\n  {good if ok else bad} {len(results)} requests: {passed} passed, {failed} failed")
    return ExitCode.PASSED if ok else ExitCode.FAILED
