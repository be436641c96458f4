"""Process hygiene of ``deli-tui run``: Ctrl-C, SIGTERM and a dropped SSH session (SIGHUP) stop
the run cleanly, print the summary of what was measured, and leave no process behind."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import psutil
import pytest

from tests.servers.asgi import RunningServer

SAFETY_S = 60.0


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def start_headless(url: str, *extra: str) -> subprocess.Popen[str]:
    """``deli-tui run URL`` in its own session, as a terminal would run a foreground job."""
    return subprocess.Popen(
        [sys.executable, "-m", "deli_tui", "run", url, "--users", "2", "--duration", "60s", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for_load(proc: subprocess.Popen[str]) -> list[psutil.Process]:
    """Wait until the engine (supervisor + a worker) runs and the first live line is out."""
    assert proc.stderr is not None
    deadline = time.monotonic() + SAFETY_S
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if "req/s" in line:
            found = descendants(proc.pid)
            assert len(found) >= 2, found
            return found
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"no live line; exit code {proc.poll()}")


@pytest.fixture
def tracked() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            for child in descendants(proc.pid):
                child.kill()
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("signum", "whole_group", "exit_code"),
    [
        (signal.SIGINT, True, 130),  # Ctrl-C reaches the whole foreground process group
        (signal.SIGTERM, False, 128 + signal.SIGTERM),  # kill PID, CI timeouts
        (signal.SIGTERM, True, 128 + signal.SIGTERM),  # systemd / kill -- -PGID
        (signal.SIGHUP, True, 128 + signal.SIGHUP),  # the SSH session dropped
    ],
    ids=["sigint-group", "sigterm-pid", "sigterm-group", "sighup-group"],
)
def test_signal_stops_the_run_cleanly_with_a_summary_and_no_orphans(
    demo_server: RunningServer,
    tracked: list[subprocess.Popen[str]],
    signum: int,
    whole_group: bool,
    exit_code: int,
) -> None:
    proc = start_headless(f"{demo_server.url}/delay/20")
    tracked.append(proc)
    engine = wait_for_load(proc)
    if whole_group:
        os.killpg(proc.pid, signum)
    else:
        os.kill(proc.pid, signum)
    out, err = proc.communicate(timeout=SAFETY_S)
    assert proc.returncode == exit_code, err
    assert "Traceback" not in err
    assert "requests" in out.lower(), out
    assert out.rstrip().endswith("STOPPED"), out  # never "passed": the run did not finish
    _, alive = psutil.wait_procs(engine, timeout=10)
    assert not alive, f"left behind: {alive}"


def test_second_ctrl_c_still_ends_cleanly(
    demo_server: RunningServer, tracked: list[subprocess.Popen[str]]
) -> None:
    proc = start_headless(f"{demo_server.url}/delay/20")
    tracked.append(proc)
    engine = wait_for_load(proc)
    os.killpg(proc.pid, signal.SIGINT)
    time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _out, err = proc.communicate(timeout=SAFETY_S)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    _, alive = psutil.wait_procs(engine, timeout=10)
    assert not alive, f"left behind: {alive}"


def test_ctrl_c_held_down_until_exit_still_gives_the_summary_and_130(
    demo_server: RunningServer, tracked: list[subprocess.Popen[str]]
) -> None:
    """Ctrl-C repeated every few milliseconds until the process is gone: whatever it is doing
    when one arrives (draining, closing the engine, printing the summary, exiting), it ends
    with the summary and exit code 130, not killed by the signal."""
    proc = start_headless(f"{demo_server.url}/delay/20")
    tracked.append(proc)
    engine = wait_for_load(proc)
    sent = 0
    deadline = time.monotonic() + SAFETY_S
    while proc.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGINT)
            sent += 1
        time.sleep(0.005)
    out, err = proc.communicate(timeout=SAFETY_S)
    assert sent >= 2, sent
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "requests" in out.lower(), out
    _, alive = psutil.wait_procs(engine, timeout=10)
    assert not alive, f"left behind: {alive}"


def test_killing_the_headless_process_takes_the_engine_down(
    demo_server: RunningServer, tracked: list[subprocess.Popen[str]]
) -> None:
    proc = start_headless(f"{demo_server.url}/delay/20")
    tracked.append(proc)
    engine = wait_for_load(proc)
    proc.kill()  # SIGKILL: no chance to clean up; the engine notices the pipe closing
    proc.wait(timeout=SAFETY_S)
    _, alive = psutil.wait_procs(engine, timeout=SAFETY_S / 2)
    assert not alive, f"left behind: {alive}"


def test_engine_killed_under_a_headless_run_still_gives_a_summary_and_exit_1(
    demo_server: RunningServer, tracked: list[subprocess.Popen[str]]
) -> None:
    proc = start_headless(f"{demo_server.url}/delay/20")
    tracked.append(proc)
    engine = wait_for_load(proc)
    supervisor = next(
        p
        for p in engine
        if p.ppid() == proc.pid and "resource_tracker" not in " ".join(p.cmdline())
    )
    supervisor.kill()
    out, err = proc.communicate(timeout=SAFETY_S)
    assert proc.returncode == 1, err
    assert "ended unexpectedly" in err
    assert "requests" in out.lower(), out
    _, alive = psutil.wait_procs(engine, timeout=10)
    assert not alive, f"left behind: {alive}"
