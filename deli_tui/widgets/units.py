"""How the dashboard writes numbers: latencies, counts, rates and sizes in a few characters."""

from __future__ import annotations


def format_ms(ms: float) -> str:
    """A latency given in milliseconds, in the unit that keeps it short (us, ms, s)."""
    if ms <= 0:
        return "0"
    if ms < 1:
        return f"{ms * 1000:.0f}us"
    if ms < 10:
        return f"{ms:.2f}ms"
    if ms < 1000:
        return f"{ms:.1f}ms" if ms < 100 else f"{ms:.0f}ms"
    return f"{ms / 1000:.2f}s"


def format_us(us: float) -> str:
    """A latency given in microseconds (the histogram's unit)."""
    return format_ms(us / 1000.0)


def format_count(n: float) -> str:
    """A count in at most ~6 characters: 999, 12.3k, 4.56M."""
    if n < 10_000:
        return f"{n:.0f}"
    if n < 1_000_000:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.2f}M"


def format_rate(rps: float) -> str:
    """Requests per second."""
    if rps < 100:
        return f"{rps:.1f}"
    return format_count(rps)


def format_bytes(n: float) -> str:
    """A byte count with a binary unit."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024
    return f"{n:.1f}GiB"


def format_duration(seconds: float) -> str:
    """Elapsed or planned time: 42s, 3m05s, 1h02m."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"
