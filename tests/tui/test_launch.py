"""Starting the TUI: argument errors exit 2, the demo server comes and goes, --run starts a run."""

from __future__ import annotations

import asyncio
import http.client
import os
from pathlib import Path

import psutil
import pytest

from deli_tui.demo import DemoServerProcess, locate_demo_collection, pick_demo_port
from deli_tui.launch import attach_from_argv, resolve_collection_root, tui_from_argv
from deli_tui.screens.scenario import ScenarioScreen
from tests.tui.conftest import write_collection


def test_no_collection_in_cwd_is_a_clear_error_with_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert tui_from_argv([]) == 2
    err = capsys.readouterr().err
    assert "no collection.yaml in the current directory" in err and "--demo" in err


def test_bad_paths_and_unknown_scenario_exit_2(tmp_path, collection_dir, capsys):
    assert tui_from_argv([str(tmp_path / "nope")]) == 2
    assert "no such directory" in capsys.readouterr().err
    assert tui_from_argv([str(collection_dir), "--run", "soak"]) == 2
    err = capsys.readouterr().err
    assert "no such scenario" in err and "smoke" in err
    assert tui_from_argv([str(collection_dir), "--env-file", str(tmp_path / "missing.env")]) == 2


def test_broken_collection_lists_file_and_line(tmp_path, capsys):
    root = write_collection(tmp_path / "bad", "http://127.0.0.1:9")
    (root / "health.yaml").write_text("name: health\nmethod: FETCH\nurl: /\n")
    assert tui_from_argv([str(root)]) == 2
    err = capsys.readouterr().err
    assert "health.yaml:2" in err and "FETCH" in err


def test_collection_yaml_path_means_its_directory(collection_dir):
    assert resolve_collection_root(str(collection_dir / "collection.yaml")) == collection_dir
    with pytest.raises(ValueError, match=r"no collection\.yaml"):
        resolve_collection_root(str(collection_dir / "users"))


def test_attach_to_a_missing_socket_exits_2(tmp_path, capsys):
    assert attach_from_argv([str(tmp_path / "gone.sock")]) == 2
    assert "no such socket" in capsys.readouterr().err


def test_demo_collection_is_found_and_loads():
    from engine.collection.loader import load_collection

    root = locate_demo_collection()
    assert root is not None
    assert load_collection(root).requests


def test_demo_server_answers_then_stops_with_no_process_left():
    server = DemoServerProcess(port=pick_demo_port())
    server.start()
    try:
        pid = server.process.pid
        conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
        conn.request("GET", "/json")
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        server.stop()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


async def test_run_option_opens_the_dashboard_and_ctrl_q_leaves_no_engine(
    tmp_path, demo_server, make_app
):
    root = write_collection(tmp_path / "shop", demo_server.url)
    app = make_app(root, run_scenario="smoke")
    me = psutil.Process(os.getpid())
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if type(app.screen).__name__ == "RunScreen":
                break
        assert type(app.screen).__name__ == "RunScreen"
        await pilot.press("ctrl+q")
    await _wait_no_children(me)


def _is_resource_tracker(proc: psutil.Process) -> bool:
    """multiprocessing's own helper, which lives as long as the test process."""
    try:
        return any("resource_tracker" in part for part in proc.cmdline())
    except psutil.Error:
        return True


async def _wait_no_children(me: psutil.Process) -> None:
    import asyncio

    for _ in range(100):
        alive = [
            c
            for c in me.children(recursive=True)
            if c.status() != psutil.STATUS_ZOMBIE and not _is_resource_tracker(c)
        ]
        if not alive:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"engine processes left: {[p.cmdline() for p in alive]}")


async def test_scenarios_screen_has_the_demo_scenarios(make_app):
    root = locate_demo_collection()
    assert root is not None
    app = make_app(Path(root))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, ScenarioScreen)
        assert app.screen.current is not None


async def test_attach_watches_a_headless_run_and_detach_leaves_it_running(tmp_path, demo_server):
    import subprocess
    import sys

    from deli_tui.launch import attach_app

    sock = str(tmp_path / "run.sock")
    cmd = [sys.executable, "-m", "deli_tui", "run", f"{demo_server.url}/", "--users", "2"]
    cmd += ["--duration", "8s", "--quiet", "--listen", sock]
    run = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(200):
            if os.path.exists(sock) and os.path.exists(sock + ".key"):
                break
            await asyncio.sleep(0.05)
        app = attach_app(sock)
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(100):
                await pilot.pause(0.05)
                if getattr(app.screen, "snapshot", None) is not None:
                    break
            assert app.screen.snapshot is not None
            await pilot.press("d")
            await pilot.pause()
        assert run.poll() is None  # the run goes on after the viewer left
        assert run.wait(timeout=60) == 0
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        if run.stderr:
            run.stderr.close()
