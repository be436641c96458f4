"""End to end, as a person would: the installed ``deli-tui`` in tmux at 80x24, TERM=xterm-256color.

Start the demo with a run, read the live dashboard from the pane, stop the run, quit with
ctrl+q, then make sure no process of it is left (by process tree and by a marker in the
environment every child inherits). ``--demo`` saves its run and engine log next to the demo
collection (in the source tree): the test puts that directory back as it found it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

SAFETY_S = 90.0  # only a hang reaches it
HISTOGRAM_ROW = re.compile(r"\d[\d.]*(?:us|ms|s) │[█▉▊▋▌▍▎▏]")
RATE = re.compile(r"([\d.]+k?) req/s")


def require(tool: str) -> str:
    """The program ``tool``: next to this Python first (CI runs ``.venv/bin/python -m pytest``
    without putting ``.venv/bin`` on PATH), else on PATH."""
    beside = Path(sys.executable).parent / tool  # the venv's bin; not resolved (a symlink)
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    path = shutil.which(tool)
    if path is None:
        pytest.fail(
            f"{tool} is not installed or not on PATH: this end-to-end test needs it "
            "(CI installs tmux; locally: apt-get install tmux, pip install -e .)"
        )
    return path


class Tmux:
    """A private tmux server (its own socket) with one 80x24 session."""

    def __init__(self, tmux: str) -> None:
        self.tmux = tmux
        self.socket = f"deli-e2e-{os.getpid()}-{uuid.uuid4().hex[:6]}"

    def __call__(self, *args: str) -> str:
        result = subprocess.run(
            [self.tmux, "-L", self.socket, *args],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
        return result.stdout

    def pane(self) -> str:
        return self("capture-pane", "-p", "-t", "e2e")

    def kill(self) -> None:
        subprocess.run(
            [self.tmux, "-L", self.socket, "kill-server"], capture_output=True, timeout=20
        )


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    server = Tmux(require("tmux"))
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def demo_state_restored() -> Iterator[Path]:
    """The demo collection's ``.deli`` directory, put back as it was after the test (the
    run JSON and engine log that ``--demo`` writes there are removed or restored)."""
    from deli_tui.demo import locate_demo_collection

    root = locate_demo_collection()
    assert root is not None, "the demo collection is missing from this installation"
    state = root / ".deli"
    dirs = {p for p in state.rglob("*") if p.is_dir()} | ({state} if state.is_dir() else set())
    files = {p: p.read_bytes() for p in state.rglob("*") if p.is_file()}
    try:
        yield state
    finally:
        if state.is_dir():
            for path in sorted(state.rglob("*"), reverse=True):  # children before parents
                if path.is_dir():
                    if path not in dirs:
                        shutil.rmtree(path, ignore_errors=True)
                elif path not in files:
                    path.unlink(missing_ok=True)
                elif path.read_bytes() != files[path]:
                    path.write_bytes(files[path])
            if state not in dirs:
                shutil.rmtree(state, ignore_errors=True)


def wait_for_pane(tmux: Tmux, check: Callable[[str], bool], what: str) -> str:
    deadline = time.monotonic() + SAFETY_S
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux.pane()
        if check(screen):
            return screen
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}; the pane shows:\n{screen}")


def marked_processes(marker: str) -> list[psutil.Process]:
    """Live processes whose environment carries ``DELI_E2E_MARK=marker``."""
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.environ().get("DELI_E2E_MARK") == marker and proc.status() != "zombie":
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def wait_gone(procs: list[psutil.Process], marker: str) -> list[str]:
    """Processes from ``procs`` or carrying ``marker`` still alive after a grace period."""
    deadline = time.monotonic() + 15.0
    while True:
        alive = [p for p in procs if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        alive += [p for p in marked_processes(marker) if p not in alive]
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    names = []
    for proc in alive:
        try:
            names.append(f"{proc.pid} {' '.join(proc.cmdline())[:120]}")
        except psutil.Error:
            continue
    return names


def describe(procs: list[psutil.Process]) -> list[str]:
    """pid, parent, state and command of each process still there (for failure messages)."""
    out = []
    for proc in procs:
        try:
            with proc.oneshot():
                out.append(f"{proc.pid} ppid={proc.ppid()} {proc.status()} {proc.name()}")
        except psutil.Error as exc:
            out.append(f"{proc.pid} {type(exc).__name__}")
    return out


def test_demo_run_in_tmux_shows_rate_p99_histogram_then_stops_quits_and_leaves_nothing(
    tmux: Tmux, demo_state_restored: Path, tmp_path: Path
) -> None:
    deli = require("deli-tui")
    runs = demo_state_restored / "runs"
    saved_before = set(runs.glob("*.json"))
    marker = uuid.uuid4().hex
    # The shell in the pane writes deli-tui's exit status to a file: tmux's own
    # #{pane_dead_status} stays empty when its server has not reaped the pane's process,
    # which was seen for 25 s and more on a loaded machine (a zombie under the tmux server).
    exit_file = tmp_path / "exit-status"
    command = (
        f"env TERM=xterm-256color DELI_E2E_MARK={marker} {deli} --demo --run smoke;"
        f" echo $? > {exit_file}.part && mv {exit_file}.part {exit_file}"
    )
    tmux("new-session", "-d", "-s", "e2e", "-x", "80", "-y", "24", command)
    tmux("set-option", "-t", "e2e", "remain-on-exit", "on")  # keep a crash message readable
    pane = psutil.Process(int(tmux("display-message", "-p", "-t", "e2e", "#{pane_pid}").strip()))

    def live(screen: str) -> bool:
        rates = [r for r in RATE.findall(screen) if r.rstrip("k") not in ("0", "0.0")]
        return bool(rates) and "p99" in screen and len(HISTOGRAM_ROW.findall(screen)) >= 3

    screen = wait_for_pane(tmux, live, "req/s, p99 and histogram rows")
    assert "smoke" in screen
    tree = pane.children(recursive=True)
    assert tree, "deli-tui should have started the demo server and the engine"

    tmux("send-keys", "-t", "e2e", "s")
    screen = wait_for_pane(tmux, lambda s: "STOPPED" in s or "FAILED" in s, "the final verdict")
    assert "stopped" in screen

    tmux("send-keys", "-t", "e2e", "C-q")
    try:
        wait_for_pane(tmux, lambda _s: exit_file.exists(), "deli-tui to exit after ctrl+q")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nprocesses: {describe([pane, *tree])}") from None
    status = exit_file.read_text().strip()
    assert status == "0", f"deli-tui exited with {status}:\n{tmux.pane()}"
    leftovers = wait_gone([pane, *tree], marker)
    assert leftovers == [], f"processes left behind: {leftovers}"
    assert set(runs.glob("*-smoke.json")) - saved_before, "the stopped run was not saved"


def start_demo_server(deli: str, marker: str) -> tuple[subprocess.Popen[str], int]:
    """``deli-tui demo-server --port 0`` and the port it prints."""
    env = {**os.environ, "DELI_E2E_MARK": marker}
    server = subprocess.Popen(
        [deli, "demo-server", "--port", "0"], stdout=subprocess.PIPE, text=True, env=env
    )
    assert server.stdout is not None
    line = server.stdout.readline()
    found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
    assert found, f"demo-server said: {line!r}"
    return server, int(found.group(1))


def test_select_send_delete_and_palette_jump_in_tmux_keep_the_screen_in_step(
    tmux: Tmux, tmp_path: Path
) -> None:
    """At 80x24: the editor and the response follow the selected request, a deleted request
    leaves neither behind, and the palette jumps to a scenario by name."""
    from deli_tui.demo import locate_demo_collection

    deli = require("deli-tui")
    demo = locate_demo_collection()
    assert demo is not None
    root = Path(shutil.copytree(demo, tmp_path / "demo", ignore=shutil.ignore_patterns(".*")))
    marker = uuid.uuid4().hex
    server, port = start_demo_server(deli, marker)
    env_file = tmp_path / "port.env"
    env_file.write_text(f"port={port}\n")
    exit_file = tmp_path / "exit-status"
    command = (
        f"env TERM=xterm-256color DELI_E2E_MARK={marker} {deli} {root} --env-file {env_file};"
        f" echo $? > {exit_file}.part && mv {exit_file}.part {exit_file}"
    )
    try:
        tmux("new-session", "-d", "-s", "e2e", "-x", "80", "-y", "24", command)
        tmux("set-option", "-t", "e2e", "remain-on-exit", "on")
        screen = wait_for_pane(tmux, lambda s: "Nothing sent yet for" in s, "the requests screen")
        first = re.search(r"Nothing sent yet for (.+?): ", screen)
        assert first, screen

        tmux("send-keys", "-t", "e2e", "C-r")  # send the selected request
        screen = wait_for_pane(tmux, lambda s: "200 OK" in s, "its response")
        assert f"Response · {first.group(1)} at " in screen

        tmux("send-keys", "-t", "e2e", "Down")  # select the next request
        screen = wait_for_pane(
            tmux, lambda s: "200 OK" not in s and "Nothing sent yet for" in s, "the next request"
        )
        second = re.search(r"Nothing sent yet for (.+?): ", screen)
        assert second and second.group(1) != first.group(1), screen
        editor_title = re.search(r"╭─ (\S+\.yaml) ", screen)
        assert editor_title, screen
        selected = editor_title.group(1)

        tmux("send-keys", "-t", "e2e", "x")  # delete it: the dialog asks, Delete is left of No
        wait_for_pane(tmux, lambda s: f"Delete the request file {selected}?" in s, "the dialog")
        tmux("send-keys", "-t", "e2e", "Left", "Enter")
        screen = wait_for_pane(
            tmux, lambda s: f"{selected} " not in s and "Delete the" not in s, "the deletion"
        )
        assert not (root / selected).exists()
        assert second.group(1) not in screen  # neither the editor nor the response shows it
        assert "no request selected" in screen and "No request selected" in screen

        tmux("send-keys", "-t", "e2e", "C-r")  # ctrl+r with nothing selected says so
        wait_for_pane(tmux, lambda s: "Nothing to send" in s, "the notice that nothing is sent")
        tmux("send-keys", "-t", "e2e", "C-p")
        wait_for_pane(tmux, lambda s: "Search for commands" in s, "the command palette")
        tmux("send-keys", "-t", "e2e", "-l", "smoke")
        wait_for_pane(tmux, lambda s: "Scenario: smoke" in s, "the scenario in the palette")
        tmux("send-keys", "-t", "e2e", "Enter")
        wait_for_pane(tmux, lambda s: "scenario smoke" in s, "the scenario form")

        tmux("send-keys", "-t", "e2e", "C-q")
        wait_for_pane(tmux, lambda _s: exit_file.exists(), "deli-tui to exit after ctrl+q")
        status = exit_file.read_text().strip()
        assert status == "0", f"deli-tui exited with {status}:\n{tmux.pane()}"
    finally:
        server.terminate()
        server.wait(timeout=15)
    leftovers = wait_gone([], marker)
    assert leftovers == [], f"processes left behind: {leftovers}"
