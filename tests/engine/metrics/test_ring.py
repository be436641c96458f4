"""ResultRing: bounded, newest kept, column bytes round-trip, CSV export, structural size."""

from __future__ import annotations

import csv
import pickle
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from engine.metrics.ring import TABLE_FULL, ResultRing, bytes_per_result
from engine.reports.csv_report import CSV_HEADER, write_results_csv
from engine.results import ERR_CONNECT, ERR_TIMEOUT


def fill(ring: ResultRing, n: int, start: int = 0) -> None:
    for k in range(start, start + n):
        err = ERR_CONNECT if k % 10 == 0 else 0
        ring.append(
            k / 100,
            k % 3,
            0 if err else 200,
            err,
            1_000 + k,
            900 + k,
            k,
            2 * k,
            f"refused #{k}" if err else "",
        )


def test_ring_wraps_and_keeps_the_newest_results_oldest_first() -> None:
    ring = ResultRing(50)
    fill(ring, 30)
    assert len(ring) == 30
    assert [r.bytes_in for r in ring.rows()] == list(range(30))
    fill(ring, 95, start=30)
    assert len(ring) == 50 and ring.count == 125
    rows = list(ring.rows())
    assert [r.bytes_in for r in rows] == list(range(75, 125))
    assert [r.latency_us for r in rows] == [1_000 + k for k in range(75, 125)]
    assert {r.message for r in rows if r.error} == {f"refused #{k}" for k in range(80, 125, 10)}
    assert all(r.message == "" for r in rows if not r.error)


def test_ring_holds_exactly_capacity_at_the_boundary() -> None:
    ring = ResultRing(10)
    fill(ring, 10)
    assert [r.bytes_in for r in ring.rows()] == list(range(10))
    fill(ring, 1, start=10)
    assert [r.bytes_in for r in ring.rows()] == list(range(1, 11))


def test_every_retained_error_keeps_its_message() -> None:
    ring = ResultRing(10_000)
    for k in range(12_000):
        ring.append(k / 1000, 0, 0, ERR_CONNECT, 10, 10, 0, 0, f"connection refused ({k % 7})")
    rows = list(ring.rows())
    assert len(rows) == 10_000
    assert all(r.message == f"connection refused ({k % 7})" for k, r in enumerate(rows, 2_000))
    assert len(ring.messages) == 8  # "" plus seven distinct texts, however many results


def test_distinct_messages_beyond_the_table_share_one_entry() -> None:
    ring = ResultRing(1_000, max_messages=5)
    for k in range(40):
        ring.append(0.0, 0, 0, ERR_TIMEOUT, 10, 10, 0, 0, f"timeout {k}")
    messages = [r.message for r in ring.rows()]
    assert messages[:5] == [f"timeout {k}" for k in range(5)]
    assert messages[5:] == [TABLE_FULL] * 35
    assert len(ring.messages) == 7 and len(ring.message_ids) == 7  # bounded: 5 + "" + full
    ring.append(0.0, 0, 0, ERR_TIMEOUT, 10, 10, 0, 0, "timeout 3")
    assert list(ring.rows())[-1].message == "timeout 3"  # known texts still get their own id


def test_a_reused_slot_does_not_inherit_the_old_message() -> None:
    ring = ResultRing(2)
    ring.append(0.0, 0, 0, ERR_CONNECT, 1, 1, 0, 0, "refused")
    ring.append(0.1, 0, 0, ERR_CONNECT, 1, 1, 0, 0, "refused")
    ring.append(0.2, 0, 200, 0, 1, 1, 0, 0)  # success over slot 0
    ring.append(0.3, 0, 0, ERR_TIMEOUT, 1, 1, 0, 0)  # error without a message over slot 1
    assert [(r.status, r.message) for r in ring.rows()] == [(200, ""), (0, "")]


def test_every_error_row_of_the_csv_carries_its_message(tmp_path: Path) -> None:
    ring = ResultRing(10_000)
    for k in range(13_000):
        err = ERR_CONNECT if k % 2 else ERR_TIMEOUT
        ring.append(k / 1000, 0, 0, err, 10, 10, 0, 0, f"failed with code {k % 50}")
    back = ResultRing.from_columns(pickle.loads(pickle.dumps(ring.to_columns())))
    path = tmp_path / "errors.csv"
    assert write_results_csv(path, [back], ["Home"], redact=str.upper) == 10_000
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 10_000
    assert all(row["message"] == f"FAILED WITH CODE {k % 50}" for k, row in enumerate(rows, 3_000))


def test_columns_without_a_message_table_are_refused() -> None:
    columns = ResultRing(4).to_columns()
    columns["messages"] = b"{}"
    with pytest.raises(ValueError, match="message table"):
        ResultRing.from_columns(columns)


