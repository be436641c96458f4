"""Reports of a finished run: the JSON summary, JUnit XML, and the end-of-test summary table.

Everything is derived from the final ``Snapshot`` alone, so a report written by the TUI and
one written by ``deli-tui run --json`` say the same thing. Files are written atomically
(temp file, fsync, rename). Raw samples go to CSV through ``engine.metrics.ring``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from engine.plan.model import RunPlan
from engine.redact import redact_text
from engine.results import ERROR_CLASSES
from engine.run.protocol import (
    ErrorSample,
    Finished,
    LatencyStats,
    RequestStats,
    Snapshot,
    ThresholdResult,
)

REPORT_VERSION = 1


def _unpack(
    first: Snapshot | RunPlan, second: bool | Finished, reason: str
) -> tuple[Snapshot, bool, str]:
    """Accept ``(snapshot, passed, reason)`` or ``(plan, finished)``: the same report."""
    if isinstance(first, Snapshot) and isinstance(second, bool):
        return first, second, reason
    if isinstance(second, Finished):
        return second.snapshot, second.passed, reason or second.reason
    raise TypeError("expected (snapshot, passed, reason) or (plan, finished)")


def redact_finished(finished: Finished, secrets: Sequence[str]) -> Finished:
    """``finished`` with its free text (target, reason, error samples) free of ``secrets``
    and of header-like secret fragments; numbers are left alone."""
    s = finished.snapshot

    def clean(text: str) -> str:
        return redact_text(text, secrets)

    samples = tuple(
        ErrorSample(e.elapsed_s, e.request, e.error_class, e.status, clean(e.message))
        for e in s.recent_errors
    )
    snapshot = replace(s, target=clean(s.target), recent_errors=samples)
    return replace(finished, snapshot=snapshot, reason=clean(finished.reason))


def _ms(value: float) -> float:
    return round(value, 3)


def _latency_dict(stats: LatencyStats) -> dict[str, float]:
    return {key: _ms(value) for key, value in stats.as_dict().items()}


def _unique_names(names: Iterable[str]) -> list[str]:
    """Request names as JSON keys: a repeated name gets " (2)", " (3)"..."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        n = seen.get(name, 0) + 1
        seen[name] = n
        out.append(name if n == 1 else f"{name} ({n})")
    return out


def summary_dict(snapshot: Snapshot, passed: bool, reason: str = "") -> dict[str, Any]:
    """The run as plain JSON-ready data (the ``--json`` document)."""
    s = snapshot
    open_model = s.model == "open"
    return {
        "version": REPORT_VERSION,
        "collection": s.collection,
        "scenario": s.scenario,
        "target": s.target,
        "model": s.model,
        "passed": passed,
        "reason": reason,
        "duration_s": round(s.elapsed_s, 3),
        "planned_s": round(s.planned_s, 3),
        "requests": s.requests,
        "successes": s.successes,
        "rps": round(s.mean_rps, 3),
        "error_rate": round(s.error_rate, 6),
        "latency_ms": _latency_dict(s.latency),
        "service_latency_ms": _latency_dict(s.service_latency),
        "scheduler_lag_ms": _latency_dict(s.scheduler_lag_ms) if open_model else None,
        "status_codes": {str(code): n for code, n in s.status_codes},
        "errors": {name: n for name, n in s.errors},
        "skipped": s.skipped,
        "bytes_in": s.bytes_in,
        "bytes_out": s.bytes_out,
        "phases": {
            "connect_mean_ms": _ms(s.phases.connect_mean_ms),
            "connect_p99_ms": _ms(s.phases.connect_p99_ms),
            "tls_mean_ms": _ms(s.phases.tls_mean_ms),
            "tls_p99_ms": _ms(s.phases.tls_p99_ms),
            "ttfb_mean_ms": _ms(s.phases.ttfb_mean_ms),
            "ttfb_p99_ms": _ms(s.phases.ttfb_p99_ms),
            "new_connections": s.phases.new_connections,
        },
        "per_request": {
            key: {
                "requests": r.requests,
                "rps": round(r.rps, 3),
                "errors": r.errors,
                "latency_ms": _latency_dict(r.latency),
                "status_codes": {str(code): n for code, n in r.status_codes},
            }
            for key, r in zip(
                _unique_names(r.name for r in s.per_request), s.per_request, strict=True
            )
        },
        "thresholds": [
            {"expr": t.expr, "value": t.value, "passed": t.passed} for t in s.thresholds
        ],
    }


def _write_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temp file in the same directory, fsync, rename."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(
    path: str | Path, snapshot: Snapshot | RunPlan, passed: bool | Finished, reason: str = ""
) -> None:
    """Write the JSON summary atomically. Also accepts ``(path, plan, finished)``."""
    snap, ok, why = _unpack(snapshot, passed, reason)
    _write_atomic(path, json.dumps(summary_dict(snap, ok, why), indent=2) + "\n")


