"""``deli-tui compare`` as CI uses it: a real subprocess on saved run files, exit codes 0, 1
(a regression beyond --fail-on) and 2 (bad input)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cli.test_run_command import run_cli, write_collection
from tests.engine.history.runs import write_old_run, write_run
from tests.servers.asgi import RunningServer

SAFETY_S = 60.0


def compare(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deli_tui", "compare", *args],
        capture_output=True,
        text=True,
        timeout=SAFETY_S,
    )


def test_compare_prints_the_table_and_exits_0_without_rules(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a.json", latency_ms=(10.0, 20.0))
    b = write_run(tmp_path / "b.json", latency_ms=(10.0, 40.0))
    done = compare(str(a), str(b))
    assert done.returncode == 0, done.stderr
    p95 = next(line for line in done.stdout.splitlines() if line.split()[:1] == ["p95"])
    assert p95.split()[1:] == ["20.0ms", "40.0ms", "+100.0%", "worse"]


def test_a_regression_beyond_fail_on_exits_1_and_names_it(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a.json", latency_ms=(10.0, 20.0))
    b = write_run(tmp_path / "b.json", latency_ms=(10.0, 40.0), errors=2)
    done = compare(
        str(a), str(b), "--fail-on", "p95 +10%", "--fail-on", "error_rate +0.5pp",
        "--fail-on", "rps -5%",
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "p95 +10%: 20.0ms -> 40.0ms (+100.0%)" in out
    assert "error_rate +0.5pp: 0.00% -> 2.00% (+2.00pp)" in out
    assert "2 regression(s) beyond --fail-on" in out


def test_within_the_allowance_exits_0(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a.json", latency_ms=(10.0, 20.0))
    b = write_run(tmp_path / "b.json", latency_ms=(10.0, 20.0))
    done = compare(str(a), str(b), "--fail-on", "p95 +10%", "--fail-on", "rps -5%")
    assert done.returncode == 0, done.stdout
    assert "no regression beyond --fail-on" in done.stdout


def test_a_run_saved_by_an_older_version_compares(tmp_path: Path) -> None:
    old = write_old_run(tmp_path / "old.json", latency_ms=(10.0, 20.0))
    new = write_run(tmp_path / "new.json", latency_ms=(10.0, 40.0))
    assert "latency_digest_ms" not in json.loads(old.read_text())
    done = compare(str(old), str(new), "--fail-on", "p95 +50%")
    assert done.returncode == 1
    assert "+100.0%" in done.stdout


def test_bad_input_exits_2_with_the_reason(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a.json")
    not_a_run = tmp_path / "other.json"
    not_a_run.write_text('{"hello": 1}')
    cases = [
        ((str(a), str(tmp_path / "missing.json")), "missing.json: cannot read it"),
        ((str(a), str(not_a_run)), "not a saved deli-tui run"),
        ((str(a), str(a), "--fail-on", "p95 -10%"), "p95 gets worse when it rises"),
        ((str(a), str(a), "--fail-on", "p95[Nope] +1%"), "names request 'Nope', which neither"),
    ]
    for args, says in cases:
        done = compare(*args)
        assert done.returncode == 2, (args, done.stdout)
        assert says in done.stderr, (args, done.stderr)
        assert done.stdout == ""


def test_two_real_runs_compare(tmp_path: Path, demo_server: RunningServer) -> None:
    root = write_collection(tmp_path / "c", demo_server, [])
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    for path in (first, second):
        # half the requests 404: no default error-rate threshold, these runs are compared
        ran = run_cli(str(root), "--quiet", "--no-default-thresholds", "--json", str(path))
        assert ran.returncode == 0, ran.stderr
    # Missing answers 404 every time: the same error rate in both runs, whatever the timing
    done = compare(str(first), str(second), "--fail-on", "error_rate +0.5pp")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Home" in done.stdout and "Missing" in done.stdout
