"""Thresholds such as ``p95 < 300ms`` or ``error_rate < 1%``: parsed once, judged on each snapshot.

Latency values are compared in milliseconds, error rates as fractions, ``rps`` as the mean
requests per second of the run. ``p95[Get user] < 300ms`` judges one request by name.
"""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from engine.durations import parse_duration
from engine.run.protocol import LatencyStats, RequestStats, Snapshot, ThresholdResult

# Latency metric -> LatencyStats attribute.
LATENCY_METRICS: dict[str, str] = {
    "p50": "p50_ms",
    "p75": "p75_ms",
    "p90": "p90_ms",
    "p95": "p95_ms",
    "p99": "p99_ms",
    "p99.9": "p99_9_ms",
    "p99_9": "p99_9_ms",
    "min": "min_ms",
    "mean": "mean_ms",
    "avg": "mean_ms",
    "med": "p50_ms",
    "max": "max_ms",
}
COUNT_METRICS = ("requests", "errors", "skipped")
METRICS: tuple[str, ...] = (*LATENCY_METRICS, "error_rate", "rps", *COUNT_METRICS)

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}
_EXPR = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][A-Za-z0-9_.]*)\s*"
    r"(?:\[(?P<request>[^\]]*)\])?\s*"
    r"(?P<op><=|>=|==|<|>|=)\s*"
    r"(?P<value>.*?)\s*$"
)
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
EXAMPLES = "e.g. 'p95 < 300ms', 'error_rate < 1%', 'rps > 100', 'p99[Get user] < 1s'"
# Judged when a scenario sets no thresholds, so a run where everything fails does not pass;
# ``thresholds: []`` in the scenario or ``--no-default-thresholds`` turns it off.
DEFAULT_THRESHOLDS: tuple[str, ...] = ("error_rate < 1%",)


@dataclass(frozen=True, slots=True)
class Threshold:
    """One parsed threshold. ``limit`` is in ms for latency, a fraction for error_rate."""

    expr: str
    metric: str
    op: str
    limit: float
    request: str | None = None

    def check(self, value: float) -> bool:
        return _OPS[self.op](value, self.limit)


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"did you mean {close[0]!r}? " if close else ""


def _latency_limit(value: str, expr: str) -> float:
    if _NUMBER.match(value):
        return float(value)
    try:
        return parse_duration(value) * 1000.0
    except ValueError:
        raise ValueError(
            f"threshold {expr!r}: {value!r} is not a latency; use a number with a unit, "
            "e.g. 300ms, 1.5s, 800us (ms if no unit)"
        ) from None


def _rate_limit(value: str, expr: str) -> float:
    if value.endswith("%") and _NUMBER.match(value[:-1].strip()):
        return float(value[:-1]) / 100.0
    if _NUMBER.match(value) and 0.0 <= float(value) <= 1.0:
        return float(value)
    raise ValueError(
        f"threshold {expr!r}: {value!r} is not an error rate; write a percentage or a "
        "fraction, e.g. 1% or 0.01"
    )


def _plain_limit(metric: str, value: str, expr: str) -> float:
    text = value.removesuffix("/s").strip() if metric == "rps" else value
    if _NUMBER.match(text):
        return float(text)
    unit = (
        "requests per second, e.g. rps > 100" if metric == "rps" else f"a count, e.g. {metric} > 0"
    )
    raise ValueError(f"threshold {expr!r}: {value!r} is not a number; expected {unit}")


@lru_cache(maxsize=256)
def parse_threshold(expr: str) -> Threshold:
    """Parse ``METRIC[request] OP VALUE``; raises ValueError saying what was expected."""
    if not isinstance(expr, str):
        raise ValueError(f"threshold {expr!r} is not text; write it like {EXAMPLES}")
    m = _EXPR.match(expr)
    if m is None:
        raise ValueError(f"threshold {expr!r} does not parse; write METRIC OP VALUE, {EXAMPLES}")
    metric = m["metric"].lower()
    op = m["op"]
    value = m["value"]
    request = m["request"]
    if op == "=":
        raise ValueError(f"threshold {expr!r}: use '==' to compare, not '='")
    if metric not in METRICS:
        raise ValueError(
            f"threshold {expr!r}: unknown metric {m['metric']!r}; {_suggest(metric, METRICS)}"
            f"metrics are {', '.join(METRICS)}"
        )
    if request is not None:
        request = request.strip()
        if not request:
            raise ValueError(f"threshold {expr!r}: empty request name in [...]")
        if metric == "skipped":
            raise ValueError(f"threshold {expr!r}: 'skipped' is counted for the whole run only")
    if not value:
        raise ValueError(f"threshold {expr!r}: missing the value after {op!r}; {EXAMPLES}")
    if metric in LATENCY_METRICS:
        limit = _latency_limit(value, expr)
    elif metric == "error_rate":
        limit = _rate_limit(value, expr)
    else:
        limit = _plain_limit(metric, value, expr)
    return Threshold(expr=expr, metric=metric, op=op, limit=limit, request=request)


def _metric_value(t: Threshold, snapshot: Snapshot) -> float | None:
    """The metric's current value, or None when there is nothing to judge yet."""
    latency: LatencyStats
    if t.request is not None:
        stats: RequestStats | None = next(
            (r for r in snapshot.per_request if r.name == t.request), None
        )
        if stats is None or stats.requests == 0:
            return None
        requests, errors, rps, latency = stats.requests, stats.errors, stats.rps, stats.latency
    else:
        if snapshot.requests == 0 and not (t.metric == "skipped" and snapshot.skipped):
            return None
        requests, errors, rps = snapshot.requests, snapshot.error_count, snapshot.mean_rps
        latency = snapshot.latency
    if t.metric in LATENCY_METRICS:
        return float(getattr(latency, LATENCY_METRICS[t.metric]))
    if t.metric == "error_rate":
        return errors / requests if requests else 0.0
    if t.metric == "rps":
        return float(rps)
    if t.metric == "requests":
        return float(requests)
    if t.metric == "errors":
        return float(errors)
    return float(snapshot.skipped)


def evaluate_thresholds(
    exprs: Sequence[str], snapshot: Snapshot, default: bool = False
) -> tuple[ThresholdResult, ...]:
    """Judge every threshold on ``snapshot``; value and passed are None while there is no
    data. ``default``: these are the default thresholds, marked so in every report."""
    results = []
    for expr in exprs:
        try:
            threshold = parse_threshold(expr)
        except ValueError:
            results.append(ThresholdResult(expr, None, False, default))
            continue
        value = _metric_value(threshold, snapshot)
        passed = None if value is None else threshold.check(value)
        results.append(ThresholdResult(expr, value, passed, default))
    return tuple(results)


def thresholds_passed(results: Iterable[ThresholdResult], final: bool = False) -> bool:
    """True when no threshold failed. At the end (``final``) one never judged counts as failed."""
    for result in results:
        if result.passed is False:
            return False
        if result.passed is None and final:
            return False
    return True
