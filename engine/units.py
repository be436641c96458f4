"""How deli-tui writes numbers for people: one unit system for the CLI, the reports and the app.

Latencies keep three significant digits in the unit that keeps them short (``850us``,
``12.3ms``, ``1.50s``); sizes use binary units (``512 B``, ``1.2 KiB``, ``3.4 MiB``); rates
and counts shorten past ten thousand (``12.3k``). Exact values stay in the JSON report.
"""

from __future__ import annotations


def format_ms(ms: float) -> str:
    """A latency given in milliseconds: ``850us``, ``4.56ms``, ``12.3ms``, ``250ms``, ``1.50s``."""
    if ms <= 0:
        return "0"
    # Each bound is where rounding would carry into the next unit or digit (0.9996 ms is
    # 1.00ms, not 1000us).
    if ms < 0.9995:
        return f"{ms * 1000:.0f}us"
    if ms < 999.5:
        return f"{ms:.2f}ms" if ms < 9.995 else f"{ms:.1f}ms" if ms < 99.95 else f"{ms:.0f}ms"
    s = ms / 1000
    return f"{s:.2f}s" if s < 9.995 else f"{s:.1f}s" if s < 99.95 else f"{s:.0f}s"


def format_us(us: float) -> str:
    """A latency given in microseconds (the histogram's unit), written as ``format_ms``."""
    return format_ms(us / 1000.0)


def format_count(n: float) -> str:
    """A count in at most ~6 characters: ``999``, ``12.3k``, ``4.56M``."""
    if n < 10_000:
        return f"{n:.0f}"
    if n < 1_000_000:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.2f}M"


def format_rate(per_s: float) -> str:
    """A rate per second without its unit: ``12.3``, ``1234``, ``12.3k``."""
    if per_s < 100:
        return f"{per_s:.1f}"
    return format_count(per_s)


def format_bytes(n: float) -> str:
    """A size in binary units: ``512 B``, ``1.2 KiB``, ``3.4 MiB``, ``1.0 GiB``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def format_percent(part: float, whole: float) -> str:
    """``part`` as a share of ``whole``: ``1.25%``; ``-`` when ``whole`` is 0."""
    return f"{part * 100.0 / whole:.2f}%" if whole else "-"


def format_elapsed(seconds: float) -> str:
    """Elapsed or planned run time: ``42s``, ``3m05s``, ``1h02m``."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"
