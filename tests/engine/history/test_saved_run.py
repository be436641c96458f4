"""Saved runs read back: found in .deli/runs/ among other files, newest first, and rebuilt
into the final snapshot the dashboard draws."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine.history.rebuild import finished_of, snapshot_of
from engine.history.saved_run import RunFileError, discover_runs, read_run
from engine.metrics.histogram import new_counts
from engine.metrics.latency import latency_stats
from tests.engine.history.runs import finished_run, write_old_run, write_run


def test_runs_are_found_newest_first_among_other_files(tmp_path: Path) -> None:
    runs = tmp_path / ".deli" / "runs"
    write_run(runs / "20240102T100000Z-smoke.json")
    write_run(runs / "20240103T100000Z-soak.json", scenario="soak")
    old = write_old_run(runs / "20240101T100000Z-smoke.json")
    # a spool directory with its own files, a broken file, JSON that is not a run, a temp file
    (runs / "20240103T100000Z-soak").mkdir()
    (runs / "20240103T100000Z-soak" / "results.bin").write_bytes(b"\0\1")
    write_run(runs / "20240104T100000Z-nested" / "run.json", scenario="nested")
    (runs / "broken.json").write_text("{not json")
    (runs / "other.json").write_text('{"hello": "world"}')
    (runs / ".20240105T100000Z-x.json.tmp").write_text("{}")
    (runs / "notes.txt").write_text("hi")
    found = discover_runs(runs)
    # finished_at (written now) wins over the file name for runs that have it; the old run
    # has only its file name
    assert [r.path for r in found][-1] == old
    assert {r.scenario for r in found} == {"smoke", "soak", "nested"}
    assert len(found) == 4
    assert found[-1].when < found[0].when


def test_runs_without_finished_at_sort_by_their_file_names(tmp_path: Path) -> None:
    for name in ("20240102T100000Z-a.json", "20240301T100000Z-b.json", "20240101T100000Z-c.json"):
        write_old_run(tmp_path / name)
    assert [r.name[:8] for r in discover_runs(tmp_path)] == ["20240301", "20240102", "20240101"]


def test_a_run_with_no_time_at_all_uses_the_file_time(tmp_path: Path) -> None:
    path = write_old_run(tmp_path / "mine.json")
    os.utime(path, (1_700_000_000, 1_700_000_000))
    assert read_run(path).when == 1_700_000_000


def test_a_missing_folder_has_no_runs(tmp_path: Path) -> None:
    assert discover_runs(tmp_path / "nope") == []


@pytest.mark.parametrize(
    ("text", "says"),
    [("{", "not JSON"), ("[1, 2]", "not a saved deli-tui run"), ('{"a": 1}', "no 'version'")],
)
def test_a_file_that_is_not_a_run_is_refused_with_the_reason(
    tmp_path: Path, text: str, says: str
) -> None:
    path = tmp_path / "x.json"
    path.write_text(text)
    with pytest.raises(RunFileError, match=says):
        read_run(path)
    with pytest.raises(RunFileError, match="cannot read"):
        read_run(tmp_path / "missing.json")


def test_list_figures_of_a_saved_run(tmp_path: Path) -> None:
    run = read_run(write_run(tmp_path / "r.json", latency_ms=(10.0, 20.0), errors=5, users=25.0))
    assert run.scenario == "smoke" and run.collection == "demo"
    assert run.load_text == "25 users"
    assert run.requests == 200 and run.rps == 200.0
    assert run.error_rate == pytest.approx(10 / 200)
    assert run.latency_ms("p95") == pytest.approx(20.0, rel=0.01)
    assert run.verdict == "PASSED" and run.ended_early is None
    old = read_run(write_old_run(tmp_path / "old.json"))
    assert old.load_text == "?" and old.digest() == []


def test_a_rebuilt_snapshot_has_the_saved_figures_and_a_histogram_from_the_digest(
    tmp_path: Path,
) -> None:
    plan, finished = finished_run(latency_ms=(10.0, 20.0), errors=3)
    path = tmp_path / "run.json"
    from engine.reports.json_report import write_json

    write_json(path, plan, finished)
    snap = snapshot_of(read_run(path))
    live = finished.snapshot
    assert snap.phase == "finished"
    assert (snap.requests, snap.successes, snap.errors) == (
        live.requests,
        live.successes,
        live.errors,
    )
    assert snap.status_codes == live.status_codes
    assert snap.latency.p95_ms == pytest.approx(live.latency.p95_ms, abs=0.001)
    assert [r.name for r in snap.per_request] == [r.name for r in live.per_request]
    assert snap.per_request[0].errors == 6
    assert snap.thresholds == live.thresholds
    assert snap.rps_series == pytest.approx(live.rps_series)
    assert snap.recent_errors[0].message == "timed out"
    assert snap.target_users == 10.0
    # the histogram from the digest holds every result, and its percentiles are the run's
    counts = new_counts()
    for index, n in snap.cumulative_hist:
        counts[index] += n
    assert sum(counts) == live.requests
    again = latency_stats(counts)
    assert again.p50_ms == pytest.approx(live.latency.p50_ms, rel=0.02)
    assert again.p99_ms == pytest.approx(live.latency.p99_ms, rel=0.02)
    assert finished_of(read_run(path)).passed is finished.passed


def test_an_old_run_rebuilds_without_a_histogram(tmp_path: Path) -> None:
    snap = snapshot_of(read_run(write_old_run(tmp_path / "old.json")))
    assert snap.cumulative_hist == () and snap.requests == 200
    assert snap.latency.p50_ms > 0


def test_a_quit_run_is_marked(tmp_path: Path) -> None:
    path = write_run(tmp_path / "q.json", reason="quit")
    data = json.loads(path.read_text())
    assert read_run(path).verdict == "QUIT" and data["reason"] == "quit"