def test_columns_round_trip_through_pickle() -> None:
    ring = ResultRing(64)
    fill(ring, 200)
    columns = ring.to_columns()
    assert all(isinstance(v, bytes) for v in columns.values())
    back = ResultRing.from_columns(pickle.loads(pickle.dumps(columns)))
    assert len(back) == 64
    assert list(back.rows()) == list(ring.rows())
    smaller = ResultRing.from_columns(columns, capacity=10)
    assert list(smaller.rows()) == list(ring.rows())[-10:]
    empty = ResultRing.from_columns(ResultRing(5).to_columns())
    assert len(empty) == 0 and list(empty.rows()) == []


def test_values_out_of_range_are_clamped() -> None:
    ring = ResultRing(4)
    ring.append(-1.0, 70_000, 1_000_000, 300, -5, 2**40, 2**40, -1)
    row = next(ring.rows())
    assert (row.elapsed_s, row.request, row.status, row.error) == (0.0, 0xFFFF, 0xFFFF, 0xFF)
    assert (row.latency_us, row.service_us, row.bytes_in, row.bytes_out) == (
        0,
        2**32 - 1,
        2**32 - 1,
        0,
    )


def test_csv_is_written_with_names_and_parses_back(tmp_path: Path) -> None:
    ring = ResultRing(100)
    fill(ring, 25)
    path = tmp_path / "results.csv"
    assert write_results_csv(path, [ring], ["Get user", "List items", "Post, order"]) == 25
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CSV_HEADER
    assert len(rows) == 25
    assert rows[2]["request"] == "Post, order"
    assert rows[0]["error"] == "connect" and rows[0]["message"] == "refused #0"
    assert rows[1]["error"] == "" and rows[1]["status"] == "200"
    assert float(rows[5]["latency_ms"]) == 1.005
    assert float(rows[5]["elapsed_s"]) == 0.05
    assert not list(tmp_path.glob(".*tmp"))  # no temp file left behind


def test_csv_merges_several_rings_in_time_order(tmp_path: Path) -> None:
    a, b = ResultRing(10), ResultRing(10)
    for k in range(6):
        (a if k % 2 else b).append(k * 0.5, 0, 200, 0, 100 * k, 100 * k, 1, 1)
    path = tmp_path / "merged.csv"
    assert write_results_csv(path, [a, b], ["only"]) == 6
    with path.open(newline="", encoding="utf-8") as fh:
        stamps = [float(r["elapsed_s"]) for r in csv.DictReader(fh)]
    assert stamps == sorted(stamps) and len(stamps) == 6


def test_retained_results_stay_far_under_five_megabytes_per_hundred_thousand() -> None:
    ring = ResultRing(100_000)
    assert ring.nbytes() == bytes_per_result() * 100_000
    assert bytes_per_result() == 27  # 25 bytes of measurements + a 2-byte message id
    assert ring.nbytes() <= 5_000_000


def test_measured_memory_of_a_full_ring_with_errors_is_under_five_megabytes() -> None:
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        ring = ResultRing(100_000)
        for k in range(100_000):  # 1% errors, with 50 distinct messages
            err = ERR_CONNECT if k % 100 == 0 else 0
            message = f"connection refused by 127.0.0.1:{8000 + k % 50}" if err else ""
            ring.append(k / 1000, k % 3, 0 if err else 200, err, 900, 900, 512, 128, message)
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(ring) == 100_000
    assert used <= 5_000_000


@pytest.mark.parametrize("batches", [(7, 30, 5), (120,), (49, 1, 50, 3)])
def test_extend_in_batches_keeps_what_appending_one_by_one_keeps(batches: tuple[int, ...]) -> None:
    """Batches that wrap around the end, fill it exactly, or hold more than it can keep."""
    one_by_one = ResultRing(50)
    fill(one_by_one, sum(batches))
    bulk = ResultRing(50)
    start = 0
    for n in batches:
        ks = np.arange(start, start + n)
        errs = np.where(ks % 10 == 0, ERR_CONNECT, 0)
        mids = np.array([bulk.intern(f"refused #{k}") if k % 10 == 0 else 0 for k in ks])
        bulk.extend(
            (ks / 100).astype(np.float32), ks % 3, np.where(errs, 0, 200), errs, 1_000 + ks,
            900 + ks, ks, 2 * ks, mids,
        )  # fmt: skip
        start += n
    assert bulk.count == one_by_one.count
    assert list(bulk.rows()) == list(one_by_one.rows())


def test_extend_clamps_values_into_the_columns() -> None:
    ring = ResultRing(4)
    big = np.array([-5, 70_000, 5 * 2**32, 3], dtype=np.int64)
    ring.extend(np.array([-1.0, 0.5, 1.0, 2.0]), big, big, big, big, big, big, big, np.zeros(4))
    rows = list(ring.rows())
    assert [r.elapsed_s for r in rows] == [0.0, 0.5, 1.0, 2.0]
    assert [r.status for r in rows] == [0, 0xFFFF, 0xFFFF, 3]
    assert [r.error for r in rows] == [0, 0xFF, 0xFF, 3]
    assert [r.latency_us for r in rows] == [0, 70_000, 2**32 - 1, 3]
