"""``deli-tui run`` on bad collections and bad options: exit code 2, file:line and a hint,
and the files on disk untouched. Runs the real command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.collection_files import BASIC_REQUEST, write_collection

HEADER = "name: x\nbase_url: http://127.0.0.1:9\n"


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("token", "missing_var")}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "deli_tui", "run", "--quiet", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=environ,
    )


def snapshot_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


CASES = {
    "syntax error": ({"r.yaml": "name: r\nurl: /\nheaders: {A: [1\n"}, "r.yaml:4:", "YAML syntax"),
    "wrong type": ({"r.yaml": "name: r\nurl: /\nweight: heavy\n"}, "r.yaml:3:", "must be a number"),
    "unknown key": (
        {"r.yaml": "name: r\nurl: /\nheader: {}\n"},
        "r.yaml:3:",
        "did you mean 'headers'",
    ),
    "missing url": ({"r.yaml": "name: r\n"}, "r.yaml:1:", "has no url"),
    "bad method": ({"r.yaml": "name: r\nurl: /\nmethod: GTE\n"}, "r.yaml:3:", "did you mean 'GET'"),
    "bad duration": (
        {
            "collection.yaml": HEADER + "scenarios:\n  s:\n    duration: 10x\n",
            "r.yaml": BASIC_REQUEST,
        },
        "collection.yaml:5:",
        "use e.g. 500ms, 10s, 1m30s",
    ),
    "negative users": (
        {"collection.yaml": HEADER + "scenarios:\n  s:\n    users: -2\n", "r.yaml": BASIC_REQUEST},
        "collection.yaml:5:",
        "users must be 0 or more",
    ),
    "no users": (
        {"collection.yaml": HEADER + "scenarios:\n  s:\n    users: 0\n", "r.yaml": BASIC_REQUEST},
        "collection.yaml:5:",
        "users: 0 would send nothing",
    ),
    "zero duration": (
        {
            "collection.yaml": HEADER + "scenarios:\n  s:\n    duration: 0s\n",
            "r.yaml": BASIC_REQUEST,
        },
        "collection.yaml:5:",
        "a duration of 0 runs nothing",
    ),
    "zero rate": (
        {
            "collection.yaml": HEADER + "scenarios:\n  s:\n    model: open\n    rate: 0\n",
            "r.yaml": BASIC_REQUEST,
        },
        "collection.yaml:6:",
        "the open model needs a rate above 0",
    ),
    "bad threshold": (
        {
            "collection.yaml": HEADER + "scenarios:\n  s:\n    thresholds: ['p95 < fast']\n",
            "r.yaml": BASIC_REQUEST,
        },
        "collection.yaml:5:",
        "not a latency",
    ),
    "unknown variable": (
        {"r.yaml": "name: r\nurl: /\nheaders:\n  X-Token: '{{missing_var}}'\n"},
        "r.yaml:4:",
        "unknown variable {{missing_var}}",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_collection_exits_2_with_file_line_and_hint(tmp_path: Path, case: str) -> None:
    files, where, says = CASES[case]
    root = write_collection(tmp_path, files)
    before = snapshot_files(root)
    result = run_cli(str(root), "--duration", "1s")
    assert result.returncode == 2, result.stderr
    assert where in result.stderr
    assert says in result.stderr
    assert "hint:" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot_files(root) == before


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--duration", "10x"], "'10x' is not a duration"),
        (["--users", "-3"], "--users"),
        (["--scenario", "smoek"], "did you mean 'smoke'"),
        (["--env-file", "/nonexistent/x.env"], "cannot read the env file"),
        (["--users", "5", "--rate", "100"], "--users and --rate: give one"),
        (["--duration", "0s"], "--duration 0s: must be above 0"),
        (["--rate", "0"], "--rate 0: must be a positive number"),
    ],
)
def test_bad_options_exit_2_with_a_message(tmp_path: Path, args: list[str], says: str) -> None:
    root = write_collection(tmp_path, {"r.yaml": BASIC_REQUEST})
    result = run_cli(str(root), *args)
    assert result.returncode == 2, result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_a_scenario_for_a_url_target_exits_2() -> None:
    result = run_cli("http://127.0.0.1:9/", "--scenario", "smoke")
    assert result.returncode == 2, result.stderr
    assert "--scenario smoke: a URL target has no scenarios" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("target", ["ftp://127.0.0.1/", "/nonexistent/collection"])
def test_bad_targets_exit_2(target: str) -> None:
    result = run_cli(target)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip()
