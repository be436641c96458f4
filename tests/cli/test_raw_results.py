"""Every result reaches disk: ``--csv`` has one row per request however small the in-memory
ring, the spool's working files are gone after the run, and a killed run's are swept."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.servers.asgi import RunningServer
from tests.servers.serial import serial_server

SAFETY_S = 60.0


def run_cli(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "deli_tui", "run", *args],
        capture_output=True,
        text=True,
        timeout=SAFETY_S,
        env=env,
    )


def test_csv_has_a_row_for_every_request_beyond_the_in_memory_ring(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with serial_server(0.002) as server:  # counts what it answered
        done = run_cli(
            f"{server.url}/", "--users", "4", "--workers", "2", "--duration", "2s",
            "--quiet", "--max-results", "10", "--csv", str(out / "raw.csv"),
            "--json", str(out / "run.json"), cache=tmp_path / "cache",
        )  # fmt: skip
        served = server.served
    assert done.returncode == 0, done.stderr
    requests = json.loads((out / "run.json").read_text())["requests"]
    with (out / "raw.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert requests > 100 and len(rows) == requests == served
    elapsed = [float(row["elapsed_s"]) for row in rows]
    assert elapsed == sorted(elapsed)  # both workers' results, merged in time order
    assert {row["status"] for row in rows} == {"200"} and {row["error"] for row in rows} == {""}
    assert (out / "raw.csv").stat().st_mode & 0o777 == 0o600
    assert f"wrote {out / 'raw.csv'}" in done.stderr
    # the spool lived beside the reports and went with the run
    assert sorted(p.name for p in out.iterdir()) == ["raw.csv", "run.json"]


def test_a_url_run_spools_in_the_cache_and_sweeps_what_a_killed_run_left(
    demo_server: RunningServer, tmp_path: Path
) -> None:
    runs = tmp_path / "cache" / "deli-tui" / "runs"
    stale = runs / "20200101T000000Z-default"
    stale.mkdir(parents=True)
    (stale / ".deli-run-owner").write_text("999999999\n")  # its process is long gone
    (stale / "worker-0.elapsed_ns").write_bytes(b"\0" * 8)
    mine = runs / "notes"  # not a run directory: never touched
    mine.mkdir()
    (mine / ".deli-run-owner").write_text("999999999\n")
    done = run_cli(f"{demo_server.url}/", "--duration", "1s", "--quiet", cache=tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in runs.iterdir()) == ["notes"]


def test_a_collection_run_spools_under_deli_runs_and_leaves_only_its_saved_files(
    demo_server: RunningServer, tmp_path: Path
) -> None:
    root = tmp_path / "c"
    root.mkdir()
    (root / "collection.yaml").write_text(
        f"name: c\nbase_url: {demo_server.url}\nscenarios:\n"
        "  few:\n    users: 2\n    iterations: 40\n    duration: 30s\n    max_results: 5\n"
    )
    (root / "home.yaml").write_text("name: home\nurl: /\n")
    csv_path = tmp_path / "raw.csv"
    done = run_cli(str(root), "--quiet", "--csv", str(csv_path), cache=tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    assert len(csv_path.read_text().splitlines()) == 1 + 2 * 40
    assert list((root / ".deli" / "runs").iterdir()) == []


def test_no_spool_with_csv_and_a_max_results_of_zero_are_refused(
    demo_server: RunningServer, tmp_path: Path
) -> None:
    refused = run_cli(
        f"{demo_server.url}/", "--no-spool", "--csv", str(tmp_path / "x.csv"), cache=tmp_path
    )
    assert refused.returncode == 2 and "--no-spool" in refused.stderr
    zero = run_cli(f"{demo_server.url}/", "--max-results", "0", cache=tmp_path)
    assert zero.returncode == 2 and "--max-results" in zero.stderr
    assert "Traceback" not in refused.stderr + zero.stderr
