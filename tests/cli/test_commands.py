"""The small commands: --version, --help listing every command, ``new``, ``demo-server``
printing its address, and ``serve`` refusing bad input and warning that it has no
authentication. Each runs the real command in a subprocess."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from engine.collection.loader import load_collection


def deli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deli_tui", *args], capture_output=True, text=True, timeout=timeout
    )


def test_version_prints_the_installed_version() -> None:
    from importlib.metadata import version

    for flag in ("--version", "-V"):
        result = deli(flag)
        assert result.returncode == 0
        assert result.stdout.strip() == f"deli-tui {version('deli-tui')}"


def test_help_lists_every_command() -> None:
    result = deli("--help")
    assert result.returncode == 0
    for command in ("run", "attach", "serve", "new", "import", "compare", "demo-server"):
        assert re.search(rf"^  deli-tui {command}\b", result.stdout, re.M), command


def test_new_writes_a_collection_that_loads_and_refuses_to_overwrite_one(tmp_path: Path) -> None:
    target = tmp_path / "shop"
    result = deli("new", str(target), "--name", "Shop: v2")
    assert result.returncode == 0, result.stderr
    assert f"deli-tui {target}" in result.stdout
    collection = load_collection(target)
    assert collection.name == "Shop: v2"
    assert collection.base_url == "http://127.0.0.1:8089"
    assert list(collection.scenarios) == ["smoke"]
    assert [r.name for r in collection.requests] == ["Home"]
    before = (target / "collection.yaml").read_bytes()
    again = deli("new", str(target))
    assert again.returncode == 2
    assert "already holds a collection" in again.stderr
    assert (target / "collection.yaml").read_bytes() == before


def test_new_refuses_a_base_url_without_scheme(tmp_path: Path) -> None:
    result = deli("new", str(tmp_path / "x"), "--base-url", "localhost:8080")
    assert result.returncode == 2
    assert "no scheme" in result.stderr and "hint" in result.stderr
    assert not (tmp_path / "x" / "collection.yaml").exists()


def test_demo_server_with_port_0_prints_the_port_it_got_and_answers_there() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "deli_tui", "demo-server", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r"listening on (http://127\.0\.0\.1:(\d+))", line)
        assert found and int(found.group(2)) > 0, line
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(found.group(1) + "/", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the demo server never answered"
                time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_serve_refuses_what_it_cannot_serve(tmp_path: Path) -> None:
    nothing = deli("serve", str(tmp_path))
    assert nothing.returncode == 2 and "no collection.yaml" in nothing.stderr
    gone = deli("serve", "--attach", str(tmp_path / "gone.sock"))
    assert gone.returncode == 2 and "no such socket" in gone.stderr


def test_serve_listens_on_127_0_0_1_and_warns_it_has_no_authentication(tmp_path: Path) -> None:
    assert deli("new", str(tmp_path / "c")).returncode == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "deli_tui", "serve", str(tmp_path / "c"), "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        second = proc.stderr.readline()
        assert re.search(r" on http://127\.0\.0\.1:\d+$", first.strip()), first
        assert "no authentication" in second, second
    finally:
        proc.terminate()
        proc.wait(timeout=15)
