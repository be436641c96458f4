"""``deli-tui run URL --stress``: the load rises step by step against a server whose latency
follows queueing arithmetic (one request at a time, 20 ms each), and the breaking point found
is where that arithmetic puts it.

The limits are on the median and sit where the arithmetic gives a wide margin on the side the
host's own delays could cross: those delays only ever add latency, so the step meant to break
always does, and the step meant to hold keeps its median under the limit unless the host adds
10 ms to most requests (a p95 limit would be crossed by a few stalls of a busy host)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_run_command import run_cli
from tests.servers.asgi import RunningServer
from tests.servers.serial import serial_server

SERVICE_S = 0.020


def test_users_step_up_until_the_median_breaks_where_n_users_wait_n_turns(tmp_path: Path) -> None:
    report = tmp_path / "stress.json"
    with serial_server(SERVICE_S) as server:
        # 1, 5, 9 users: N users keep N requests queued, so a request takes N x 20 ms:
        # 20, 100, 180 ms. 9 users cannot stay under 150 ms.
        done = run_cli(
            f"{server.url}/", "--stress", "users:1:4:9", "--step-duration", "2s",
            "--until", "p50 > 150ms", "--json", str(report), "--quiet",
        )  # fmt: skip
        served = server.served
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(report.read_text())
    stress = data["stress"]
    assert stress["over"] == "users"
    assert (stress["breaking_point"], stress["max_sustainable"]) == (9, 5)
    steps = stress["steps"]
    assert [(s["load"], s["held"]) for s in steps] == [(1, True), (5, True), (9, False)]
    for step in steps:
        # never faster than the arithmetic, nor more than the server's 50 a second
        assert step["p50_ms"] >= step["load"] * SERVICE_S * 1000 * 0.95, step
        assert 0 < step["rps"] <= 1 / SERVICE_S + 1, step
        assert step["error_rate"] == 0.0
    assert set(steps[0]) == {"load", "rps", "p50_ms", "p95_ms", "p99_ms", "error_rate", "held"}
    assert data["requests"] == served  # every request counted is one the server served
    out = done.stdout
    assert "breaking point: 9 users (p50 > 150ms)" in out
    assert "highest load that held: 5 users" in out


def test_rate_steps_break_once_arrivals_outpace_the_server(tmp_path: Path) -> None:
    report = tmp_path / "stress.json"
    with serial_server(SERVICE_S) as server:
        # evenly spaced arrivals below 50/s never queue (20 ms each); at 60/s the queue, and
        # the latency from the intended send time, grow by 0.2 s every second
        done = run_cli(
            f"{server.url}/", "--stress", "rate:20:20:60", "--step-duration", "2s",
            "--until", "p50 > 200ms", "--json", str(report), "--quiet",
        )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    stress = json.loads(report.read_text())["stress"]
    assert stress["over"] == "rate"
    assert (stress["breaking_point"], stress["max_sustainable"]) == (60, 40)
    assert [s["held"] for s in stress["steps"]] == [True, True, False]


def test_when_max_holds_there_is_no_breaking_point_and_exit_0(
    tmp_path: Path, demo_server: RunningServer
) -> None:
    report = tmp_path / "stress.json"
    done = run_cli(
        f"{demo_server.url}/json", "--stress", "users:1:1:2", "--step-duration", "2s",
        "--until", "p95 > 5s", "--json", str(report), "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    stress = json.loads(report.read_text())["stress"]
    assert stress["breaking_point"] is None and stress["max_sustainable"] == 2
    assert "no breaking point up to 2 users" in done.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--stress", "users:10:10"), "--stress 'users:10:10': expected OVER:START:STEP:MAX"),
        (("--stress", "hosts:1:1:2", "--until", "p95 > 1s"), "over must be users or rate"),
        (("--stress", "users:1:1:2"), "until needs at least one condition"),
        (("--stress", "users:1:1:2", "--until", "p95 > 1s", "--users", "5"), "--users"),
        (("--stress", "users:1:1:2", "--until", "p95 <"), "missing the value"),
        (("--until", "p95 > 1s"), "--until and --step-duration go with --stress"),
    ],
)
def test_bad_stress_options_exit_2(args: tuple[str, ...], says: str) -> None:
    done = run_cli("http://127.0.0.1:9/", *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert says in done.stderr
