"""A run's verdict is never wrong: a scenario without thresholds is judged by the default
``error_rate < 1%`` (marked "default" in every report), ``thresholds: []`` and
``--no-default-thresholds`` turn it off, and a run where everything fails exits 1."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.cli.test_run_command import run_cli
from tests.servers.asgi import RunningServer
from tests.servers.faults import FaultServer

SHORT = ("--users", "2", "--duration", "1s", "--quiet")


def reports(tmp_path: Path) -> tuple[str, ...]:
    return ("--json", str(tmp_path / "run.json"), "--junit", str(tmp_path / "run.xml"))


def test_a_run_of_connect_errors_fails_on_the_default_threshold(tmp_path: Path) -> None:
    done = run_cli("http://127.0.0.1:1/", *SHORT, *reports(tmp_path))
    assert done.returncode == 1, done.stderr
    assert "error_rate < 1% (default)" in done.stdout
    assert done.stdout.rstrip().endswith("FAILED")
    data = json.loads((tmp_path / "run.json").read_text())
    # every error is one message, counted in the summary's error distribution
    (message,) = data["error_messages"]
    assert message["count"] == data["requests"] and message["class"] == "connect"
    assert f"[{data['requests']:,}] connect: {message['message']}" in done.stdout
    assert data["passed"] is False and data["verdict"] == "failed"
    assert data["errors"] == {"connect": data["requests"]} and data["requests"] > 0
    assert data["thresholds"] == [
        {"expr": "error_rate < 1%", "value": 1.0, "passed": False, "default": True}
    ]
    for report in ("run.json", "run.xml"):
        assert (tmp_path / report).stat().st_mode & 0o777 == 0o600  # reports are private
        assert f"wrote {tmp_path / report}" in done.stderr
    suite = ET.parse(tmp_path / "run.xml").getroot()
    (case,) = suite.iter("testcase")
    assert case.get("name") == "error_rate < 1% (default)"
    assert case.find("failure") is not None


def test_a_run_of_500s_fails(demo_server: RunningServer, tmp_path: Path) -> None:
    done = run_cli(f"{demo_server.url}/status/500", *SHORT, *reports(tmp_path))
    assert done.returncode == 1, done.stderr
    assert done.stdout.rstrip().endswith("FAILED")
    data = json.loads((tmp_path / "run.json").read_text())
    assert data["errors"] == {"http_status": data["requests"]}


def test_a_run_where_tls_fails_fails(untrusted_tls_faults: FaultServer, tmp_path: Path) -> None:
    done = run_cli(f"{untrusted_tls_faults.url}/ok", *SHORT, *reports(tmp_path))
    assert done.returncode == 1, done.stderr
    assert done.stdout.rstrip().endswith("FAILED")
    assert json.loads((tmp_path / "run.json").read_text())["errors"].keys() == {"tls"}


def test_no_default_thresholds_leaves_the_run_unjudged(
    demo_server: RunningServer, tmp_path: Path
) -> None:
    done = run_cli(
        f"{demo_server.url}/status/500", *SHORT, "--no-default-thresholds", *reports(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    assert "(default)" not in done.stdout
    assert json.loads((tmp_path / "run.json").read_text())["thresholds"] == []


@pytest.mark.parametrize(
    ("thresholds", "exit_code", "judged"),
    [
        (None, 1, [("error_rate < 1%", True)]),
        ("[]", 0, []),
        ("[p99 < 10s]", 0, [("p99 < 10s", False)]),
    ],
    ids=["none: the default", "[]: off", "its own"],
)
def test_a_scenario_says_whether_the_default_applies(
    demo_server: RunningServer,
    tmp_path: Path,
    thresholds: str | None,
    exit_code: int,
    judged: list[tuple[str, bool]],
) -> None:
    root = tmp_path / "c"
    root.mkdir()
    lines = ["name: Failing", f"base_url: {demo_server.url}", "scenarios:", "  once:"]
    lines += ["    users: 1", "    iterations: 3", "    duration: 30s"]
    if thresholds is not None:
        lines.append(f"    thresholds: {thresholds}")
    (root / "collection.yaml").write_text("\n".join(lines) + "\n")
    (root / "fail.yaml").write_text("name: Fail\nurl: /status/503\n")
    done = run_cli(str(root), "--quiet", "--json", str(tmp_path / "run.json"))
    assert done.returncode == exit_code, done.stdout + done.stderr
    data = json.loads((tmp_path / "run.json").read_text())
    assert data["requests"] == data["errors"]["http_status"] == 3
    assert [(t["expr"], t["default"]) for t in data["thresholds"]] == judged
