"""Durations as people write them (``500ms``, ``10s``, ``1m30s``, ``2h``) and back again."""

from __future__ import annotations

import math
import re

# Seconds per unit; the longest unit names come first so "ms" is not read as "m" + "s".
_UNITS: dict[str, float] = {
    "h": 3600.0,
    "m": 60.0,
    "s": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "µs": 1e-6,
    "ns": 1e-9,
}
# Divisors for the sub-second units, so "100ms" gives exactly the float 0.1.
_DIVISORS: dict[str, float] = {"ms": 1e3, "us": 1e6, "µs": 1e6, "ns": 1e9}
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_PART = re.compile(rf"({_NUMBER})\s*(ms|us|µs|ns|h|m|s)", re.IGNORECASE)
_WHOLE = re.compile(rf"^(?:\s*{_NUMBER}\s*(?:ms|us|µs|ns|h|m|s))+\s*$", re.IGNORECASE)
_BARE = re.compile(rf"^\s*{_NUMBER}\s*$")

DURATION_HINT = "use e.g. 500ms, 10s, 1m30s"


def parse_duration(text: str | int | float) -> float:
    """Seconds in ``text`` (``500ms``, ``10s``, ``1m30s``, ``2h``); a bare number is seconds."""
    if isinstance(text, bool):
        raise ValueError(f"{text!r} is not a duration; {DURATION_HINT}")
    if isinstance(text, int | float):
        if not math.isfinite(text) or text < 0:
            raise ValueError(f"{text!r} is not a duration; {DURATION_HINT} (not negative)")
        return float(text)
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a duration; {DURATION_HINT}")
    if _BARE.match(text):
        return float(text)
    if not _WHOLE.match(text):
        raise ValueError(f"{text!r} is not a duration; {DURATION_HINT}")
    total = 0.0
    for number, unit in _PART.findall(text):
        unit = unit.lower()
        if unit in _DIVISORS:
            total += float(number) / _DIVISORS[unit]
        else:
            total += float(number) * _UNITS[unit]
    return total


def _trim(value: float) -> str:
    """A number without trailing zeros: 2.5 -> "2.5", 2.0 -> "2"."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def format_duration(seconds: float) -> str:
    """A compact form of ``seconds``: ``1m30s``, ``500ms``, ``2.5s``, ``250us``, ``1h``."""
    if seconds < 0:
        return "-" + format_duration(-seconds)
    if seconds == 0:
        return "0s"
    if seconds < 1e-3:
        return f"{_trim(seconds * 1e6)}us"
    if seconds < 1:
        return f"{_trim(seconds * 1e3)}ms"
    if seconds < 60:
        return f"{_trim(seconds)}s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(f"{int(hours)}h")
    if minutes:
        parts.append(f"{int(minutes)}m")
    if secs >= 0.0005:
        parts.append(f"{_trim(secs)}s")
    return "".join(parts)


def exact_duration_text(seconds: float) -> str | float:
    """``format_duration`` when it reads back to exactly ``seconds``, else the bare number."""
    text = format_duration(seconds)
    try:
        if parse_duration(text) == seconds:
            return text
    except ValueError:
        pass
    return seconds


def parse_think_time(text: str | int | float) -> tuple[float, float]:
    """``(low, high)`` seconds from ``100ms`` (fixed) or ``100ms..300ms`` (uniform range)."""
    if isinstance(text, str) and ".." in text:
        low_text, _, high_text = text.partition("..")
        try:
            low, high = parse_duration(low_text), parse_duration(high_text)
        except ValueError:
            raise ValueError(
                f"{text!r} is not a think time; use e.g. 100ms or 100ms..300ms"
            ) from None
        if low > high:
            raise ValueError(f"think time {text!r} goes down; write the smaller value first")
        return (low, high)
    try:
        value = parse_duration(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a think time; use e.g. 100ms or 100ms..300ms") from None
    return (value, value)
