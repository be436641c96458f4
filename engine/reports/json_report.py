"""The JSON report (``--json``, and the run saved in ``.deli/runs/``): the run as plain data."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from engine.load.shapes import peak_target
from engine.plan.model import RunPlan
from engine.reports.cells import unpack_run
from engine.reports.files import write_atomic
from engine.run.protocol import (
    Finished,
    LatencyDigests,
    LatencyStats,
    Snapshot,
    StressProgress,
    run_verdict,
)

REPORT_VERSION = 1


def _ms(value: float) -> float:
    return round(value, 3)


def _latency_dict(stats: LatencyStats) -> dict[str, float]:
    return {key: _ms(value) for key, value in stats.as_dict().items()}


def _unique_names(names: Iterable[str]) -> list[str]:
    """Request names as JSON keys: a repeated name gets " (2)", " (3)"..."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        n = seen.get(name, 0) + 1
        seen[name] = n
        out.append(name if n == 1 else f"{name} ({n})")
    return out


def load_dict(plan: RunPlan) -> dict[str, Any]:
    """What load the plan asked for: users (closed) or req/s (open) at the peak, the stages."""
    profile = plan.profile
    return {
        "over": "rate" if profile.model == "open" else "users",
        "peak": peak_target(profile),
        "workers": plan.workers,
        "stages": [[round(s.duration_s, 3), s.target] for s in profile.stages],
    }


def series_dict(snapshot: Snapshot, window_s: float) -> dict[str, Any]:
    """The per-window series (newest last), as the dashboard charts them."""
    s = snapshot
    return {
        "window_s": window_s,
        "rps": [round(v, 3) for v in s.rps_series],
        "p99_ms": [round(v, 3) for v in s.p99_series],
        "errors": list(s.error_series),
        "users": [round(v, 3) for v in s.users_series],
    }


def summary_dict(
    snapshot: Snapshot, passed: bool, reason: str = "", plan: RunPlan | None = None
) -> dict[str, Any]:
    """The run as plain JSON-ready data (the ``--json`` document). With the ``plan``, also
    the load it asked for (``load``)."""
    s = snapshot
    open_model = s.model == "open"
    data = {
        "version": REPORT_VERSION,
        "collection": s.collection,
        "scenario": s.scenario,
        "target": s.target,
        "model": s.model,
        "passed": run_verdict(passed, reason) == "passed",
        "verdict": run_verdict(passed, reason),
        "reason": reason,
        "duration_s": round(s.elapsed_s, 3),
        "planned_s": round(s.planned_s, 3),
        "requests": s.requests,
        "successes": s.successes,
        "rps": round(s.mean_rps, 3),
        "error_rate": round(s.error_rate, 6),
        "latency_ms": _latency_dict(s.latency),
        "service_latency_ms": _latency_dict(s.service_latency),
        "scheduler_lag_ms": _latency_dict(s.scheduler_lag_ms) if open_model else None,
        "status_codes": {str(code): n for code, n in s.status_codes},
        "errors": {name: n for name, n in s.errors},
        "skipped": s.skipped,
        "bytes_in": s.bytes_in,
        "bytes_out": s.bytes_out,
        "phases": {
            "connect_mean_ms": _ms(s.phases.connect_mean_ms),
            "connect_p99_ms": _ms(s.phases.connect_p99_ms),
            "tls_mean_ms": _ms(s.phases.tls_mean_ms),
            "tls_p99_ms": _ms(s.phases.tls_p99_ms),
            "ttfb_mean_ms": _ms(s.phases.ttfb_mean_ms),
            "ttfb_p99_ms": _ms(s.phases.ttfb_p99_ms),
            "new_connections": s.phases.new_connections,
            "retried": s.phases.retried,
        },
        "per_request": {
            key: {
                "requests": r.requests,
                "rps": round(r.rps, 3),
                "errors": r.errors,
                "latency_ms": _latency_dict(r.latency),
                "status_codes": {str(code): n for code, n in r.status_codes},
            }
            for key, r in zip(
                _unique_names(r.name for r in s.per_request), s.per_request, strict=True
            )
        },
        "thresholds": [
            {"expr": t.expr, "value": t.value, "passed": t.passed, "default": t.default}
            for t in s.thresholds
        ],
        "workers": [
            {
                "worker": w.worker_id,
                "node": w.node,
                "state": w.state,
                "requests": w.requests,
                "clock_offset_ms": w.clock_offset_ms,
                "lost_at_s": w.lost_at_s,
                "reason": w.reason,
            }
            for w in s.workers
        ],
        "error_messages": [
            {"class": cls, "message": text, "count": count} for cls, text, count in s.error_messages
        ],
        "error_samples": [
            {
                "at_s": round(e.elapsed_s, 3),
                "request": e.request,
                "class": e.error_class,
                "status": e.status,
                "message": e.message,
            }
            for e in s.recent_errors
        ],
        "series": series_dict(s, plan.window_s if plan is not None else 0.5),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if plan is not None:
        data["load"] = load_dict(plan)
    if s.stress is not None:
        data["stress"] = stress_dict(s.stress)
    return data


def _load(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def stress_dict(stress: StressProgress) -> dict[str, Any]:
    """A stress run's outcome and its judged steps (``breaking_point`` None when max held)."""
    broken = next((s for s in stress.judged if s.held is False), None)
    return {
        "over": stress.over,
        "breaking_point": _load(stress.breaking_point)
        if stress.breaking_point is not None
        else None,
        "max_sustainable": _load(stress.max_sustainable)
        if stress.max_sustainable is not None
        else None,
        "broke_on": broken.broke_on if broken is not None else None,
        "concluded": stress.concluded,
        "until": list(stress.until),
        "step_s": stress.step_s,
        "warmup_s": stress.warmup_s,
        "max_load": _load(stress.max_load),
        "steps": [
            {
                "load": _load(step.load),
                "rps": round(step.rps, 3),
                "p50_ms": _ms(step.p50_ms),
                "p95_ms": _ms(step.p95_ms),
                "p99_ms": _ms(step.p99_ms),
                "error_rate": round(step.error_rate, 6),
                "held": step.held,
            }
            for step in stress.judged
        ],
    }


def write_json(
    path: str | Path, snapshot: Snapshot | RunPlan, passed: bool | Finished, reason: str = ""
) -> None:
    """Write the JSON summary atomically. Also accepts ``(path, plan, finished)``, and then
    saves the run's latency distribution (``latency_digest_ms``) too."""
    snap, ok, why = unpack_run(snapshot, passed, reason)
    data = summary_dict(snap, ok, why, snapshot if isinstance(snapshot, RunPlan) else None)
    if isinstance(passed, Finished) and passed.digests is not None:
        data["latency_digest_ms"] = digest_dict(passed.digests, snap)
    write_atomic(path, json.dumps(data, indent=2) + "\n")


def digest_dict(digests: LatencyDigests, snapshot: Snapshot) -> dict[str, Any]:
    """The run's t-digests as JSON: ``{"all": [[mean_ms, weight], ...], "per_request":
    {name: [...]}}`` with the names keyed as in ``per_request``."""
    names = _unique_names(r.name for r in snapshot.per_request)
    return {
        "all": [[round(m, 6), c] for m, c in digests.all],
        "per_request": {
            name: [[round(m, 6), c] for m, c in centroids]
            for name, centroids in zip(names, digests.per_request, strict=False)
        },
    }
