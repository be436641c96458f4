"""A self-contained HTML report of a finished run: one file, inline CSS and SVG, no scripts.

Like the other reports it is derived from the final ``Snapshot`` alone: verdict, thresholds,
summary numbers, percentiles, the latency histogram (``cumulative_hist``, its percentiles
marked) and throughput over time (``rps_series``) drawn as inline SVG
(``engine.reports.svg_charts``), a stress run's steps, status codes, errors with sample
messages, and the per-request table. Nothing is fetched from elsewhere, so the file opens
anywhere, offline.
"""

from __future__ import annotations

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
from engine.reports.files import write_atomic
from engine.reports.svg_charts import esc, histogram_svg, stress_svg, throughput_svg
from engine.run.protocol import Finished, LatencyStats, Snapshot, StressProgress, run_verdict
from engine.units import format_bytes, format_ms, format_percent, format_rate

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f6f7f9;
color:#1d2329}
main{max-width:960px;margin:0 auto;padding:24px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.sub{color:#5b6670}.target{font-family:ui-monospace,monospace;word-break:break-all}
.verdict{display:inline-block;padding:4px 12px;border-radius:4px;font-weight:700;color:#fff}
.pass{background:#1f8a4c}.fail{background:#c0392b}.none{background:#7f8c8d}
.ok{color:#1f8a4c;font-weight:600}.bad{color:#c0392b;font-weight:600}.na{color:#7f8c8d}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px}
.card{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:10px}
.card b{display:block;font-size:18px}.card span{color:#5b6670;font-size:12px}
table{border-collapse:collapse;background:#fff;width:100%;border:1px solid #dde1e6}
th,td{padding:5px 8px;border-bottom:1px solid #eef0f2;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#eef0f2;font-weight:600}
td.msg{text-align:left;font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
svg{background:#fff;border:1px solid #dde1e6;border-radius:6px;max-width:100%;height:auto}
svg text{font:11px system-ui,sans-serif;fill:#5b6670}
.bar{fill:#3b7dd8}.line{fill:none;stroke:#3b7dd8;stroke-width:2}.err{fill:#c0392b}
.axis{stroke:#aab2ba;stroke-width:1}
.mark{stroke:#8e44ad;stroke-width:1;stroke-dasharray:4 3}svg text.mark-label{fill:#8e44ad}
"""


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], raw_last: bool = False) -> str:
    """An HTML table; cells are escaped except a last column already built as markup."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = [f"<td>{esc(c)}</td>" for c in row]
        if raw_last:
            cells[-1] = f'<td class="msg">{row[-1]}</td>'
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _card(label: str, value: str) -> str:
    return f'<div class="card"><b>{esc(value)}</b><span>{esc(label)}</span></div>'


def _stress_section(stress: StressProgress) -> str:
    """The steps of a stress run: the outcome, the step chart and the table of steps."""
    rows = [stress_step_cells(stress, step) for step in stress.judged]
    return (
        "<h2>Stress</h2>"
        f"<p><b>{esc(stress_outcome(stress))}</b></p>"
        f'<p class="sub">steps of {stress.step_s:g}s over {esc(stress.over)}, the first '
        f"{stress.warmup_s:g}s of each left out &middot; a step breaks when "
        f"{esc(' or '.join(stress.until))}</p>" + stress_svg(stress) + _table(STRESS_HEADER, rows)
    )


def _latency_row(label: str, stats: LatencyStats) -> list[str]:
    names = ("min", "mean", "p50", "p90", "p95", "p99", "p99_9", "max")
    return [label, str(stats.count), *(format_ms(getattr(stats, f"{n}_ms")) for n in names)]


def _thresholds(s: Snapshot) -> str:
    if not s.thresholds:
        return '<p class="na">no thresholds</p>'
    rows = []
    for t in s.thresholds:
        mark = "pass" if t.passed else ("no data" if t.passed is None else "FAIL")
        cls = "ok" if t.passed else ("na" if t.passed is None else "bad")
        rows.append(
            f"<tr><td>{esc(threshold_label(t))}</td>"
            f'<td>{esc(threshold_value(t))}</td><td class="{cls}">'
            f"{mark}</td></tr>"
        )
    return (
        "<table><thead><tr><th>threshold</th><th>measured</th><th>result</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _errors(s: Snapshot) -> str:
    if not s.errors:
        return '<p class="ok">no errors</p>'
    counts = _table(
        ("error class", "count", "share of requests"),
        [(name, str(n), format_percent(n, s.requests)) for name, n in ordered_errors(s.errors)],
    )
    if s.error_messages:
        counts += "<h3>Error distribution</h3>" + _table(
            ("count", "class", "message"),
            [(str(n), cls, esc(text)) for cls, text, n in s.error_messages],
            raw_last=True,
        )
    if not s.recent_errors:
        return counts
    samples = _table(
        ("at", "request", "class", "status", "message"),
        [
            (f"{e.elapsed_s:.3f}s", e.request, e.error_class, str(e.status or ""), esc(e.message))
            for e in s.recent_errors
        ],
        raw_last=True,
    )
    return counts + "<h3>Recent error samples</h3>" + samples


def _workers(s: Snapshot) -> list[str]:
    """The workers section, for a run on a cluster (or one that lost a worker)."""
    if not any(w.clock_offset_ms is not None or w.state == "lost" for w in s.workers):
        return []
    rows = [
        (
            str(w.worker_id),
            w.node,
            w.state,
            str(w.requests),
            "" if w.lost_at_s is None else f"lost at {w.lost_at_s:.1f}s: {w.reason}",
        )
        for w in s.workers
    ]
    return ["<h2>Workers</h2>", _table(("worker", "node", "state", "requests", "lost"), rows)]


def html_report(snapshot: Snapshot, passed: bool, reason: str = "", window_s: float = 0.5) -> str:
    """The whole report as one HTML document."""
    s = snapshot
    verdict = {
        "passed": ("pass", "PASSED"),
        "failed": ("fail", "FAILED"),
        "stopped": ("none", "STOPPED"),
    }[run_verdict(passed, reason)]
    title = f"deli-tui {s.collection} / {s.scenario}"
    duration = s.elapsed_s if s.elapsed_s > 0 else 0.0
    cards = [
        ("requests", str(s.requests)),
        ("req/s (mean)", format_rate(s.mean_rps)),
        ("successes", f"{s.successes} ({format_percent(s.successes, s.requests)})"),
        ("errors", f"{s.error_count} ({format_percent(s.error_count, s.requests)})"),
        ("p50", format_ms(s.latency.p50_ms)),
        ("p95", format_ms(s.latency.p95_ms)),
        ("p99", format_ms(s.latency.p99_ms)),
        ("max", format_ms(s.latency.max_ms)),
        ("data received", format_bytes(s.bytes_in)),
        ("data sent", format_bytes(s.bytes_out)),
        ("new connections", str(s.phases.new_connections)),
        ("duration", f"{duration:.1f}s"),
    ]
    if s.model == "open" or s.skipped:
        cards.append(("skipped sends", str(s.skipped)))
    lat_rows = [_latency_row("latency", s.latency)]
    if s.model == "open":
        lat_rows += [
            _latency_row("service time", s.service_latency),
            _latency_row("scheduler lag", s.scheduler_lag_ms),
        ]
    statuses = _table(
        ("status", "count", "share"),
        [(str(code), str(n), format_percent(n, s.requests)) for code, n in s.status_codes],
    )
    per_request = _table(
        ("request", "requests", "req/s", "errors", "p50", "p95", "p99", "max", "statuses"),
        [
            (*request_cells(r), ", ".join(f"{code} x{n}" for code, n in r.status_codes))
            for r in s.per_request
        ],
    )
    sections = [
        f"<header><h1>{esc(title)}</h1>",
        f'<p class="sub">target <span class="target">{esc(s.target)}</span> &middot; '
        f"{esc(s.model)} model &middot; {duration:.1f}s"
        + (f" &middot; {esc(reason)}" if reason else "")
        + "</p>",
        f'<p><span class="verdict {verdict[0]}">{verdict[1]}</span></p></header>',
        _stress_section(s.stress) if s.stress is not None else "",
        "<h2>Thresholds</h2>",
        _thresholds(s),
        "<h2>Summary</h2>",
        '<div class="grid">' + "".join(_card(label, value) for label, value in cards) + "</div>",
        "<h2>Percentiles</h2>",
        _table(("", "count", "min", "mean", "p50", "p90", "p95", "p99", "p99.9", "max"), lat_rows),
        "<h2>Latency histogram</h2>",
        histogram_svg(s.cumulative_hist, s.latency),
        "<h2>Throughput over time</h2>",
        throughput_svg(s.rps_series, s.error_series, s.elapsed_s, window_s),
        "<h2>Status codes</h2>",
        statuses if s.status_codes else '<p class="na">no responses</p>',
        "<h2>Errors</h2>",
        _errors(s),
        "<h2>Requests</h2>",
        per_request,
        *_workers(s),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{''.join(sections)}</main></body></html>\n"
    )


def write_html(
    path: str, snapshot: Snapshot | RunPlan, passed: bool | Finished, reason: str = ""
) -> None:
    """Write the HTML report atomically. Also accepts ``(path, plan, finished)``."""
    snap, ok, why = unpack_run(snapshot, passed, reason)
    window_s = snapshot.window_s if isinstance(snapshot, RunPlan) else 0.5
    write_atomic(path, html_report(snap, ok, why, window_s))
