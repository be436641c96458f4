"""The two front ends on a cluster: the app runs a scenario whose ``cluster:`` names the test
cluster and shows its workers; ``deli-tui run --cluster local`` starts a private Ray, and
Ctrl-C ends the run with its summary and leaves no Ray process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from deli_tui.app import DeliApp, open_workspace
from deli_tui.screens.run import RunScreen
from deli_tui.widgets import WorkerTable
from tests.cluster.conftest import CountingApp, ray_processes, wait_for_no_new_ray_processes
from tests.servers.asgi import RunningServer
from tests.tui.conftest import write_collection

SAFETY_S = 90.0


async def test_the_app_runs_a_scenario_on_its_cluster_and_shows_the_workers(
    ray_cluster: str,
    counting_server: tuple[RunningServer, CountingApp],
    tmp_path: Path,
) -> None:
    server, app_counter = counting_server
    root = write_collection(tmp_path / "shop", server.url)
    text = (root / "collection.yaml").read_text()
    text = text.replace(
        "    users: 2\n", f"    users: 2\n    workers: 2\n    cluster: {ray_cluster}\n"
    )
    (root / "collection.yaml").write_text(text.replace("duration: 5s", "duration: 2s"))
    app = DeliApp(open_workspace(root, None, None))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        await pilot.press("ctrl+r")
        deadline = time.monotonic() + SAFETY_S
        run = app.screen
        while time.monotonic() < deadline:
            await pilot.pause(0.1)
            run = app.screen
            if isinstance(run, RunScreen) and run.finished is not None:
                break
        assert isinstance(run, RunScreen) and run.finished is not None, "no end in time"
        workers = run.query_one(WorkerTable)
        assert workers.display, "a cluster run shows its workers by itself"
        rows = workers.text.splitlines()[1:]
        assert len(rows) == 2 and all(" done " in row for row in rows)
        assert run.finished.snapshot.requests == app_counter.count


def test_ctrl_c_on_a_run_with_a_private_ray_leaves_no_ray_process(
    counting_server: tuple[RunningServer, CountingApp],
) -> None:
    server, _ = counting_server
    before = ray_processes()
    proc = subprocess.Popen(
        [sys.executable, "-m", "deli_tui", "run", f"{server.url}/delay/10", "--users", "2",
         "--workers", "2", "--duration", "60s", "--cluster", "local"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + SAFETY_S
        for line in proc.stderr:
            if "req/s" in line and " 0.0 req/s" not in line:
                break
            assert time.monotonic() < deadline, "no load in time"
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole group, Ray's too
        out, err = proc.communicate(timeout=SAFETY_S)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "requests" in out and "lost" not in out, out
    left = wait_for_no_new_ray_processes(before)
    assert not left, f"Ray processes left behind: {sorted(left)}"
