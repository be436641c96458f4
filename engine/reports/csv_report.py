"""Raw results as CSV (``--csv``): one row per result, in time order across workers."""

from __future__ import annotations

import csv
import heapq
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from engine.metrics.ring import ResultRing, ResultRow
from engine.results import error_class_name

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
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    written = 0
    merged = heapq.merge(*(r.rows() for r in rings), key=lambda row: row.elapsed_s)
    cleaned: dict[str, str] = {"": ""}
    with tmp.open("w", newline="", encoding="utf-8") as fh:
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
    tmp.replace(target)
    return written
