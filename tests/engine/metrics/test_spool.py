"""The raw-result spool: what a worker appends is read back whole and in time order, a killed
worker's files still read, and a full disk stops the spool with a reason instead of filling."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from engine.metrics import spool as spool_module
from engine.metrics.columns import FOLD_EVERY
from engine.metrics.recorder import WindowRecorder
from engine.metrics.spool import SPOOL_COLUMNS, ResultSpool, merged_chunks, read_spool
from engine.results import ERR_CONNECT, ERR_NONE
from tests.engine.metrics.feed import feed


def columns(n: int, start_ns: int = 0, step_ns: int = 1000) -> dict[str, np.ndarray]:
    elapsed = start_ns + np.arange(n, dtype=np.int64) * step_ns
    return {
        "elapsed_ns": elapsed,
        "request": np.arange(n, dtype=np.int64) % 3,
        "status": np.full(n, 200, np.int64),
        "error": np.zeros(n, np.int64),
        "latency_us": np.arange(n, dtype=np.int64) + 10,
        "service_us": np.arange(n, dtype=np.int64) + 5,
        "bytes_in": np.full(n, 123, np.int64),
        "bytes_out": np.full(n, 45, np.int64),
        "message_id": np.zeros(n, np.int64),
    }


def append(spool: ResultSpool, cols: dict[str, np.ndarray]) -> None:
    spool.append(*(cols[name] for name, _ in SPOOL_COLUMNS))


def test_appended_columns_read_back_clamped_into_their_types(tmp_path: Path) -> None:
    spool = ResultSpool(tmp_path, 0)
    first = columns(5)
    first["status"][0] = 70_000  # beyond uint16: clamped, as the ring clamps
    first["latency_us"][1] = -4
    append(spool, first)
    append(spool, columns(3, start_ns=10_000))
    spool.close()
    (part,) = read_spool(tmp_path)
    assert part.rows == 8 and part.complete and part.dropped == 0
    assert part.columns["status"][0] == 0xFFFF and part.columns["latency_us"][1] == 0
    assert part.columns["elapsed_ns"].tolist() == [
        0,
        1000,
        2000,
        3000,
        4000,
        10_000,
        11_000,
        12_000,
    ]
    assert all(
        (tmp_path / f"worker-0.{name}").stat().st_mode & 0o777 == 0o600 for name, _ in SPOOL_COLUMNS
    )


def test_messages_are_written_once_and_keep_their_ids(tmp_path: Path) -> None:
    spool = ResultSpool(tmp_path, 2)
    spool.sync_messages(["", "refused"])
    spool.sync_messages(["", "refused"])  # nothing new
    spool.sync_messages(["", "refused", 'timed out, "quoted"\nline'])
    spool.close()
    (part,) = read_spool(tmp_path)
    assert part.worker == "worker-2"
    assert part.messages == ["", "refused", 'timed out, "quoted"\nline']


def test_a_killed_workers_spool_reads_back_its_whole_rows(tmp_path: Path) -> None:
    spool = ResultSpool(tmp_path, 1)
    append(spool, columns(10))
    # the process dies half way through writing a fold: one column is 3 rows short, no json
    latency = tmp_path / "worker-1.latency_us"
    latency.write_bytes(latency.read_bytes()[: 7 * 4])
    (part,) = read_spool(tmp_path)
    assert part.rows == 7 and not part.complete


def test_merged_chunks_interleave_workers_in_time_order(tmp_path: Path) -> None:
    rng = random.Random(3)
    everything = []
    for worker in range(3):
        spool = ResultSpool(tmp_path, worker)
        t = rng.randrange(1000)
        for _ in range(rng.randrange(3, 9)):
            n = rng.randrange(1, 400)
            cols = columns(n)
            steps = np.array([rng.randrange(0, 50) for _ in range(n)], np.int64)
            cols["elapsed_ns"] = t + np.cumsum(steps)
            t = int(cols["elapsed_ns"][-1])
            cols["bytes_in"] = np.full(n, worker, np.int64)
            append(spool, cols)
            everything += [(int(e), worker) for e in cols["elapsed_ns"]]
        spool.close()
    parts = read_spool(tmp_path)
    merged = [
        (int(e), int(w))
        for cols, owner in merged_chunks(parts, chunk=37)
        for e, w in zip(cols["elapsed_ns"], cols["bytes_in"], strict=True)
    ]
    assert merged == sorted(everything, key=lambda r: r[0])  # stable: equal times keep order


def test_a_spool_out_of_order_within_a_worker_is_sorted_when_read(tmp_path: Path) -> None:
    spool = ResultSpool(tmp_path, 0)
    cols = columns(4)
    cols["elapsed_ns"] = np.array([5, 3, 9, 7], np.int64)
    append(spool, cols)
    spool.close()
    ((cols_out, _),) = list(merged_chunks(read_spool(tmp_path)))
    assert cols_out["elapsed_ns"].tolist() == [3, 5, 7, 9]


def test_low_disk_space_stops_the_spool_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = ResultSpool(tmp_path, 0)
    append(spool, columns(5))
    monkeypatch.setattr(spool_module, "RESERVE_BYTES", 1 << 62)
    monkeypatch.setattr(spool_module, "CHECK_EVERY_BYTES", 1)
    append(spool, columns(5))  # written, then the free space is looked at
    append(spool, columns(4))
    spool.close()
    (part,) = read_spool(tmp_path)
    assert part.rows == 10 and part.dropped == 4
    assert "MiB free" in part.stopped


def test_the_recorder_spools_every_result_the_ring_only_keeps_the_newest(tmp_path: Path) -> None:
    spool = ResultSpool(tmp_path, 0)
    rec = WindowRecorder(0, ("a", "b"), 0.5, 100, spool=spool)
    n = FOLD_EVERY * 2 + 17
    for k in range(n):
        if k % 1000 == 999:
            feed(rec, 1, status=0, error=ERR_CONNECT, message=f"refused {k % 3}", at_s=k * 1e-4)
        else:
            feed(rec, k % 2, latency_ns=1_000_000 + k, at_s=k * 1e-4)
    rec.flush(0, 0.0, 0.5)
    ring = rec.ring
    spool.close()
    (part,) = read_spool(tmp_path)
    assert part.rows == n and len(ring) == 100
    errors = part.columns["error"]
    assert int((errors == ERR_CONNECT).sum()) == n // 1000
    assert int((errors == ERR_NONE).sum()) == n - n // 1000
    ids = part.columns["message_id"][errors == ERR_CONNECT]
    assert {part.messages[i] for i in ids.tolist()} == {"refused 0", "refused 1", "refused 2"}
    tail = [row.latency_us for row in ring.rows()]
    assert part.columns["latency_us"][-100:].tolist() == tail
