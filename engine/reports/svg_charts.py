"""The HTML report's charts as inline SVG: the latency histogram with its percentiles marked,
throughput over time, and a stress run's steps. Each chart is a fixed 720 x 200 view box whose
labels stay inside it; numbers are written in the app's units."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from engine.metrics.histogram import bucket_bounds
from engine.run.protocol import LatencyStats, StressProgress
from engine.thresholds import parse_threshold
from engine.units import format_ms

HIST_BINS = 48
CHART_W, CHART_H = 720, 200
PAD_L, PAD_B, PAD_T, PAD_R = 56, 28, 10, 10


def esc(value: object) -> str:
    return escape(str(value), quote=True)


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


def nice_max(value: float) -> float:
    """A round axis top at or above ``value`` (1, 2, 5 x 10^n)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def frame(y_max: float, y_label: str) -> list[str]:
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
        f'{PAD_T + plot_h / 2:.0f})" text-anchor="middle">{esc(y_label)}</text>'
    )
    return parts


def x_label(x: float, text: str) -> str:
    """An x-axis label under ``x``: centred, or ending at ``x`` at the right edge so that it
    stays inside the chart."""
    anchor = "end" if x >= CHART_W - PAD_R - 1 else "middle"
    return f'<text x="{x:.1f}" y="{CHART_H - 8}" text-anchor="{anchor}">{esc(text)}</text>'


def _x_of(value_us: float, low_us: float, high_us: float) -> float:
    """Where a latency falls on a log axis from ``low_us`` to ``high_us``."""
    span = math.log(high_us) - math.log(low_us)
    frac = (math.log(max(value_us, low_us)) - math.log(low_us)) / span if span > 0 else 0.0
    return PAD_L + min(max(frac, 0.0), 1.0) * (CHART_W - PAD_L - PAD_R)


def _markers(stats: LatencyStats, low_us: float, high_us: float) -> list[str]:
    """Dashed lines at p50, p95 and p99, each labelled at its own height."""
    parts = []
    marks = (("p50", stats.p50_ms), ("p95", stats.p95_ms), ("p99", stats.p99_ms))
    for n, (name, ms) in enumerate(marks):
        if ms <= 0:
            continue
        x = _x_of(ms * 1000.0, low_us, high_us)
        label = f"{name} {format_ms(ms)}"
        parts.append(
            f'<line class="mark" x1="{x:.1f}" y1="{PAD_T}" x2="{x:.1f}" y2="{CHART_H - PAD_B}">'
            f"<title>{esc(label)}</title></line>"
        )
        # right of the line, unless that would run past the right edge
        right = x + 4 + len(label) * 6.5 <= CHART_W - PAD_R
        anchor, dx = ("start", 4) if right else ("end", -4)
        parts.append(
            f'<text class="mark-label" x="{x + dx:.1f}" y="{PAD_T + 10 + 12 * n}" '
            f'text-anchor="{anchor}">{esc(label)}</text>'
        )
    return parts


def histogram_svg(hist: Sequence[tuple[int, int]], stats: LatencyStats | None = None) -> str:
    """Bars of the latency distribution on a log time axis, with p50, p95 and p99 marked."""
    bins = histogram_bins(hist)
    if not bins:
        return '<p class="na">no latency data</p>'
    top = nice_max(max(c for _, _, c in bins))
    plot_w = CHART_W - PAD_L - PAD_R
    plot_h = CHART_H - PAD_T - PAD_B
    width = plot_w / len(bins)
    parts = frame(top, "requests")
    for k, (lo, hi, count) in enumerate(bins):
        if not count:
            continue
        h = count / top * plot_h
        x = PAD_L + k * width
        parts.append(
            f'<rect class="bar" x="{x + 0.5:.1f}" y="{CHART_H - PAD_B - h:.1f}" '
            f'width="{max(width - 1, 1):.1f}" height="{h:.1f}"><title>'
            f"{esc(format_ms(lo / 1000))} - {esc(format_ms(hi / 1000))}: {count}</title></rect>"
        )
    for k in (0, len(bins) // 2, len(bins)):
        edge = bins[k][0] if k < len(bins) else bins[-1][1]
        parts.append(x_label(PAD_L + k * width, format_ms(edge / 1000)))
    if stats is not None and stats.count:
        parts += _markers(stats, bins[0][0], bins[-1][1])
    return svg(parts, "Latency histogram")


def throughput_svg(
    rps: Sequence[float], errors: Sequence[int], end_s: float, window_s: float
) -> str:
    """Requests per second per window as a line, errors per window as red bars beneath."""
    if not rps:
        return '<p class="na">no throughput data</p>'
    top = nice_max(max(rps))
    plot_w = CHART_W - PAD_L - PAD_R
    plot_h = CHART_H - PAD_T - PAD_B
    n = len(rps)
    step = plot_w / max(n - 1, 1)
    parts = frame(top, "req/s")
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
    for k in sorted({0, n - 1}):
        parts.append(x_label(PAD_L + k * step, f"{start_s + k * window_s:.1f}s"))
    return svg(parts, "Throughput over time")


def stress_svg(stress: StressProgress) -> str:
    """The step chart: each step's p95 as a bar over its load, held or broke, and the p95
    limit of ``until`` as a dashed line."""
    steps = stress.judged
    if not steps:
        return '<p class="na">no step was judged</p>'
    limit = next(
        (parse_threshold(e).limit for e in stress.until if parse_threshold(e).metric == "p95"),
        None,
    )
    top = nice_max(max([s.p95_ms for s in steps] + [limit or 0.0]) * 1.1)
    plot_w = CHART_W - PAD_L - PAD_R
    plot_h = CHART_H - PAD_T - PAD_B
    width = plot_w / len(steps)
    unit = "/s" if stress.over == "rate" else " users"
    parts = frame(top, "p95 (ms)")
    for k, step in enumerate(steps):
        h = step.p95_ms / top * plot_h
        x = PAD_L + k * width
        cls = "bar" if step.held else "err"
        parts.append(
            f'<rect class="{cls}" x="{x + 1:.1f}" y="{CHART_H - PAD_B - h:.1f}" '
            f'width="{max(width - 2, 1):.1f}" height="{h:.1f}"><title>{step.load:g}{unit}: p95 '
            f"{esc(format_ms(step.p95_ms))}, {'held' if step.held else 'broke'}</title></rect>"
        )
    every = max(1, math.ceil(len(steps) / 12))
    for k, step in enumerate(steps):
        if k % every and k != len(steps) - 1:
            continue
        x = PAD_L + (k + 0.5) * width
        parts.append(
            f'<text x="{x:.1f}" y="{CHART_H - 8}" text-anchor="middle">{step.load:g}</text>'
        )
    if limit:
        y = CHART_H - PAD_B - min(limit / top, 1.0) * plot_h
        parts.append(
            f'<line class="mark" x1="{PAD_L}" y1="{y:.1f}" x2="{CHART_W - PAD_R}" y2="{y:.1f}"/>'
            f'<text class="mark-label" x="{CHART_W - PAD_R - 3}" y="{y - 4:.1f}" '
            f'text-anchor="end">p95 limit {esc(format_ms(limit))}</text>'
        )
    return svg(parts, f"p95 per step of load ({stress.over})")


def svg(parts: list[str], title: str) -> str:
    return (
        f'<svg viewBox="0 0 {CHART_W} {CHART_H}" width="{CHART_W}" height="{CHART_H}" '
        f'role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>{"".join(parts)}</svg>'
    )
