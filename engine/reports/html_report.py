"""A self-contained HTML report of a finished run: one file, inline CSS and SVG, no scripts.

Like the other reports it is derived from the final ``Snapshot`` alone: verdict, thresholds,
summary numbers, percentiles, the latency histogram (``cumulative_hist``) and throughput over
time (``rps_series``) drawn as inline SVG, status codes, errors with sample messages, and the
per-request table. Nothing is fetched from elsewhere, so the file opens anywhere, offline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from engine.metrics.histogram import bucket_bounds
from engine.plan.model import RunPlan
from engine.reports.cells import (
    ordered_errors,
    request_cells,
    threshold_label,
    threshold_value,
    unpack_run,
)
from engine.reports.files import write_atomic
from engine.run.protocol import Finished, LatencyStats, Snapshot, run_verdict
from engine.units import format_bytes, format_ms, format_percent, format_rate

HIST_BINS = 48
CHART_W, CHART_H = 720, 200
PAD_L, PAD_B, PAD_T, PAD_R = 56, 28, 10, 10

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
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], raw_last: bool = False) -> str:
    """An HTML table; cells are escaped except a last column already built as markup."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = [f"<td>{_e(c)}</td>" for c in row]
        if raw_last:
            cells[-1] = f'<td class="msg">{row[-1]}</td>'
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _card(label: str, value: str) -> str:
    return f'<div class="card"><b>{_e(value)}</b><span>{_e(label)}</span></div>'


def histogram_bins(
    hist: Sequence[tuple[int, int]], bins: int = HIST_BINS
) -> list[tuple[float, float, int]]:
    """The sparse histogram re-binned into ``bins`` log-spaced (low us, high us, count) bins
    spanning the recorded range; a bucket counts in the bin holding its midpoint."""
    if not hist:
        return []
    low = max(bucket_bounds(min(i for i, _ in hist))[0], 1)
    high = max(bucket_bounds(max(i for i, _ in hist))[1], low + 1)
    span = math.log(high) - math.log(low)
    edges = [low * math.exp(span * k / bins) for k in range(bins + 1)]
    counts = [0] * bins
    for index, count in hist:
        lo, hi = bucket_bounds(index)
        mid = max((lo + hi) / 2.0, low)
        k = int((math.log(mid) - math.log(low)) / span * bins) if span > 0 else 0
        counts[min(max(k, 0), bins - 1)] += count
    return [(edges[k], edges[k + 1], counts[k]) for k in range(bins)]


