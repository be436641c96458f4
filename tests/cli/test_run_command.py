"""``deli-tui run`` as CI uses it: a real subprocess against the demo server on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers.asgi import RunningServer

SAFETY_S = 90.0
JSON_KEYS = {
    "requests",
    "rps",
    "duration_s",
    "latency_ms",
    "status_codes",
    "errors",
    "skipped",
    "per_request",
    "thresholds",
    "passed",
}
LATENCY_KEYS = {"min", "mean", "p50", "p75", "p90", "p95", "p99", "p99_9", "max"}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deli_tui", "run", *args],
        capture_output=True,
        text=True,
        timeout=SAFETY_S,
    )


def write_collection(root: Path, server: RunningServer, thresholds: list[str]) -> Path:
    """A two-request collection whose scenario ends by iterations (a bounded request count)."""
    root.mkdir(parents=True, exist_ok=True)
    lines = [
        "name: Headless",
        f"base_url: {server.url}",
        "scenarios:",
        "  check:",
        "    model: closed",
        "    users: 2",
        "    iterations: 5",
        "    duration: 30s",
    ]
    if thresholds:
        lines.append("    thresholds:")
        lines += [f"      - {expr}" for expr in thresholds]
    (root / "collection.yaml").write_text("\n".join(lines) + "\n")
    (root / "home.yaml").write_text("name: Home\nmethod: GET\nurl: /\nchecks:\n  status: 200\n")
    (root / "missing.yaml").write_text("name: Missing\nmethod: GET\nurl: /status/404\n")
    return root


def test_passing_threshold_exits_0_with_summary_and_json_report(
    demo_server: RunningServer, tmp_path: Path
) -> None:
    collection = write_collection(tmp_path / "c", demo_server, ["p99 < 10s"])
    report = tmp_path / "run.json"
    done = run_cli(str(collection), "--json", str(report), "--junit", str(tmp_path / "j.xml"))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "p99 < 10s" in done.stdout
    data = json.loads(report.read_text())
    assert set(data) >= JSON_KEYS
    assert set(data["latency_ms"]) >= LATENCY_KEYS
    assert data["requests"] == 20  # 2 users x 5 iterations x 2 requests
    assert data["requests"] == data["successes"] + sum(data["errors"].values())
    assert data["status_codes"] == {"200": 10, "404": 10}
    assert data["errors"].get("http_status") == 10
    assert set(data["per_request"]) == {"Home", "Missing"}
    assert data["per_request"]["Home"]["requests"] == 10
    assert data["thresholds"] == [
        {
            "expr": "p99 < 10s",
            "value": data["thresholds"][0]["value"],
            "passed": True,
            "default": False,
        }
    ]
    assert data["passed"] is True and data["verdict"] == "passed"
    assert (tmp_path / "j.xml").read_text().startswith("<?xml")
    # the saved distribution (t-digest centroids) holds every request, per request too
    digest = data["latency_digest_ms"]
    assert sum(weight for _, weight in digest["all"]) == 20
    assert {name: sum(w for _, w in c) for name, c in digest["per_request"].items()} == {
        "Home": 10,
        "Missing": 10,
    }


def test_failing_threshold_exits_1(demo_server: RunningServer, tmp_path: Path) -> None:
    collection = write_collection(tmp_path / "c", demo_server, ["p99 < 0.001ms"])
    report = tmp_path / "run.json"
    done = run_cli(str(collection / "collection.yaml"), "--quiet", "--json", str(report))
    assert done.returncode == 1, done.stderr
    assert "p99 < 0.001ms" in done.stdout
    data = json.loads(report.read_text())
    assert data["passed"] is False
    assert data["thresholds"][0]["passed"] is False


def test_url_target_runs_a_one_request_collection_and_writes_csv(
    demo_server: RunningServer, tmp_path: Path
) -> None:
    csv_path = tmp_path / "raw.csv"
    report = tmp_path / "run.json"
    done = run_cli(
        f"{demo_server.url}/delay/10",
        "--users",
        "2",
        "--duration",
        "2s",
        "--csv",
        str(csv_path),
        "--json",
        str(report),
    )
    assert done.returncode == 0, done.stderr
    assert "req/s" in done.stderr  # the live line
    rows = csv_path.read_text().splitlines()
    assert rows[0].startswith("elapsed")
    requests = json.loads(report.read_text())["requests"]
    assert requests > 0
    assert len(rows) - 1 == requests  # one row per result (all fit in the ring)


def test_broken_yaml_exits_2_with_file_and_line(demo_server: RunningServer, tmp_path: Path) -> None:
    collection = write_collection(tmp_path / "c", demo_server, [])
    (collection / "home.yaml").write_text("name: Home\nmethod: GET\nurl: [/\n")
    done = run_cli(str(collection))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "error: " in done.stderr
    assert "home.yaml:" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--duration", "10x"), "--duration"),
        (("--users", "-3"), "--users"),
        (("--rate", "fast"), "--rate"),
        (("--workers", "0"), "--workers"),
    ],
)
def test_bad_cli_values_exit_2_with_a_message(
    demo_server: RunningServer, args: tuple[str, ...], message: str
) -> None:
    done = run_cli(f"{demo_server.url}/", *args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert message in done.stderr
    assert args[1] in done.stderr


def test_missing_collection_exits_2(tmp_path: Path) -> None:
    done = run_cli(str(tmp_path / "nowhere"))
    assert done.returncode == 2
    assert "nowhere" in done.stderr
    assert "Traceback" not in done.stderr


def test_report_into_a_missing_directory_exits_2_before_any_load(
    demo_server: RunningServer, tmp_path: Path
) -> None:
    done = run_cli(f"{demo_server.url}/", "--json", str(tmp_path / "no" / "run.json"))
    assert done.returncode == 2
    assert "--json" in done.stderr
    assert "req/s" not in done.stderr


def test_non_http_url_exits_2_naming_the_url() -> None:
    done = run_cli("ftp://127.0.0.1/file")
    assert done.returncode == 2
    assert "ftp://127.0.0.1/file" in done.stderr
    assert "http" in done.stderr
