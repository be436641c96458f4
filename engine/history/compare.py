"""Two saved runs side by side: each figure's change from the baseline (A) to the new run (B).

Pure arithmetic on ``SavedRun`` figures. Percentiles are the ones each run reported (its
summary); the distributions for the overlaid histograms come from the saved t-digests
(``engine.history.overlay``). A change within ``SAME_WITHIN`` (1%, about the histogram's own
resolution) or ``SAME_POINTS`` for error rates counts as no change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engine.history.saved_run import SavedRun

Better = Literal["lower", "higher"]
Verdict = Literal["better", "worse", "same", ""]
Unit = Literal["ms", "rps", "ratio", "count"]

SAME_WITHIN = 0.01  # relative: below this a latency or rate change is within bucket error
SAME_POINTS = 0.0001  # absolute, for error rates (0.01 percentage points)
LATENCY_ROWS = ("p50", "p75", "p90", "p95", "p99", "p99_9", "max", "mean")
LABELS = {"p99_9": "p99.9", "error_rate": "error rate", "rps": "req/s"}


@dataclass(frozen=True, slots=True)
class Change:
    """One figure in both runs. ``a`` / ``b`` None: the run has no such figure."""

    key: str  # p95, rps, error_rate, requests...
    a: float | None
    b: float | None
    unit: Unit
    better: Better | None  # which way is an improvement; None: neither (a count)

    @property
    def label(self) -> str:
        return LABELS.get(self.key, self.key)

    @property
    def delta(self) -> float | None:
        """``b - a`` in the figure's own unit (a fraction for error rates)."""
        if self.a is None or self.b is None:
            return None
        return self.b - self.a

    @property
    def relative(self) -> float | None:
        """``(b - a) / a``; None when either is missing or ``a`` is 0."""
        delta = self.delta
        if delta is None or not self.a:
            return None
        return delta / self.a

    @property
    def verdict(self) -> Verdict:
        """better / worse / same for B against A; "" when it cannot be said."""
        delta = self.delta
        if delta is None or self.better is None:
            return ""
        if self.unit == "ratio":
            if abs(delta) < SAME_POINTS:
                return "same"
        else:
            relative = self.relative
            if delta == 0 or (relative is not None and abs(relative) < SAME_WITHIN):
                return "same"
        improved = delta < 0 if self.better == "lower" else delta > 0
        return "better" if improved else "worse"


@dataclass(frozen=True, slots=True)
class RequestChange:
    """One request name's figures in both runs (missing from one: its side is None)."""

    name: str
    in_a: bool
    in_b: bool
    requests: Change
    rps: Change
    error_rate: Change
    p50: Change
    p95: Change
    p99: Change


@dataclass(frozen=True, slots=True)
class Comparison:
    """Run A (the baseline) against run B: overall figures, per request, and what differs
    between the two runs beyond their results (``notes``)."""

    a: SavedRun
    b: SavedRun
    overall: tuple[Change, ...]
    requests: tuple[RequestChange, ...]
    notes: tuple[str, ...]

    def change(self, key: str, request: str | None = None) -> Change | None:
        """The change of ``key`` (overall, or of one request); None when not compared."""
        if request is None:
            return next((c for c in self.overall if c.key == key), None)
        if not any(r.name == request for r in self.requests):
            return None
        return request_figure_change(self.a, self.b, request, key)


def _latency(run: SavedRun, key: str) -> float | None:
    return run.latency_ms(key) if run.requests else None


def _request_latency(run: SavedRun, name: str, key: str) -> float | None:
    r = run.request(name)
    lat = r.get("latency_ms")
    if not r.get("requests") or not isinstance(lat, dict) or key not in lat:
        return None
    value = lat[key]
    return float(value) if isinstance(value, int | float) else None


def _request_figure(run: SavedRun, name: str, key: str) -> float | None:
    r = run.request(name)
    if not r:
        return None
    if key == "error_rate":
        requests = r.get("requests") or 0
        errors = r.get("errors") or 0
        return errors / requests if requests else None
    value = r.get(key)
    return float(value) if isinstance(value, int | float) else None


def request_figure_change(a: SavedRun, b: SavedRun, name: str, key: str) -> Change:
    """The change of one figure (``requests``, ``rps``, ``error_rate`` or a latency key) of
    request ``name``."""
    if key == "requests":
        return Change(
            key, _request_figure(a, name, key), _request_figure(b, name, key), "count", None
        )
    if key == "rps":
        return Change(
            key, _request_figure(a, name, key), _request_figure(b, name, key), "rps", "higher"
        )
    if key == "error_rate":
        return Change(
            key, _request_figure(a, name, key), _request_figure(b, name, key), "ratio", "lower"
        )
    return Change(
        key, _request_latency(a, name, key), _request_latency(b, name, key), "ms", "lower"
    )


def _request_change(a: SavedRun, b: SavedRun, name: str) -> RequestChange:
    def figure(key: str) -> Change:
        return request_figure_change(a, b, name, key)

    return RequestChange(
        name=name,
        in_a=bool(a.request(name)),
        in_b=bool(b.request(name)),
        requests=figure("requests"),
        rps=figure("rps"),
        error_rate=figure("error_rate"),
        p50=figure("p50"),
        p95=figure("p95"),
        p99=figure("p99"),
    )


def _notes(a: SavedRun, b: SavedRun) -> list[str]:
    notes = []
    if a.collection != b.collection:
        notes.append(f"different collections: {a.collection!r} and {b.collection!r}")
    if a.scenario != b.scenario:
        notes.append(
            f"different scenarios: {a.scenario!r} and {b.scenario!r}; the load and the requests "
            "may differ, so the changes may not be regressions"
        )
    if a.target != b.target:
        notes.append(f"different targets: {a.target} and {b.target}")
    if a.load_text != b.load_text and "?" not in (a.load_text, b.load_text):
        notes.append(f"different load: {a.load_text} and {b.load_text}")
    if a.model != b.model:
        notes.append(f"different load models: {a.model} and {b.model}")
    for side, run in (("A", a), ("B", b)):
        early = run.ended_early
        if early is not None:
            notes.append(f"run {side} was {early} before its end ({run.duration_s:.1f}s)")
    only_a = [n for n in a.request_names if n not in b.request_names]
    only_b = [n for n in b.request_names if n not in a.request_names]
    if only_a:
        notes.append("only in A: " + ", ".join(only_a))
    if only_b:
        notes.append("only in B: " + ", ".join(only_b))
    return notes


def compare_runs(a: SavedRun, b: SavedRun) -> Comparison:
    """How run ``b`` differs from the baseline ``a``."""
    overall = [
        Change("requests", float(a.requests), float(b.requests), "count", None),
        Change("rps", a.rps, b.rps, "rps", "higher"),
        Change("error_rate", a.error_rate, b.error_rate, "ratio", "lower"),
        *(Change(key, _latency(a, key), _latency(b, key), "ms", "lower") for key in LATENCY_ROWS),
    ]
    names = [*a.request_names, *(n for n in b.request_names if n not in a.request_names)]
    return Comparison(
        a=a,
        b=b,
        overall=tuple(overall),
        requests=tuple(_request_change(a, b, name) for name in names),
        notes=tuple(_notes(a, b)),
    )
