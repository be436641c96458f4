"""Two runs compared, as the plain-text table ``deli-tui compare`` prints (and the cells the
app's compare screen shows): each figure in A and B, the change, better or worse."""

from __future__ import annotations

import time
from collections.abc import Sequence

from engine.history.compare import Change, Comparison, RequestChange
from engine.history.fail_on import RuleResult
from engine.history.saved_run import SavedRun
from engine.reports.cells import threshold_value
from engine.run.protocol import ThresholdResult
from engine.units import format_count, format_ms, format_rate


def value_text(change: Change, value: float | None) -> str:
    """One side of a change in the figure's unit; ``-`` when the run has no such figure."""
    if value is None:
        return "-"
    if change.unit == "ms":
        return format_ms(value)
    if change.unit == "rps":
        return format_rate(value)
    if change.unit == "ratio":
        return f"{value * 100:.2f}%"
    return format_count(value)


def change_text(change: Change) -> str:
    """``+12.3%`` (``+0.40pp`` for rates of errors); ``new`` from zero; blank when unknown."""
    delta = change.delta
    if delta is None:
        return ""
    if change.unit == "ratio":
        return f"{delta * 100:+.2f}pp"
    relative = change.relative
    if relative is None:
        return "0%" if delta == 0 else "new"
    return f"{relative * 100:+.1f}%"


REQUEST_HEADER = (
    "request", "p95 A", "p95 B", "change", "req/s A", "req/s B", "change", "err A", "err B",
)  # fmt: skip
REQUEST_CHANGES = (3, 6)  # the columns that hold a change (coloured in the app)


def request_change_cells(r: RequestChange) -> tuple[str, ...]:
    """One request's row: its p95, req/s and error rate in A and B, with the changes."""
    where = "" if r.in_a and r.in_b else " (only A)" if r.in_a else " (only B)"
    return (
        r.name + where,
        value_text(r.p95, r.p95.a),
        value_text(r.p95, r.p95.b),
        change_text(r.p95),
        value_text(r.rps, r.rps.a),
        value_text(r.rps, r.rps.b),
        change_text(r.rps),
        value_text(r.error_rate, r.error_rate.a),
        value_text(r.error_rate, r.error_rate.b),
    )


def when_text(when: float) -> str:
    """A run's end time in local time, to the minute; ``?`` when unknown."""
    if when <= 0:
        return "?"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(when))


def run_line(side: str, run: SavedRun) -> str:
    name = f"{run.collection} / {run.scenario}".strip(" /")
    return (
        f"  {side}  {run.name}  {name}  {when_text(run.when)}  {run.load_text}  "
        f"{run.duration_s:.1f}s  {run.verdict}"
    )


def _columns(rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Aligned columns: the first left-aligned, the others right-aligned."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = [row[0].ljust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        out.append((indent + "  ".join(cells)).rstrip())
    return out


def _threshold_lines(side: str, run: SavedRun, marks: tuple[str, str, str]) -> list[str]:
    good, bad, none = marks
    if not run.thresholds:
        return [f"    {side}  (no thresholds)"]
    lines = []
    for expr, value, passed in run.thresholds:
        mark = good if passed else (none if passed is None else bad)
        shown = threshold_value(ThresholdResult(expr, value, passed))
        lines.append(f"    {side}  {mark} {expr:<30} {shown}")
    return lines


def comparison_table(
    comparison: Comparison,
    rules: Sequence[RuleResult] = (),
    *,
    marks: tuple[str, str, str] = ("✓", "✗", "-"),
) -> str:
    """The whole comparison as text: the two runs, notes, figures, requests, thresholds, and
    the ``--fail-on`` rules judged."""
    c = comparison
    lines = [run_line("A", c.a), run_line("B", c.b), ""]
    if c.notes:
        lines += [f"  note: {note}" for note in c.notes] + [""]
    rows = [("", "A", "B", "change", "")]
    for change in c.overall:
        rows.append(
            (
                change.label,
                value_text(change, change.a),
                value_text(change, change.b),
                change_text(change),
                change.verdict if change.verdict != "same" else "",
            )
        )
    lines += _columns(rows)
    if c.requests:
        lines.append("")
        lines += _columns([REQUEST_HEADER, *(request_change_cells(r) for r in c.requests)])
    lines += ["", "  thresholds", *_threshold_lines("A", c.a, marks)]
    lines += _threshold_lines("B", c.b, marks)
    if rules:
        good, bad, _ = marks
        lines += ["", "  fail-on"]
        for result in rules:
            mark = bad if result.failed else good
            lines.append(f"    {mark} {result.rule.expr}: {result.detail}")
        failed = sum(1 for r in rules if r.failed)
        lines += [
            "",
            f"  {bad} {failed} regression(s) beyond --fail-on"
            if failed
            else f"  {good} no regression beyond --fail-on",
        ]
    return "\n".join(line.rstrip() for line in lines)
