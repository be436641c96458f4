"""``--fail-on`` rules: how much worse run B may be than run A before CI should fail.

``p95 +10%`` fails when B's p95 is more than 10% above A's; ``p95 +20ms`` when it is more
than 20 ms above; ``rps -5%`` when B's throughput is more than 5% below A's;
``error_rate +0.5pp`` when B's error rate is more than 0.5 percentage points above A's. A
request in brackets judges that request: ``p99[Get user] +15%``. The sign may be left out;
written, it must point the way the metric gets worse. A rule that cannot be judged (a run
has no such figure) fails: a CI gate must not pass on missing data.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from engine.durations import parse_duration
from engine.history.compare import Change, Comparison
from engine.units import format_ms, format_rate

Kind = Literal["relative", "absolute", "points"]

# metric as written -> (figure key in a saved run, the direction that is worse)
_LATENCY = {
    "p50": "p50",
    "med": "p50",
    "p75": "p75",
    "p90": "p90",
    "p95": "p95",
    "p99": "p99",
    "p99.9": "p99_9",
    "p99_9": "p99_9",
    "mean": "mean",
    "avg": "mean",
    "max": "max",
}
METRICS = (*_LATENCY, "rps", "error_rate")
_RULE = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][A-Za-z0-9_.]*)\s*(?:\[(?P<request>[^\]]*)\])?\s*"
    r"(?P<sign>[+-])?\s*(?P<amount>(?:\d+(?:\.\d*)?|\.\d+))\s*(?P<unit>%|pp|[A-Za-zµ/]+)?\s*$"
)
EXAMPLES = "e.g. 'p95 +10%', 'p99 +20ms', 'rps -5%', 'error_rate +0.5pp'"


@dataclass(frozen=True, slots=True)
class FailRule:
    """One parsed rule. ``limit``: a fraction (relative), ms or req/s (absolute), or a
    fraction of requests (points), always the allowed amount in the worse direction."""

    expr: str
    metric: str  # the figure key: p95, p99_9, rps, error_rate...
    kind: Kind
    limit: float
    request: str | None = None

    @property
    def worse_when_higher(self) -> bool:
        return self.metric != "rps"


@dataclass(frozen=True, slots=True)
class RuleResult:
    """A rule judged on a comparison: ``failed`` and the figures that decided it."""

    rule: FailRule
    failed: bool
    a: float | None
    b: float | None
    detail: str


def parse_fail_on(expr: str) -> FailRule:
    """Parse one ``--fail-on`` rule; ``ValueError`` says what was expected."""
    m = _RULE.match(expr)
    if m is None:
        raise ValueError(f"--fail-on {expr!r} does not parse; write METRIC CHANGE, {EXAMPLES}")
    written = m["metric"].lower()
    if written not in METRICS:
        raise ValueError(
            f"--fail-on {expr!r}: unknown metric {m['metric']!r}; metrics are {', '.join(METRICS)}"
        )
    request = m["request"]
    if request is not None:
        request = request.strip()
        if not request:
            raise ValueError(f"--fail-on {expr!r}: empty request name in [...]")
    amount = float(m["amount"])
    unit = m["unit"] or ""
    higher_is_worse = written != "rps"
    sign = m["sign"]
    if sign is not None and (sign == "+") != higher_is_worse:
        worse = "rises" if higher_is_worse else "drops"
        right = "+" if higher_is_worse else "-"
        raise ValueError(
            f"--fail-on {expr!r}: {written} gets worse when it {worse}; write "
            f"{written} {right}{m['amount']}{unit}"
        )
    kind: Kind
    if unit == "%":
        if written == "error_rate":
            raise ValueError(
                f"--fail-on {expr!r}: error rate changes are in percentage points, "
                f"e.g. error_rate +{m['amount']}pp"
            )
        kind, limit = "relative", amount / 100.0
    elif unit == "pp":
        if written != "error_rate":
            raise ValueError(f"--fail-on {expr!r}: 'pp' (percentage points) is for error_rate")
        kind, limit = "points", amount / 100.0
    elif written == "rps":
        if unit not in ("", "/s"):
            raise ValueError(f"--fail-on {expr!r}: write rps changes as -5% or -100/s")
        kind, limit = "absolute", amount
    elif written == "error_rate":
        raise ValueError(f"--fail-on {expr!r}: write error rate changes as +0.5pp")
    else:
        if not unit:
            raise ValueError(
                f"--fail-on {expr!r}: give the change a unit, e.g. {written} +10% or "
                f"{written} +20ms"
            )
        try:
            seconds = parse_duration(f"{m['amount']}{unit}")
        except ValueError:
            raise ValueError(
                f"--fail-on {expr!r}: {unit!r} is not a unit here; use % or a time unit (ms, s, us)"
            ) from None
        kind, limit = "absolute", seconds * 1000.0
    metric = _LATENCY.get(written, written)
    return FailRule(expr=expr.strip(), metric=metric, kind=kind, limit=limit, request=request)


def _shown(rule: FailRule, value: float) -> str:
    if rule.metric == "error_rate":
        return f"{value * 100:.2f}%"
    if rule.metric == "rps":
        return f"{format_rate(value)}/s"
    return format_ms(value)


def _change_text(rule: FailRule, change: Change) -> str:
    assert change.a is not None and change.b is not None
    delta = change.b - change.a
    if rule.kind == "points":
        return f"{delta * 100:+.2f}pp"
    relative = change.relative
    if rule.kind == "relative":
        return "new" if relative is None else f"{relative * 100:+.1f}%"
    if rule.metric == "rps":
        return f"{delta:+.1f}/s"
    return ("+" if delta >= 0 else "-") + format_ms(abs(delta))


def judge_rule(rule: FailRule, comparison: Comparison) -> RuleResult:
    """Whether B is worse than A beyond the rule's allowance."""
    change = comparison.change(rule.metric, rule.request)
    where = f" of {rule.request!r}" if rule.request else ""
    if change is None or change.a is None or change.b is None:
        side = "A" if change is None or change.a is None else "B"
        if change is not None and change.a is None and change.b is None:
            side = "either run"
        return RuleResult(
            rule, True, None, None, f"cannot judge: no {rule.metric}{where} in {side}"
        )
    a, b = change.a, change.b
    worse_by = (b - a) if rule.worse_when_higher else (a - b)
    amount = worse_by
    if rule.kind == "relative":
        # from nothing to something is an unbounded rise
        amount = worse_by / a if a else (math.inf if worse_by > 0 else 0.0)
    failed = amount > rule.limit
    detail = f"{_shown(rule, a)} -> {_shown(rule, b)} ({_change_text(rule, change)})"
    return RuleResult(rule, failed, a, b, detail)


def unknown_requests(rules: list[FailRule], comparison: Comparison) -> list[str]:
    """Requests named by rules that neither run has (a typo, most likely)."""
    known = {r.name for r in comparison.requests}
    return [r.request for r in rules if r.request is not None and r.request not in known]