def junit_xml(snapshot: Snapshot, passed: bool) -> str:
    """JUnit XML: one testcase per threshold (or one for the run when there are none)."""
    s = snapshot
    suite_name = f"deli-tui {s.collection} / {s.scenario}".strip()
    suites = ET.Element("testsuites", name="deli-tui")
    suite = ET.SubElement(suites, "testsuite", name=suite_name, time=f"{s.elapsed_s:.3f}")
    props = ET.SubElement(suite, "properties")
    for key, value in (
        ("target", s.target),
        ("model", s.model),
        ("requests", s.requests),
        ("rps", f"{s.mean_rps:.3f}"),
        ("error_rate", f"{s.error_rate:.6f}"),
        ("p95_ms", f"{s.latency.p95_ms:.3f}"),
        ("p99_ms", f"{s.latency.p99_ms:.3f}"),
    ):
        ET.SubElement(props, "property", name=key, value=str(value))
    failures = 0
    cases: list[tuple[str, str | None]] = []
    for t in s.thresholds:
        if t.passed is True:
            cases.append((t.expr, None))
        elif t.passed is None:
            cases.append((t.expr, "no data to judge the threshold"))
        else:
            cases.append((t.expr, f"{t.expr}: measured {_threshold_value(t)}"))
    if not s.thresholds:
        cases.append(("run passed", None if passed else "the run did not pass"))
    for name, failure in cases:
        case = ET.SubElement(suite, "testcase", classname="deli-tui.thresholds", name=name)
        case.set("time", f"{s.elapsed_s:.3f}")
        if failure is not None:
            failures += 1
            ET.SubElement(case, "failure", message=failure, type="threshold").text = failure
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suites.set("tests", str(len(cases)))
    suites.set("failures", str(failures))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


def write_junit(
    path: str | Path, snapshot: Snapshot | RunPlan, passed: bool | Finished, reason: str = ""
) -> None:
    """Write the JUnit XML atomically. Also accepts ``(path, plan, finished)``."""
    snap, ok, _ = _unpack(snapshot, passed, reason)
    _write_atomic(path, junit_xml(snap, ok) + "\n")


# --- the end-of-test summary table ------------------------------------------------------------


def request_cells(r: RequestStats) -> tuple[str, ...]:
    """One request's row of the per-request tables (summary and HTML): name, requests,
    req/s, errors, p50, p95, p99, max."""
    lat = r.latency
    return (
        r.name,
        str(r.requests),
        f"{r.rps:.1f}",
        str(r.errors),
        format_ms(lat.p50_ms),
        format_ms(lat.p95_ms),
        format_ms(lat.p99_ms),
        format_ms(lat.max_ms),
    )


def format_ms(ms: float) -> str:
    """A latency for people: 850us, 12.34ms, 1.50s."""
    if ms < 1.0:
        return f"{ms * 1000.0:.0f}us"
    if ms < 1000.0:
        return f"{ms:.2f}ms"
    return f"{ms / 1000.0:.2f}s"


def format_bytes(n: float) -> str:
    """Decimal units, as network tools print them: 512 B, 1.2 kB, 3.4 MB."""
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000.0 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000.0
    return f"{n:.1f} GB"  # pragma: no cover - loop always returns


def _threshold_value(t: ThresholdResult) -> str:
    if t.value is None:
        return "no data"
    try:
        from engine.thresholds import LATENCY_METRICS, parse_threshold

        metric = parse_threshold(t.expr).metric
    except (ImportError, ValueError):
        return f"{t.value:g}"
    if metric in LATENCY_METRICS:
        return format_ms(t.value)
    if metric == "error_rate":
        return f"{t.value * 100.0:.2f}%"
    if metric == "rps":
        return f"{t.value:.1f}/s"
    return f"{t.value:.0f}"


def _marks() -> tuple[str, str, str]:
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


def summary_table(
    snapshot: Snapshot | RunPlan,
    passed: bool | Finished,
    reason: str = "",
    *,
    marks: tuple[str, str, str] | None = None,
) -> str:
    """The end-of-test summary as plain text (k6-style). Also accepts ``(plan, finished)``."""
    s, ok, why = _unpack(snapshot, passed, reason)
    good, bad, none = marks or _marks()
    lines = [
        f"  deli-tui  {s.collection} / {s.scenario}  ->  {s.target}",
        f"  {s.model} model, {s.elapsed_s:.1f}s" + (f" ({why})" if why else ""),
        "",
    ]
    if s.thresholds:
        lines.append("  thresholds")
        for t in s.thresholds:
            mark = good if t.passed else (none if t.passed is None else bad)
            lines.append(f"    {mark} {t.expr:<30} {_threshold_value(t)}")
        lines.append("")
    duration = s.elapsed_s if s.elapsed_s > 0 else 0.0
    errors = ", ".join(f"{name} {n}" for name, n in _ordered_errors(s.errors))
    rows = [
        ("requests", f"{s.requests:<10} {s.mean_rps:.1f}/s"),
        ("successes", f"{s.successes:<10} {_percent(s.successes, s.requests)}"),
        ("errors", f"{s.error_count:<10} {_percent(s.error_count, s.requests)}")
        if not errors
        else ("errors", f"{s.error_count:<10} {_percent(s.error_count, s.requests)}  ({errors})"),
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
    if p.new_connections:
        rows.append(
            (
                "connections",
                f"{p.new_connections} new, connect mean={format_ms(p.connect_mean_ms)}"
                f" p99={format_ms(p.connect_p99_ms)}"
                + (
                    f", tls mean={format_ms(p.tls_mean_ms)} p99={format_ms(p.tls_p99_ms)}"
                    if p.tls_mean_ms
                    else ""
                ),
            )
        )
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
    if len(s.per_request) > 1 or (s.per_request and s.per_request[0].errors):
        lines.append("")
        header = ("request", "reqs", "rps", "errors", "p50", "p95", "p99", "max")
        table_rows = [request_cells(r) for r in s.per_request]
        lines += _table(header, table_rows)
    lines += ["", f"  {good if ok else bad} {'passed' if ok else 'FAILED'}"]
    return "\n".join(line.rstrip() for line in lines)


def _percent(part: int, whole: int) -> str:
    return f"{part * 100.0 / whole:.2f}%" if whole else "-"


def _ordered_errors(errors: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    order = {name: i for i, name in enumerate(ERROR_CLASSES)}
    return sorted(errors, key=lambda e: order.get(e[0], len(order)))
