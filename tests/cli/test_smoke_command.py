"""``deli-tui run PATH --smoke``: each request once, in order, status, time, size and every
check shown; exit 0 when all pass, 1 when any fails. Real servers on 127.0.0.1."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.servers.asgi import RunningServer

SAFETY_S = 60.0
ROOT = Path(__file__).resolve().parents[2]


def smoke(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deli_tui", "run", *args, "--smoke"],
        capture_output=True,
        text=True,
        timeout=SAFETY_S,
        env={**os.environ, **(env or {})},
    )


def collection(root: Path, server_url: str, requests: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "collection.yaml").write_text(
        f"name: Smoke\nbase_url: {server_url}\nscenarios:\n"
        "  only-home:\n    users: 1\n    duration: 1s\n    requests: [Home]\n"
    )
    for name, text in requests.items():
        (root / f"{name}.yaml").write_text(text)
    return root


HOME = "name: Home\nurl: /\nchecks:\n  status: 200\n"
JSON = (
    "name: Get JSON\nurl: /json\nchecks:\n  status: 200\n  json:\n    - {path: $.id, equals: 42}\n"
)
MISSING = "name: Missing\nurl: /status/404\n"
WRONG = "name: Wrong id\nurl: /json\nchecks:\n  json:\n    - {path: $.id, equals: 7}\n"


def test_every_request_passing_exits_0_with_each_check_shown(
    tmp_path: Path, demo_server: RunningServer
) -> None:
    root = collection(tmp_path / "c", demo_server.url, {"a_home": HOME, "b_json": JSON})
    done = smoke(str(root))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    home = next(i for i, line in enumerate(lines) if " Home " in line)
    assert lines[home].split()[:4] == ["✓", "GET", "Home", "200"]
    assert lines[home + 1].split() == ["✓", "status", "200"]
    json_line = next(i for i, line in enumerate(lines) if "Get JSON" in line)
    assert json_line > home  # in order
    assert "$.id == 42" in lines[json_line + 2]
    assert "2 requests: 2 passed, 0 failed" in done.stdout


def test_a_failing_status_or_check_exits_1_and_says_which(
    tmp_path: Path, demo_server: RunningServer
) -> None:
    root = collection(
        tmp_path / "c", demo_server.url, {"a_home": HOME, "b_missing": MISSING, "c_wrong": WRONG}
    )
    done = smoke(str(root))
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "status 404 Not Found: no status check, and 4xx/5xx fail" in out
    assert "$.id is 42, expected 7" in out
    assert "3 requests: 1 passed, 2 failed" in out


def test_scenario_smokes_only_its_requests(tmp_path: Path, demo_server: RunningServer) -> None:
    root = collection(tmp_path / "c", demo_server.url, {"a_home": HOME, "b_missing": MISSING})
    done = smoke(str(root), "--scenario", "only-home")
    assert done.returncode == 0, done.stdout
    assert "Missing" not in done.stdout and "1 requests: 1 passed" in done.stdout


def test_a_url_and_a_refused_connection(closed_port: int, demo_server: RunningServer) -> None:
    assert smoke(f"{demo_server.url}/json").returncode == 0
    done = smoke(f"http://127.0.0.1:{closed_port}/")
    assert done.returncode == 1
    assert "connect" in done.stdout


def test_a_flow_sends_its_setup_then_each_request_with_the_values_taken(
    tmp_path: Path, demo_server: RunningServer
) -> None:
    root = tmp_path / "demo"
    shutil.copytree(ROOT / "sample_collections" / "demo", root)
    port = {"port": str(demo_server.port)}
    done = smoke(str(root), "--scenario", "flow", env=port)
    assert done.returncode == 0, done.stdout + done.stderr
    sent = [line.split() for line in done.stdout.splitlines() if line.startswith("  ✓ ")]
    assert [words[2] for words in sent if words[1] in ("GET", "POST")] == ["Login", "List", "Get"]
    assert "Login (flow, setup)" in done.stdout
    # the item fetched is the one List items returned: its id reached the URL
    (root / "shop" / "list_items.yaml").write_text(
        (root / "shop" / "list_items.yaml").read_text().replace("$.items[0].id", "$.nothing")
    )
    broken = smoke(str(root), "--scenario", "flow", env=port)
    assert broken.returncode == 1
    assert "extract item_id {json: $.nothing}: not found in the body" in broken.stdout


def test_the_whole_demo_sends_each_flow_as_a_user_of_it_and_every_other_request_once(
    tmp_path: Path, demo_server: RunningServer
) -> None:
    """Login's {{user.name}} comes from the flow scenario's data file: checked on its own it
    could not be sent, so every request no flow covers goes first, then the flow as a user."""
    root = tmp_path / "demo"
    shutil.copytree(ROOT / "sample_collections" / "demo", root)
    done = smoke(str(root), env={"port": str(demo_server.port)})
    assert done.returncode == 0, done.stdout + done.stderr
    names = re.findall(r"^  ✓ [A-Z]+ +(.+?)  200  ", done.stdout, re.MULTILINE)
    assert names[-3:] == ["Login (flow, setup)", "List items (flow)", "Get item (flow)"]
    plain = names[:-3]
    assert "Home" in plain and "Get JSON" in plain and len(plain) == len(set(plain))
    assert not any("Login" in name or "item" in name for name in plain)
    assert f"{len(names)} requests: {len(names)} passed, 0 failed" in done.stdout


def test_smoke_of_bad_input_exits_2(tmp_path: Path) -> None:
    root = tmp_path / "c"
    root.mkdir()
    (root / "collection.yaml").write_text("name: Bad\nbase_url: http://127.0.0.1:9\n")
    (root / "a.yaml").write_text("name: A\nurl: /{{nope}}\n")
    done = smoke(str(root))
    assert done.returncode == 2 and "nope" in done.stderr