def _nice_max(value: float) -> float:
    """A round axis top at or above ``value`` (1, 2, 5 x 10^n)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def _frame(y_max: float, y_label: str) -> list[str]:
    """Axes, three gridline labels and the y-axis title of a chart."""
    plot_h = CHART_H - PAD_T - PAD_B
    parts = [
        f'<line class="axis" x1="{PAD_L}" y1="{PAD_T}" x2="{PAD_L}" y2="{CHART_H - PAD_B}"/>',
        f'<line class="axis" x1="{PAD_L}" y1="{CHART_H - PAD_B}" x2="{CHART_W - PAD_R}" '
        f'y2="{CHART_H - PAD_B}"/>',
    ]
    for frac in (0.0, 0.5, 1.0):
        y = CHART_H - PAD_B - frac * plot_h
        value = y_max * frac
        text = f"{value:.0f}" if y_max >= 10 else f"{value:.1f}"
        parts.append(f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end">{text}</text>')
    parts.append(
        f'<text x="12" y="{PAD_T + plot_h / 2:.0f}" transform="rotate(-90 12 '
        f'{PAD_T + plot_h / 2:.0f})" text-anchor="middle">{_e(y_label)}</text>'
    )
    return parts


def histogram_svg(hist: Sequence[tuple[int, int]]) -> str:
    """Bars of the latency distribution on a log time axis."""
    bins = histogram_bins(hist)
    if not bins:
        return '<p class="na">no latency data</p>'
    top = _nice_max(max(c for _, _, c in bins))
    plot_w = CHART_W - PAD_L - PAD_R
    plot_h = CHART_H - PAD_T - PAD_B
    width = plot_w / len(bins)
    parts = _frame(top, "requests")
    for k, (lo, hi, count) in enumerate(bins):
        if not count:
            continue
        h = count / top * plot_h
        x = PAD_L + k * width
        parts.append(
            f'<rect class="bar" x="{x + 0.5:.1f}" y="{CHART_H - PAD_B - h:.1f}" '
            f'width="{max(width - 1, 1):.1f}" height="{h:.1f}"><title>'
            f"{_e(format_ms(lo / 1000))} - {_e(format_ms(hi / 1000))}: {count}</title></rect>"
        )
    for k in (0, len(bins) // 2, len(bins)):
        edge = bins[k][0] if k < len(bins) else bins[-1][1]
        x = PAD_L + k * width
        parts.append(
            f'<text x="{x:.1f}" y="{CHART_H - 8}" text-anchor="middle">'
            f"{_e(format_ms(edge / 1000))}</text>"
        )
    return _svg(parts, "Latency histogram")


def throughput_svg(
    rps: Sequence[float], errors: Sequence[int], end_s: float, window_s: float
) -> str:
    """Requests per second per window as a line, errors per window as red bars beneath."""
    if not rps:
        return '<p class="na">no throughput data</p>'
    top = _nice_max(max(rps))
    plot_w = CHART_W - PAD_L - PAD_R
    plot_h = CHART_H - PAD_T - PAD_B
    n = len(rps)
    step = plot_w / max(n - 1, 1)
    parts = _frame(top, "req/s")
    per_s = 1.0 / window_s if window_s > 0 else 1.0
    for k, count in enumerate(errors[-n:] if errors else ()):
        if count:
            h = min(count * per_s / top, 1.0) * plot_h
            parts.append(
                f'<rect class="err" x="{PAD_L + k * step - 1.5:.1f}" y="{CHART_H - PAD_B - h:.1f}"'
                f' width="3" height="{h:.1f}"><title>{count} errors</title></rect>'
            )
    points = " ".join(
        f"{PAD_L + k * step:.1f},{CHART_H - PAD_B - v / top * plot_h:.1f}"
        for k, v in enumerate(rps)
    )
    parts.append(f'<polyline class="line" points="{points}"/>')
    start_s = max(end_s - (n - 1) * window_s, 0.0) if window_s > 0 else 0.0
    for k in (0, n - 1):
        x = PAD_L + k * step
        parts.append(
            f'<text x="{x:.1f}" y="{CHART_H - 8}" text-anchor="middle">'
            f"{start_s + k * window_s:.1f}s</text>"
        )
    return _svg(parts, "Throughput over time")


def _svg(parts: list[str], title: str) -> str:
    return (
        f'<svg viewBox="0 0 {CHART_W} {CHART_H}" width="{CHART_W}" height="{CHART_H}" '
        f'role="img" aria-label="{_e(title)}"><title>{_e(title)}</title>{"".join(parts)}</svg>'
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
            f"<tr><td>{_e(threshold_label(t))}</td>"
            f'<td>{_e(threshold_value(t))}</td><td class="{cls}">'
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
            [(str(n), cls, _e(text)) for cls, text, n in s.error_messages],
            raw_last=True,
        )
    if not s.recent_errors:
        return counts
    samples = _table(
        ("at", "request", "class", "status", "message"),
        [
            (f"{e.elapsed_s:.3f}s", e.request, e.error_class, str(e.status or ""), _e(e.message))
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
        f"<header><h1>{_e(title)}</h1>",
        f'<p class="sub">target <span class="target">{_e(s.target)}</span> &middot; '
        f"{_e(s.model)} model &middot; {duration:.1f}s"
        + (f" &middot; {_e(reason)}" if reason else "")
        + "</p>",
        f'<p><span class="verdict {verdict[0]}">{verdict[1]}</span></p></header>',
        "<h2>Thresholds</h2>",
        _thresholds(s),
        "<h2>Summary</h2>",
        '<div class="grid">' + "".join(_card(label, value) for label, value in cards) + "</div>",
        "<h2>Percentiles</h2>",
        _table(("", "count", "min", "mean", "p50", "p90", "p95", "p99", "p99.9", "max"), lat_rows),
        "<h2>Latency histogram</h2>",
        histogram_svg(s.cumulative_hist),
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
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{''.join(sections)}</main></body></html>\n"
    )


def write_html(
    path: str, snapshot: Snapshot | RunPlan, passed: bool | Finished, reason: str = ""
) -> None:
    """Write the HTML report atomically. Also accepts ``(path, plan, finished)``."""
    snap, ok, why = unpack_run(snapshot, passed, reason)
    window_s = snapshot.window_s if isinstance(snapshot, RunPlan) else 0.5
    write_atomic(path, html_report(snap, ok, why, window_s))
