"""Saved runs for the history tests, written the way a run saves itself: windows through the
recorder, the aggregator's final snapshot and digests, then ``write_json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.metrics.aggregate import Aggregator
from engine.metrics.recorder import WindowRecorder
from engine.plan.model import LoadProfile, PreparedRequest, RunPlan, Stage
from engine.reports.json_report import write_json
from engine.results import ERR_TIMEOUT
from engine.run.protocol import Finished
from tests.engine.metrics.feed import feed

NAMES = ("Get user", "Post order")


def plan_of(
    scenario: str = "smoke", users: float = 10.0, names: tuple[str, ...] = NAMES
) -> RunPlan:
    requests = tuple(
        PreparedRequest(
            name=name,
            method="GET",
            url="http://127.0.0.1:8089/x",
            scheme="http",
            host="127.0.0.1",
            port=8089,
            target="/x",
            headers=(),
        )
        for name in names
    )
    return RunPlan(
        collection_name="demo",
        scenario_name=scenario,
        base_url="http://127.0.0.1:8089",
        requests=requests,
        profile=LoadProfile(model="closed", stages=(Stage(2.0, users),), start_target=users),
        thresholds=("p95 < 300ms",),
    )


def finished_run(
    latency_ms: tuple[float, ...] = (2.0, 4.0),
    *,
    per_window: int = 50,
    errors: int = 0,
    scenario: str = "smoke",
    users: float = 10.0,
    names: tuple[str, ...] = NAMES,
    reason: str = "completed",
) -> tuple[RunPlan, Finished]:
    """Two 0.5 s windows; request i answers in ``latency_ms[i]`` (``per_window`` results a
    window each); ``errors`` timeouts of the first request in each window."""
    plan = plan_of(scenario, users, names)
    agg = Aggregator(plan)
    rec = WindowRecorder(0, names, 0.5, 10_000)
    for seq in range(2):
        for index, ms in enumerate(latency_ms[: len(names)]):
            for k in range(per_window):
                failed = index == 0 and k < errors
                feed(
                    rec,
                    index,
                    status=0 if failed else 200,
                    error=ERR_TIMEOUT if failed else 0,
                    message="timed out" if failed else "",
                    latency_ns=int(ms * 1_000_000),
                    at_s=seq * 0.5 + 0.1,
                )
        agg.add(rec.flush(seq, seq * 0.5, seq * 0.5 + 0.5))
    final = agg.final_snapshot(1.0, reason)
    passed = all(t.passed for t in final.thresholds)
    return plan, Finished(final, passed, reason, (), agg.digests())


def write_run(path: Path, *, finished_at: str | None = None, **kwargs: Any) -> Path:
    """A run file as the app saves it (``finished_at`` fixed, e.g. for pictures)."""
    plan, finished = finished_run(**kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, plan, finished)
    if finished_at is not None:
        data = json.loads(path.read_text())
        data["finished_at"] = finished_at
        path.write_text(json.dumps(data, indent=2))
    return path


OLD_KEYS = ("latency_digest_ms", "series", "load", "finished_at", "error_samples")


def write_old_run(path: Path, **kwargs: Any) -> Path:
    """A run file as an older deli-tui wrote it: summary figures only, no digest."""
    write_run(path, **kwargs)
    data = json.loads(path.read_text())
    for key in OLD_KEYS:
        data.pop(key, None)
    path.write_text(json.dumps(data))
    return path
