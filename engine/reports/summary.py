"""The end-of-test summary table printed by ``deli-tui run`` (k6-style plain text)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from engine.plan.model import RunPlan
from engine.reports.cells import (
    STRESS_HEADER,
    ordered_errors,
    request_cells,
    stress_outcome,
    stress_step_cells,
    threshold_label,
    threshold_value,
    unpack_run,
)
from engine.run.protocol import Finished, LatencyStats, Snapshot, StressProgress, run_verdict
from engine.units import format_bytes, format_ms, format_percent, format_rate


def stdout_marks() -> tuple[str, str, str]:
    """(pass, fail, no data) marks; ASCII when stdout cannot encode check marks."""
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "✓✗".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return "PASS", "FAIL", "----"
    return "✓", "✗", "-"


def _dotted(rows: list[tuple[str, str]], indent: str = "  ") -> list[str]:
    width = max((len(label) for label, _ in rows), default=0) + 3
    return [f"{indent}{(label + ' ').ljust(width, '.')} {value}" for label, value in rows]


def _latency_line(stats: LatencyStats) -> str:
    if not stats.count:
        return "no data"
    parts = (
        ("min", stats.min_ms),
        ("mean", stats.mean_ms),
        ("p50", stats.p50_ms),
        ("p90", stats.p90_ms),
        ("p95", stats.p95_ms),
        ("p99", stats.p99_ms),
        ("p99.9", stats.p99_9_ms),
        ("max", stats.max_ms),
    )
    return " ".join(f"{name}={format_ms(value)}" for name, value in parts)


def _table(
    header: tuple[str, ...], rows: Sequence[tuple[str, ...]], indent: str = "  "
) -> list[str]:
    """Aligned columns: the first left-aligned, the others right-aligned."""
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        out = [cells[0].ljust(widths[0])]
        out += [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return (indent + "  ".join(out)).rstrip()

    return [line(header), *(line(r) for r in rows)]


def _error_distribution(s: Snapshot) -> list[str]:
    """The most frequent error messages with their counts (as oha's "Error distribution")."""
    if not s.error_messages:
        return []
    width = max(len(f"{count:,}") for _, _, count in s.error_messages)
    lines = ["", "  error distribution"]
    for cls, text, count in s.error_messages:
        first = text.splitlines()[0] if text else "(no message)"
        lines.append(f"    [{count:>{width},}] {cls}: {first}")
    listed = sum(count for _, _, count in s.error_messages)
    if listed < s.error_count:
        lines.append(f"    ({s.error_count - listed:,} more, in less frequent messages)")
    return lines


def _stress_lines(stress: StressProgress) -> list[str]:
    lines = [
        f"  stress over {stress.over}: steps of {stress.step_s:g}s (the first "
        f"{stress.warmup_s:g}s of each left out), until {', '.join(stress.until)}"
    ]
    rows = [stress_step_cells(stress, step) for step in stress.judged]
    lines += _table(STRESS_HEADER, rows, indent="    ") if rows else ["    no step was judged"]
    lines += ["", f"  {stress_outcome(stress)}", ""]
    return lines


def summary_table(
    snapshot: Snapshot | RunPlan,
    passed: bool | Finished,
    reason: str = "",
    *,
    marks: tuple[str, str, str] | None = None,
) -> str:
    """The end-of-test summary as plain text (k6-style). Also accepts ``(plan, finished)``."""
    s, ok, why = unpack_run(snapshot, passed, reason)
    good, bad, none = marks or stdout_marks()
    lines = [
        f"  deli-tui  {s.collection} / {s.scenario}  ->  {s.target}",
        f"  {s.model} model, {s.elapsed_s:.1f}s" + (f" ({why})" if why else ""),
        "",
    ]
    if s.thresholds:
        lines.append("  thresholds")
        for t in s.thresholds:
            mark = good if t.passed else (none if t.passed is None else bad)
            lines.append(f"    {mark} {threshold_label(t):<30} {threshold_value(t)}")
        lines.append("")
    duration = s.elapsed_s if s.elapsed_s > 0 else 0.0
    errors = ", ".join(f"{name} {n}" for name, n in ordered_errors(s.errors))
    rows = [
        ("requests", f"{s.requests:<10} {format_rate(s.mean_rps)}/s"),
        ("successes", f"{s.successes:<10} {format_percent(s.successes, s.requests)}"),
        ("errors", f"{s.error_count:<10} {format_percent(s.error_count, s.requests)}")
        if not errors
        else (
            "errors",
            f"{s.error_count:<10} {format_percent(s.error_count, s.requests)}  ({errors})",
        ),
        ("status codes", ", ".join(f"{code} x{n}" for code, n in s.status_codes) or "none"),
        ("latency", _latency_line(s.latency)),
    ]
    if s.model == "open":
        rows += [
            ("service time", _latency_line(s.service_latency)),
            ("scheduler lag", _latency_line(s.scheduler_lag_ms)),
            ("skipped sends", str(s.skipped)),
        ]
    elif s.skipped:
        rows.append(("skipped sends", str(s.skipped)))
    p = s.phases
    if s.requests or p.new_connections:
        connections = f"{p.new_connections} new"
        if p.connect_mean_ms:
            connections += (
                f", connect mean={format_ms(p.connect_mean_ms)} p99={format_ms(p.connect_p99_ms)}"
            )
        if p.tls_mean_ms:
            connections += f", tls mean={format_ms(p.tls_mean_ms)} p99={format_ms(p.tls_p99_ms)}"
        if p.retried:
            connections += f", {p.retried} requests sent again (the server had not taken them)"
        rows.append(("connections", connections))
    if p.ttfb_mean_ms:
        rows.append(
            (
                "time to first byte",
                f"mean={format_ms(p.ttfb_mean_ms)} p99={format_ms(p.ttfb_p99_ms)}",
            )
        )
    rate_in = format_bytes(s.bytes_in / duration) + "/s" if duration else ""
    rate_out = format_bytes(s.bytes_out / duration) + "/s" if duration else ""
    rows += [
        ("data received", f"{format_bytes(s.bytes_in):<10} {rate_in}".rstrip()),
        ("data sent", f"{format_bytes(s.bytes_out):<10} {rate_out}".rstrip()),
    ]
    lines += _dotted(rows)
    lines += _error_distribution(s)
    if s.lost_workers:
        lines += ["", f"  lost workers ({len(s.lost_workers)} of {len(s.workers)})"]
        for w in s.lost_workers:
            at = "" if w.lost_at_s is None else f" at {w.lost_at_s:.1f}s"
            lines.append(
                f"    worker {w.worker_id} on {w.node}{at}, after {w.requests} requests: {w.reason}"
            )
    if len(s.per_request) > 1 or (s.per_request and s.per_request[0].errors):
        lines.append("")
        header = ("request", "reqs", "rps", "errors", "p50", "p95", "p99", "max")
        table_rows = [request_cells(r) for r in s.per_request]
        lines += _table(header, table_rows)
    if s.stress is not None:
        lines += ["", *_stress_lines(s.stress)]
        lines.pop()  # the stress block ends with a blank line of its own
    verdict = run_verdict(ok, why)
    word = {"passed": (good, "passed"), "failed": (bad, "FAILED"), "stopped": (none, "STOPPED")}
    mark, text = word[verdict]
    lines += ["", f"  {mark} {text}"]
    return "\n".join(line.rstrip() for line in lines)
