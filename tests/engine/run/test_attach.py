"""Attach to a headless run served with ``--listen``, watch it, detach, and let it finish."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client
from pathlib import Path

import pytest

from engine.plan.model import LoadProfile, RunPlan, Stage
from engine.run.attach import AttachError, AttachHandle
from engine.run.protocol import Finished, Message, Ping, Pong, Snapshot, Start, Stop
from tests.servers.asgi import RunningServer

SAFETY_S = 60.0


@pytest.fixture
def socket_path() -> Iterator[Path]:
    """A short path (Unix socket paths are limited to ~107 bytes)."""
    directory = tempfile.mkdtemp(prefix="deli-", dir="/tmp")
    yield Path(directory) / "run.sock"
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def headless_listening(
    demo_server: RunningServer, socket_path: Path
) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deli_tui",
            "run",
            f"{demo_server.url}/delay/20",
            "--users",
            "2",
            "--duration",
            "6s",
            "--quiet",
            "--listen",
            str(socket_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + SAFETY_S
    key = Path(f"{socket_path}.key")
    while not (socket_path.exists() and key.exists() and key.stat().st_size):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never started listening"
        time.sleep(0.05)
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def receive(viewer: AttachHandle, count: int, kind: type) -> list[Message]:
    got: list[Message] = []
    deadline = time.monotonic() + SAFETY_S
    while len([m for m in got if isinstance(m, kind)]) < count:
        assert time.monotonic() < deadline, f"only {got}"
        if viewer.poll(0.1):
            got.append(viewer.recv())
    return got


def test_socket_and_key_file_are_private_to_the_user(
    headless_listening: subprocess.Popen[str], socket_path: Path
) -> None:
    assert stat.S_ISSOCK(socket_path.stat().st_mode)
    assert stat.S_IMODE(socket_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(f"{socket_path}.key").stat().st_mode) == 0o600


def test_watch_detach_and_the_run_goes_on_to_finish(
    headless_listening: subprocess.Popen[str], socket_path: Path
) -> None:
    viewer = AttachHandle.connect(socket_path)
    snapshots = [m for m in receive(viewer, 2, Snapshot) if isinstance(m, Snapshot)]
    assert snapshots[-1].collection
    viewer.close()  # detach
    assert not viewer.alive
    second = AttachHandle.connect(socket_path)
    third = AttachHandle.connect(socket_path)
    receive(third, 1, Snapshot)
    third.close()  # one viewer leaves, the others keep watching
    second.send(Ping(3))
    got = receive(second, 1, Finished)
    assert Pong(3) in got
    finished = got[-1]
    assert isinstance(finished, Finished)
    assert finished.snapshot.requests > 0
    assert finished.results == ()  # raw results stay with the caller that started the run
    second.close()
    _out, err = headless_listening.communicate(timeout=SAFETY_S)
    assert headless_listening.returncode == 0, err
    assert not socket_path.exists()
    assert not Path(f"{socket_path}.key").exists()


def test_viewer_that_drops_without_reading_never_affects_the_run(
    headless_listening: subprocess.Popen[str], socket_path: Path
) -> None:
    stalled = AttachHandle.connect(socket_path)  # never reads
    dropped = AttachHandle.connect(socket_path)
    dropped._conn.close()  # the link goes away without a goodbye
    _out, err = headless_listening.communicate(timeout=SAFETY_S)
    assert headless_listening.returncode == 0, err
    stalled.close()


def test_wrong_key_is_refused_and_the_run_goes_on(
    headless_listening: subprocess.Popen[str], socket_path: Path
) -> None:
    with pytest.raises((AuthenticationError, EOFError, ConnectionError)):
        Client(os.fspath(socket_path), family="AF_UNIX", authkey=b"not the key")
    viewer = AttachHandle.connect(socket_path)
    receive(viewer, 1, Snapshot)
    viewer.close()
    headless_listening.communicate(timeout=SAFETY_S)
    assert headless_listening.returncode == 0


def test_attach_to_nothing_says_what_is_missing(socket_path: Path) -> None:
    with pytest.raises(AttachError, match="no run is listening"):
        AttachHandle.connect(socket_path)


def test_viewer_may_stop_the_run_but_never_start_one(
    headless_listening: subprocess.Popen[str], socket_path: Path
) -> None:
    with AttachHandle.connect(socket_path) as viewer:
        receive(viewer, 1, Snapshot)
        with pytest.raises(ValueError, match="cannot send Start"):
            viewer.send(Start(receive_plan_placeholder()))
        viewer.send(Stop())
        finished = receive(viewer, 1, Finished)[-1]
        assert isinstance(finished, Finished)
        assert finished.reason == "stopped"
    out, _ = headless_listening.communicate(timeout=SAFETY_S)
    assert headless_listening.returncode == 1  # stopped before its end: not a pass
    assert out.rstrip().endswith("STOPPED")


def receive_plan_placeholder() -> RunPlan:
    """Any plan: a viewer is refused before it is looked at."""
    return RunPlan("c", "s", "http://127.0.0.1:1", (), LoadProfile("closed", (Stage(1, 1),)))


def test_a_socket_in_use_by_another_run_is_refused_with_exit_2(
    headless_listening: subprocess.Popen[str], socket_path: Path, demo_server: RunningServer
) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "deli_tui",
            "run",
            f"{demo_server.url}/",
            "--listen",
            str(socket_path),
        ],
        capture_output=True,
        text=True,
        timeout=SAFETY_S,
    )
    assert done.returncode == 2
    assert "in use" in done.stderr
    assert "req/s" not in done.stderr
    headless_listening.communicate(timeout=SAFETY_S)
    assert headless_listening.returncode == 0


def test_a_stale_socket_left_by_a_killed_run_is_taken_over(
    demo_server: RunningServer, socket_path: Path
) -> None:
    import socket

    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(os.fspath(socket_path))
    stale.close()  # the file stays, nobody listens: what a SIGKILLed run leaves
    Path(f"{socket_path}.key").write_text("00")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "deli_tui",
            "run",
            f"{demo_server.url}/",
            "--users",
            "1",
            "--duration",
            "1s",
            "--quiet",
            "--listen",
            str(socket_path),
        ],
        capture_output=True,
        text=True,
        timeout=SAFETY_S,
    )
    assert done.returncode == 0, done.stderr
    assert not socket_path.exists()
    assert not Path(f"{socket_path}.key").exists()


def listen_run(url: str, socket_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deli_tui", "run", url, "--users", "1", "--duration", "1s",
         "--quiet", "--listen", str(socket_path)],
        capture_output=True,
        text=True,
        timeout=SAFETY_S,
    )  # fmt: skip


def test_a_key_file_left_without_its_socket_is_replaced(
    demo_server: RunningServer, socket_path: Path
) -> None:
    key = Path(f"{socket_path}.key")
    key.write_text("00")  # the socket went (a reboot, a cleanup of /tmp), the key stayed
    done = listen_run(f"{demo_server.url}/", socket_path)
    assert done.returncode == 0, done.stderr
    assert "error" not in done.stderr and "listening on" in done.stderr
    assert not key.exists()  # the run's own key, removed at its end


def test_a_key_path_that_is_not_a_file_is_refused_before_listening(
    demo_server: RunningServer, socket_path: Path
) -> None:
    Path(f"{socket_path}.key").mkdir()
    done = listen_run(f"{demo_server.url}/", socket_path)
    assert done.returncode == 2
    assert "is not a key file" in done.stderr
    assert "listening on" not in done.stderr and "Traceback" not in done.stderr
