"""Raw results as CSV (``--csv``): one row per result, in time order across workers.

Written from the workers' spool (``engine.metrics.spool``: every result of the run), or,
when a run kept none (workers on a cluster), from their in-memory rings (the newest
``max_results`` of each). The file is created mode 0600 and appears whole or not at all.
"""

from __future__ import annotations

import csv
import heapq
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TextIO

from engine.metrics.ring import ResultRing, ResultRow
from engine.metrics.spool import SpoolPart, merged_chunks
from engine.plan.model import RunPlan
from engine.reports.files import write_atomic_with
from engine.results import error_class_name
from engine.run.protocol import Finished

CSV_HEADER = (
    "elapsed_s",
    "request",
    "status",
    "error",
    "latency_ms",
    "service_ms",
    "bytes_in",
    "bytes_out",
    "message",
)
_CLASS_NAMES = tuple(error_class_name(code) for code in range(256))


def _csv_line(row: ResultRow, request_names: Sequence[str]) -> tuple[object, ...]:
    name = request_names[row.request] if row.request < len(request_names) else str(row.request)
    return (
        f"{row.elapsed_s:.3f}",
        name,
        row.status,
        error_class_name(row.error),
        f"{row.latency_us / 1000.0:.3f}",
        f"{row.service_us / 1000.0:.3f}",
        row.bytes_in,
        row.bytes_out,
        row.message,
    )


def write_results_csv(
    path: str | Path,
    rings: Iterable[ResultRing],
    request_names: Sequence[str],
    redact: Callable[[str], str] | None = None,
) -> int:
    """Write the results of several rings (one per worker) as one CSV, in time order.

    ``redact`` (if given) cleans each distinct message once before it is written."""

    def write(fh: TextIO) -> int:
        written = 0
        merged = heapq.merge(*(r.rows() for r in rings), key=lambda row: row.elapsed_s)
        cleaned: dict[str, str] = {"": ""}
        writer = csv.writer(fh)
        writer.writerow(CSV_HEADER)
        for row in merged:
            line = _csv_line(row, request_names)
            if redact is not None and row.message:
                text = cleaned.get(row.message)
                if text is None:
                    text = cleaned[row.message] = redact(row.message)
                line = (*line[:-1], text)
            writer.writerow(line)
            written += 1
        return written

    return write_atomic_with(path, write, newline="")


def _millis(us: list[int]) -> list[str]:
    """Whole microseconds as milliseconds with three decimals, exactly (no float)."""
    return [f"{v // 1000}.{v % 1000:03d}" for v in us]


def write_spool_csv(
    path: str | Path,
    parts: Sequence[SpoolPart],
    request_names: Sequence[str],
    redact: Callable[[str], str] | None = None,
) -> int:
    """Write every spooled result of every worker as one CSV in end-time order; returns the
    rows written. Each worker's messages are redacted once each, before any row is written."""
    names = [*request_names]
    messages = [
        [redact(m) if redact is not None and m else m for m in part.messages] for part in parts
    ]

    def write(fh: TextIO) -> int:
        writer = csv.writer(fh)
        writer.writerow(CSV_HEADER)
        written = 0
        for cols, owner in merged_chunks(parts):
            # elapsed in ms, then as seconds with three decimals
            elapsed_ms = (cols["elapsed_ns"] // 1_000_000).tolist()
            requests = cols["request"].tolist()
            errors = cols["error"].tolist()
            ids = cols["message_id"].tolist()
            owners = owner.tolist()
            texts = [
                messages[o][m] if e and m < len(messages[o]) else ""
                for o, m, e in zip(owners, ids, errors, strict=True)
            ]
            writer.writerows(
                zip(
                    [f"{ms // 1000}.{ms % 1000:03d}" for ms in elapsed_ms],
                    [names[r] if r < len(names) else str(r) for r in requests],
                    cols["status"].tolist(),
                    [_CLASS_NAMES[e] for e in errors],
                    _millis(cols["latency_us"].tolist()),
                    _millis(cols["service_us"].tolist()),
                    cols["bytes_in"].tolist(),
                    cols["bytes_out"].tolist(),
                    texts,
                    strict=True,
                )
            )
            written += len(owners)
        return written

    return write_atomic_with(path, write, newline="")


def write_run_csv(path: str | Path, plan: RunPlan, finished: Finished) -> list[str]:
    """Every raw result of a run as CSV: from its spool (``plan.run_dir``), or from the
    workers' rings (their newest ``max_results`` each) when the run kept none (workers on a
    cluster). Returns what the CSV lacks, to be shown (no result goes missing silently)."""
    from engine.metrics.spool import read_spool
    from engine.redact import redact_text

    names = [r.name for r in plan.requests]
    secrets = plan.redact_values

    def clean(text: str) -> str:
        return redact_text(text, secrets)

    parts = read_spool(Path(plan.run_dir)) if plan.run_dir else []
    if parts:
        write_spool_csv(path, parts, names, redact=clean)
        return [
            f"{part.dropped} results of {part.worker} are missing: {part.stopped}"
            for part in parts
            if part.dropped
        ]
    rings = [ResultRing.from_columns(columns) for columns in finished.results]
    written = write_results_csv(path, rings, names, redact=clean)
    requests = finished.snapshot.requests
    if written < requests:
        return [
            f"{written} of {requests} results: no spool on disk for this run, so only the "
            f"newest {plan.max_results} of each worker"
        ]
    return []
