"""Every raw result on disk: a worker's append-only column files, and reading them back.

A worker appends its results to ``DIR/worker-N.COLUMN``, one raw little-endian array per
column (``SPOOL_COLUMNS``), at each fold of its recorder (every 8,192 results and at each
window's end): the arrays the fold has just computed, one write per column, nothing per
result. ``worker-N.messages`` gets each new error message as a JSON line (line k holds
``message_id`` k + 1), and ``worker-N.json``, at the end, the row count and the results that
could not be written. Writing stops, and says why, when the disk's free space falls below
``RESERVE_BYTES``: the spool never fills a disk.

``read_spool`` maps the files back (``numpy.memmap``), every complete row, also of a worker
that was killed; ``merged_chunks`` yields the rows of all workers in time order, a bounded
chunk at a time.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# (column, dtype): the CSV's columns, with the end time in ns since the run's start
SPOOL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("elapsed_ns", "<i8"),
    ("request", "<u2"),
    ("status", "<u2"),
    ("error", "u1"),
    ("latency_us", "<u4"),
    ("service_us", "<u4"),
    ("bytes_in", "<u4"),
    ("bytes_out", "<u4"),
    ("message_id", "<u2"),
)
BYTES_PER_RESULT = sum(np.dtype(dtype).itemsize for _, dtype in SPOOL_COLUMNS)
RESERVE_BYTES = 1 << 30  # free space the spool leaves on its disk
CHECK_EVERY_BYTES = 64 << 20  # how often (bytes written) the free space is looked at
_LIMITS = {
    dtype: (int(np.iinfo(dtype).min), int(np.iinfo(dtype).max))
    for _, dtype in SPOOL_COLUMNS
    if dtype != "<i8"
}


def _open_append(path: Path) -> int:
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class ResultSpool:
    """One worker's spool: ``append`` a fold's columns, ``sync_messages`` the texts they refer
    to, then ``close``."""

    def __init__(self, directory: Path, worker_id: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.prefix = directory / f"worker-{worker_id}"
        self._fds = {name: _open_append(self._path(name)) for name, _ in SPOOL_COLUMNS}
        self._messages = _open_append(self._path("messages"))
        self._messages_written = 1  # id 0 is "no message", never written
        self.rows = 0
        self.dropped = 0  # results not written (disk space, a write error)
        self.stopped = ""  # why writing stopped
        self._unchecked = 0
        self._check_space()

    def _path(self, name: str) -> Path:
        return self.prefix.parent / f"{self.prefix.name}.{name}"

    def append(
        self,
        elapsed_ns: np.ndarray,
        request: np.ndarray,
        status: np.ndarray,
        error: np.ndarray,
        latency_us: np.ndarray,
        service_us: np.ndarray,
        bytes_in: np.ndarray,
        bytes_out: np.ndarray,
        message_id: np.ndarray,
    ) -> None:
        """Append equal-length columns (int64 arrays; each value clamped into its dtype)."""
        n = len(elapsed_ns)
        if self.stopped:
            self.dropped += n
            return
        values = (
            elapsed_ns, request, status, error, latency_us, service_us, bytes_in, bytes_out,
            message_id,
        )  # fmt: skip
        try:
            for (name, dtype), column in zip(SPOOL_COLUMNS, values, strict=True):
                limits = _LIMITS.get(dtype)
                if limits is not None and (column.min() < limits[0] or column.max() > limits[1]):
                    column = np.minimum(np.maximum(column, limits[0]), limits[1])
                _write_all(self._fds[name], column.astype(dtype, copy=False).tobytes())
        except OSError as exc:
            self._stop(f"writing {self.prefix.parent} failed: {exc.strerror or exc}", n)
            return
        self.rows += n
        self._unchecked += n * BYTES_PER_RESULT
        if self._unchecked >= CHECK_EVERY_BYTES:
            self._check_space()

    def sync_messages(self, table: Sequence[str]) -> None:
        """Write the texts of ``table`` (the ring's message table: id = index, 0 is no
        message) that are not written yet."""
        if len(table) <= self._messages_written or self.stopped:
            return
        lines = "".join(json.dumps(text) + "\n" for text in table[self._messages_written :])
        self._messages_written = len(table)
        try:
            _write_all(self._messages, lines.encode())
        except OSError as exc:
            self._stop(f"writing {self.prefix.parent} failed: {exc.strerror or exc}", 0)

    def _check_space(self) -> None:
        self._unchecked = 0
        try:
            stat = os.statvfs(self.prefix.parent)
        except OSError:
            return
        free = stat.f_bavail * stat.f_frsize
        if free < RESERVE_BYTES:
            self._stop(
                f"the disk holding {self.prefix.parent} has {free >> 20} MiB free, under the "
                f"{RESERVE_BYTES >> 20} MiB the spool leaves",
                0,
            )

    def _stop(self, why: str, unwritten: int) -> None:
        self.stopped = why
        self.dropped += unwritten
        # a column written before the failure is cut back to the rows of the others
        for name, dtype in SPOOL_COLUMNS:
            size = self.rows * np.dtype(dtype).itemsize
            with contextlib.suppress(OSError):
                os.ftruncate(self._fds[name], size)

    def close(self) -> None:
        """Close the files and write ``worker-N.json`` (rows, dropped, why)."""
        for fd in (*self._fds.values(), self._messages):
            with contextlib.suppress(OSError):
                os.close(fd)
        meta = {"rows": self.rows, "dropped": self.dropped, "stopped": self.stopped}
        try:
            fd = os.open(self._path("json"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(meta, fh)
        except OSError:
            pass


@dataclass(slots=True)
class SpoolPart:
    """One worker's spooled results, read back: ``columns`` by name (memory-mapped), the
    message table (index = ``message_id``; 0 is no message), and what was not written."""

    worker: str
    columns: dict[str, np.ndarray]
    messages: list[str]
    dropped: int = 0
    stopped: str = ""
    complete: bool = True  # False: the worker never closed it (killed); the rows are whole
    rows: int = field(init=False)

    def __post_init__(self) -> None:
        self.rows = len(self.columns["elapsed_ns"])


def _mapped(path: Path, dtype: str, rows: int) -> np.ndarray:
    if rows == 0:
        return np.zeros(0, dtype)
    return np.memmap(path, dtype=dtype, mode="r", shape=(rows,))


def read_spool(directory: Path) -> list[SpoolPart]:
    """Every worker's spool in ``directory`` (none: an empty list)."""
    parts = []
    for first in sorted(directory.glob(f"worker-*.{SPOOL_COLUMNS[0][0]}")):
        worker = first.name.split(".", 1)[0]
        paths = {name: directory / f"{worker}.{name}" for name, _ in SPOOL_COLUMNS}
        rows = min(
            (p.stat().st_size // np.dtype(dtype).itemsize if p.exists() else 0)
            for p, (_, dtype) in zip(paths.values(), SPOOL_COLUMNS, strict=True)
        )
        columns = {name: _mapped(paths[name], dtype, rows) for name, dtype in SPOOL_COLUMNS}
        messages = [""]
        with_messages = directory / f"{worker}.messages"
        if with_messages.exists():
            for line in with_messages.read_text(encoding="utf-8").splitlines():
                try:
                    messages.append(str(json.loads(line)))
                except ValueError:
                    break
        meta_path = directory / f"{worker}.json"
        meta = {}
        if meta_path.exists():
            try:
                meta = json.loads(meta_path.read_text())
            except ValueError:
                meta = {}
        parts.append(
            SpoolPart(
                worker,
                columns,
                messages,
                dropped=int(meta.get("dropped", 0)),
                stopped=str(meta.get("stopped", "")),
                complete=bool(meta),
            )
        )
    return parts


def _time_ordered(part: SpoolPart) -> dict[str, np.ndarray]:
    """The part's columns sorted by end time (as written, unless a result was recorded after
    a later-ending one: then sorted, stably)."""
    elapsed = part.columns["elapsed_ns"]
    if elapsed.size < 2 or bool(np.all(elapsed[1:] >= elapsed[:-1])):
        return part.columns
    order = np.argsort(elapsed, kind="stable")
    return {name: column[order] for name, column in part.columns.items()}


def merged_chunks(
    parts: Sequence[SpoolPart], chunk: int = 65_536
) -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
    """All parts' rows in end-time order: (columns, index of the part each row came from),
    at most ``chunk`` rows of each part at a time (a k-way merge of sorted runs)."""
    ordered = [_time_ordered(p) for p in parts]
    sizes = [p.rows for p in parts]
    pos = [0] * len(parts)
    while any(p < n for p, n in zip(pos, sizes, strict=True)):
        ends = [min(p + chunk, n) for p, n in zip(pos, sizes, strict=True)]
        # rows up to the smallest last value of a part that has more beyond its window
        limits = [
            int(cols["elapsed_ns"][end - 1])
            for cols, end, n in zip(ordered, ends, sizes, strict=True)
            if end < n
        ]
        boundary = min(limits) if limits else None
        taken: list[dict[str, np.ndarray]] = []
        owners = []
        for k, cols in enumerate(ordered):
            start, end = pos[k], ends[k]
            if start >= end:
                continue
            if boundary is not None:
                window = cols["elapsed_ns"][start:end]
                end = start + int(np.searchsorted(window, boundary, side="right"))
            if end > start:
                taken.append({name: np.asarray(c[start:end]) for name, c in cols.items()})
                owners.append(np.full(end - start, k, np.int32))
                pos[k] = end
        merged = {name: np.concatenate([t[name] for t in taken]) for name in taken[0]}
        owner = np.concatenate(owners)
        order = np.argsort(merged["elapsed_ns"], kind="stable")
        yield {name: column[order] for name, column in merged.items()}, owner[order]
