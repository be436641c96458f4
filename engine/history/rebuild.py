"""A saved run turned back into the final ``Snapshot`` the dashboard and the reports draw.

The latency histogram comes from the saved t-digest: each centroid is put into the bucket of
its mean, so it fits whatever bucket layout this version uses. A run without a digest shows
its figures and tables with an empty histogram.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.history.saved_run import SavedRun
from engine.metrics.histogram import bucket_index
from engine.run.protocol import (
    ErrorSample,
    Finished,
    LatencyStats,
    PhaseTimings,
    RequestStats,
    Snapshot,
    StressProgress,
    StressStep,
    ThresholdResult,
)

_LATENCY_KEYS = {
    "min": "min_ms",
    "mean": "mean_ms",
    "p50": "p50_ms",
    "p75": "p75_ms",
    "p90": "p90_ms",
    "p95": "p95_ms",
    "p99": "p99_ms",
    "p99_9": "p99_9_ms",
    "max": "max_ms",
}


def _num(value: object, default: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return float(value)


def _int(value: object) -> int:
    return int(_num(value))


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def latency_from(saved: object, count: int) -> LatencyStats:
    """``LatencyStats`` from a saved ``{"p50": ms, ...}`` mapping (missing figures are 0)."""
    data = _map(saved)
    if not data or count <= 0:
        return LatencyStats()
    fields = {attr: _num(data.get(key)) for key, attr in _LATENCY_KEYS.items()}
    return LatencyStats(count=count, **fields)


def hist_from_digest(centroids: list[tuple[float, float]]) -> tuple[tuple[int, int], ...]:
    """Sparse ``(bucket index, count)`` pairs of a digest: each centroid's weight in the
    bucket of its mean (weights rounded; a centroid of weight < 0.5 still counts once)."""
    counts: dict[int, int] = {}
    for mean_ms, weight in centroids:
        index = bucket_index(round(mean_ms * 1000.0))
        counts[index] = counts.get(index, 0) + max(1, round(weight))
    return tuple(sorted(counts.items()))


def _codes(saved: object) -> tuple[tuple[int, int], ...]:
    out = []
    for code, n in _map(saved).items():
        try:
            out.append((int(code), _int(n)))
        except ValueError:
            continue
    return tuple(sorted(out))


def _series(run: SavedRun, key: str) -> tuple[float, ...]:
    values = _map(run.data.get("series")).get(key)
    return tuple(_num(v) for v in values) if isinstance(values, list) else ()


def _thresholds(run: SavedRun) -> tuple[ThresholdResult, ...]:
    saved = [t for t in run.data.get("thresholds") or () if isinstance(t, dict)]
    defaults = {t.get("expr") for t in saved if t.get("default") is True}
    return tuple(
        ThresholdResult(expr, value, passed, expr in defaults)
        for expr, value, passed in run.thresholds
    )


def _error_samples(run: SavedRun) -> tuple[ErrorSample, ...]:
    out = []
    for e in run.data.get("error_samples") or ():
        if isinstance(e, Mapping):
            out.append(
                ErrorSample(
                    _num(e.get("at_s")),
                    str(e.get("request", "")),
                    str(e.get("class", "")),
                    _int(e.get("status")),
                    str(e.get("message", "")),
                )
            )
    return tuple(out)


def _per_request(run: SavedRun) -> tuple[RequestStats, ...]:
    out = []
    for name in run.request_names:
        r = run.request(name)
        requests = _int(r.get("requests"))
        out.append(
            RequestStats(
                name=name,
                requests=requests,
                rps=_num(r.get("rps")),
                errors=_int(r.get("errors")),
                latency=latency_from(r.get("latency_ms"), requests),
                status_codes=_codes(r.get("status_codes")),
            )
        )
    return tuple(out)


def _phases(run: SavedRun) -> PhaseTimings:
    p = _map(run.data.get("phases"))
    return PhaseTimings(
        connect_mean_ms=_num(p.get("connect_mean_ms")),
        connect_p99_ms=_num(p.get("connect_p99_ms")),
        tls_mean_ms=_num(p.get("tls_mean_ms")),
        tls_p99_ms=_num(p.get("tls_p99_ms")),
        ttfb_mean_ms=_num(p.get("ttfb_mean_ms")),
        ttfb_p99_ms=_num(p.get("ttfb_p99_ms")),
        new_connections=_int(p.get("new_connections")),
    )


def _stress(run: SavedRun) -> StressProgress | None:
    saved = run.data.get("stress")
    if not isinstance(saved, Mapping):
        return None
    broke_on = str(saved.get("broke_on") or "")
    steps = []
    for step in saved.get("steps") or ():
        if not isinstance(step, Mapping):
            continue
        held = step.get("held")
        steps.append(
            StressStep(
                load=_num(step.get("load")),
                requests=0,
                rps=_num(step.get("rps")),
                p50_ms=_num(step.get("p50_ms")),
                p95_ms=_num(step.get("p95_ms")),
                p99_ms=_num(step.get("p99_ms")),
                error_rate=_num(step.get("error_rate")),
                held=held if isinstance(held, bool) else None,
                broke_on="" if held else broke_on,
            )
        )
    point, held_load = saved.get("breaking_point"), saved.get("max_sustainable")
    return StressProgress(
        over="rate" if saved.get("over") == "rate" else "users",
        until=tuple(str(u) for u in saved.get("until") or ()),
        step_s=_num(saved.get("step_s")),
        warmup_s=_num(saved.get("warmup_s"), 1.0),
        max_load=_num(saved.get("max_load"), max((s.load for s in steps), default=0.0)),
        steps=tuple(steps),
        breaking_point=_num(point) if point is not None else None,
        max_sustainable=_num(held_load) if held_load is not None else None,
        concluded=saved.get("concluded") is not False,
    )


def snapshot_of(run: SavedRun) -> Snapshot:
    """The run's final snapshot as far as the file tells it (phase "finished")."""
    d = run.data
    requests = run.requests
    errors = tuple((str(name), _int(n)) for name, n in _map(d.get("errors")).items() if _int(n))
    hist = hist_from_digest(run.digest())
    rps_series = _series(run, "rps")
    load = run.load
    peak = _num(load.get("peak"))
    open_model = run.model == "open"
    latency = latency_from(d.get("latency_ms"), requests)
    service = d.get("service_latency_ms")
    lag = d.get("scheduler_lag_ms")
    return Snapshot(
        seq=len(rps_series),
        phase="finished",
        model=run.model,
        collection=run.collection,
        scenario=run.scenario,
        target=run.target,
        elapsed_s=run.duration_s,
        planned_s=_num(d.get("planned_s")),
        stage_index=max(0, len(load.get("stages") or ()) - 1),
        stage_label="",
        requests=requests,
        successes=_int(d.get("successes")),
        rps=rps_series[-1] if rps_series else 0.0,
        mean_rps=run.rps,
        bytes_in=_int(d.get("bytes_in")),
        bytes_out=_int(d.get("bytes_out")),
        status_codes=_codes(d.get("status_codes")),
        errors=errors,
        skipped=_int(d.get("skipped")),
        active_users=0,
        target_users=0.0 if open_model else peak,
        in_flight=0,
        target_rate=peak if open_model else 0.0,
        latency=latency,
        service_latency=latency_from(service, requests) if service else latency,
        window_latency=LatencyStats(),
        scheduler_lag_ms=latency_from(lag, requests) if lag else LatencyStats(),
        window_hist=(),
        cumulative_hist=hist,
        phases=_phases(run),
        rps_series=rps_series,
        p99_series=_series(run, "p99_ms"),
        error_series=tuple(int(v) for v in _series(run, "errors")),
        users_series=_series(run, "users"),
        per_request=_per_request(run),
        recent_errors=_error_samples(run),
        thresholds=_thresholds(run),
        stress=_stress(run),
    )


def finished_of(run: SavedRun) -> Finished:
    """The run as the ``Finished`` message it ended with (no raw results: they are not in
    the JSON)."""
    # a stopped run is saved with passed false: its thresholds had not failed
    passed = run.passed or run.data.get("verdict") == "stopped"
    return Finished(snapshot_of(run), passed, run.reason or "completed")
