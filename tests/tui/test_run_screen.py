"""The run dashboard against the real engine process and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gc
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil
from textual.app import App
from textual.pilot import Pilot

from deli_tui.run_files import run_file_name
from deli_tui.screens.error_inspector import ErrorInspector
from deli_tui.screens.run import RunScreen
from deli_tui.widgets import LatencyHistogram, Percentiles, RunHeader
from engine.plan.model import LoadProfile, PreparedRequest, RunPlan, Stage
from tests.servers.asgi import RunningServer
from tests.tui.sample_snapshots import ReplayLink, make_snapshot

SAFETY_S = 60.0  # only a hang reaches it


def demo_plan(
    server: RunningServer,
    *,
    users: int = 2,
    duration_s: float = 30.0,
    paths: tuple[str, ...] = ("/delay/5", "/json"),
    thresholds: tuple[str, ...] = ("p99 < 10s", "error_rate < 1%"),
) -> RunPlan:
    requests = tuple(
        PreparedRequest(
            name=path.strip("/").replace("/", " ") or "home",
            method="GET",
            url=f"{server.url}{path}",
            scheme="http",
            host=server.host,
            port=server.port,
            target=path,
            headers=(("host", f"{server.host}:{server.port}"),),
        )
        for path in paths
    )
    profile = LoadProfile(
        model="closed", stages=(Stage(duration_s, users),), start_target=users, graceful_stop_s=1.0
    )
    return RunPlan(
        collection_name="demo",
        scenario_name="smoke test",
        base_url=server.url,
        requests=requests,
        profile=profile,
        thresholds=thresholds,
    )


class RunApp(App[None]):
    """The smallest app that shows a run screen."""

    def __init__(self, screen_factory: Callable[[], RunScreen]) -> None:
        super().__init__()
        self._factory = screen_factory

    def on_mount(self) -> None:
        self.push_screen(self._factory())


async def wait_for(pilot: Pilot, check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + SAFETY_S
    while not check():
        if time.monotonic() > deadline:
            screen = pilot.app.screen
            lost = getattr(screen, "lost", None)
            raise AssertionError(f"timed out waiting for {what} on {screen!r} (lost: {lost})")
        await pilot.pause(0.1)


async def wait_for_first_snapshot(pilot: Pilot) -> RunScreen:
    """The run screen, once it shows its first snapshot."""
    app = pilot.app
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, RunScreen) and app.screen.snapshot is not None,
        "the snapshot",
    )
    assert isinstance(app.screen, RunScreen)
    return app.screen


def engine_processes() -> list[psutil.Process]:
    """Live descendants of this test process, apart from multiprocessing's resource tracker."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                continue
            if any("resource_tracker" in part for part in child.cmdline()):
                continue
        except psutil.NoSuchProcess:
            continue
        found.append(child)
    return found


async def test_live_run_moves_adjusts_toggles_stops_saves_and_leaves_no_process(
    demo_server: RunningServer, tmp_path: Path
) -> None:
    runs_dir = tmp_path / ".deli" / "runs"
    app = RunApp(lambda: RunScreen.for_plan(demo_plan(demo_server), runs_dir))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        screen = app.screen
        assert isinstance(screen, RunScreen)
        await wait_for(
            pilot, lambda: screen.snapshot is not None and screen.snapshot.requests > 0, "requests"
        )
        first = screen.snapshot
        assert first is not None
        await wait_for(
            pilot,
            lambda: screen.snapshot is not None and screen.snapshot.seq >= first.seq + 2,
            "two more snapshots",
        )
        assert screen.snapshot is not None
        assert screen.snapshot.requests > first.requests  # the numbers move
        assert "req/s" in screen.query_one(RunHeader).text
        histogram = screen.query_one(LatencyHistogram)
        assert sum(r.count for r in histogram.rows) > 0

        users_before = screen.snapshot.active_users
        await pilot.press("plus")
        await wait_for(
            pilot,
            lambda: screen.snapshot is not None and screen.snapshot.active_users > users_before,
            "more active users after +",
        )

        assert histogram.cumulative is False
        await pilot.press("h")
        assert histogram.cumulative is True
        await pilot.pause()
        assert "cumulative" in str(histogram.border_title)

        await pilot.press("f")
        assert screen.frozen
        await pilot.press("f")
        assert not screen.frozen

        await pilot.press("s")
        await wait_for(pilot, lambda: screen.finished is not None, "the final verdict")
        finished = screen.finished
        assert finished is not None and finished.reason == "stopped" and finished.passed
        verdict = str(screen.query_one("#verdict").render())
        assert verdict.startswith("STOPPED in ") and "PASSED" not in verdict  # thresholds held
        assert screen.query_one("#verdict").has_class("-stopped")
        assert screen.query_one(Percentiles).marks == {"p99": True}
        await wait_for(pilot, lambda: screen.saved_path is not None, "the saved result")
        saved = screen.saved_path
        assert saved is not None and saved.parent == runs_dir
        assert saved.name.endswith("-smoke-test.json")
        assert json.loads(saved.read_text())  # a JSON document, written by engine.reports.summary
        assert [p.name for p in runs_dir.glob("*.json")] == [saved.name]
        assert screen.spool_dir is not None and screen.spool_dir.parent == runs_dir
        await pilot.press("ctrl+q")
    await asyncio.sleep(0)
    assert engine_processes() == [], "engine processes outlived the app"
    # the raw results were working data for the export: gone with the dashboard
    assert [p.name for p in runs_dir.iterdir()] == [saved.name]


async def test_check_errors_in_17_percent_fail_the_default_threshold_on_screen(
    demo_server: RunningServer, tmp_path: Path
) -> None:
    """A scenario without thresholds is judged by the default ``error_rate < 1%``: one
    request in six failing its check shows FAILED, and the threshold is marked default."""
    from engine.collection.loader import load_collection
    from engine.plan.build import build_plan

    root = tmp_path / "mixed"
    root.mkdir()
    (root / "collection.yaml").write_text(
        f"name: mixed\nbase_url: {demo_server.url}\nscenarios:\n"
        "  six:\n    users: 1\n    iterations: 3\n    duration: 30s\n"
    )
    for n in range(5):
        (root / f"ok{n}.yaml").write_text(f"name: ok {n}\nurl: /json\n")
    (root / "odd.yaml").write_text("name: odd\nurl: /json\nchecks:\n  body_contains: nope\n")
    plan = build_plan(load_collection(root), "six")
    app = RunApp(lambda: RunScreen.for_plan(plan, None))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        screen = app.screen
        assert isinstance(screen, RunScreen)
        await wait_for(pilot, lambda: screen.finished is not None, "the final verdict")
        finished = screen.finished
        assert finished is not None and finished.verdict == "failed"
        assert dict(finished.snapshot.errors) == {"check": 3}
        assert finished.snapshot.requests == 18
        verdict = screen.query_one("#verdict")
        assert str(verdict.render()).startswith("FAILED") and verdict.has_class("-failed")
        assert "✗ error_rate < 1% (default)" in screen.query_one(Percentiles).text
        await pilot.press("ctrl+q")


async def test_quitting_mid_run_stops_the_engine(demo_server: RunningServer) -> None:
    app = RunApp(lambda: RunScreen.for_plan(demo_plan(demo_server), None))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        screen = app.screen
        assert isinstance(screen, RunScreen)
        await wait_for(pilot, lambda: screen.snapshot is not None, "a snapshot")
        assert engine_processes(), "the engine should be running"
        app.exit()
    assert engine_processes() == [], "engine processes outlived the app"


async def test_error_inspector_lists_recent_errors_with_messages() -> None:
    snap = make_snapshot()
    app = RunApp(lambda: RunScreen(lambda: ReplayLink([snap])))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_first_snapshot(pilot)
        await pilot.press("e")
        assert isinstance(app.screen, ErrorInspector)
        assert app.screen.samples[0].message == "503 Service Unavailable"
        table = app.screen.query_one("#error-table")
        assert table.row_count == len(snap.recent_errors)  # type: ignore[attr-defined]
        await pilot.press("escape")
        assert isinstance(app.screen, RunScreen)


async def test_error_inspector_groups_identical_messages_with_their_run_counts() -> None:
    from dataclasses import replace

    from engine.run.protocol import ErrorSample

    refused = [ErrorSample(k * 0.1, "home", "connect", 0, "connection refused") for k in range(50)]
    snap = replace(
        make_snapshot(),
        recent_errors=(*refused, ErrorSample(9.0, "api", "http_status", 503, "HTTP 503")),
        error_messages=(("connect", "connection refused", 4_812), ("http_status", "HTTP 503", 7)),
    )
    app = RunApp(lambda: RunScreen(lambda: ReplayLink([snap])))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_first_snapshot(pilot)
        await pilot.press("e")
        inspector = app.screen
        assert isinstance(inspector, ErrorInspector)
        table = inspector.query_one("#error-table")
        assert table.row_count == 2  # type: ignore[attr-defined]
        first = [str(cell) for cell in table.get_row_at(0)]  # type: ignore[attr-defined]
        assert first == ["4812", "connect", "home", "-", "4s", "connection refused"]
        assert [g.count for g in inspector.groups] == [4_812, 7]


async def test_escape_is_refused_while_running_and_goes_back_when_finished() -> None:
    from engine.run.protocol import Finished

    running = make_snapshot()
    link = ReplayLink([running])
    app = RunApp(lambda: RunScreen(lambda: link))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await wait_for_first_snapshot(pilot)
        await pilot.press("escape")
        assert app.screen is screen
        link.pending.append(Finished(make_snapshot(phase="finished"), False, "completed"))
        await wait_for(pilot, lambda: screen.finished is not None, "the finish")
        assert "FAILED" in str(screen.query_one("#verdict").render())
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is not screen, "going back")


async def test_dashboard_freezes_the_objects_it_starts_with_and_thaws_them_when_left() -> None:
    from engine.run.protocol import Finished

    link = ReplayLink([make_snapshot()])
    app = RunApp(lambda: RunScreen(lambda: link))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await wait_for_first_snapshot(pilot)
        assert gc.get_freeze_count() > 0  # full collections during the run skip them
        link.pending.append(Finished(make_snapshot(phase="finished"), True, "completed"))
        await wait_for(pilot, lambda: screen.finished is not None, "the finish")
        await pilot.press("escape")
        await wait_for(pilot, lambda: gc.get_freeze_count() == 0, "the thaw on leaving")


def test_run_file_name_is_timestamped_and_safe() -> None:
    name = run_file_name("smoke / fast?", when=0)
    assert name == "19700101T000000Z-smoke-fast.json"


async def test_attached_dashboard_watches_a_headless_run_and_detach_leaves_it_going(
    demo_server: RunningServer,
) -> None:
    directory = tempfile.mkdtemp(prefix="deli-", dir="/tmp")  # socket paths are short
    sock = Path(directory) / "run.sock"
    run = subprocess.Popen(
        [
            *(sys.executable, "-m", "deli_tui", "run", f"{demo_server.url}/delay/5"),
            *("--users", "2", "--duration", "6s", "--quiet", "--listen", str(sock)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + SAFETY_S
        key = Path(f"{sock}.key")
        while not (sock.exists() and key.exists() and key.stat().st_size):
            assert run.poll() is None, run.communicate()
            assert time.monotonic() < deadline, "the run never started listening"
            await asyncio.sleep(0.05)
        app = RunApp(lambda: RunScreen.for_attach(str(sock)))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
            screen = app.screen
            assert isinstance(screen, RunScreen) and screen.attached
            await wait_for(
                pilot,
                lambda: screen.snapshot is not None and screen.snapshot.requests > 0,
                "the remote run's numbers",
            )
            assert screen.check_action("detach", ()) is True
            await pilot.press("d")
            await wait_for(pilot, lambda: app.screen is not screen, "leaving the dashboard")
            assert screen.bridge.done.is_set(), "detach closes the viewer's link"
        assert run.poll() is None, "detaching must leave the run going"
        _, err = run.communicate(timeout=SAFETY_S)
        assert run.returncode == 0, err
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        shutil.rmtree(directory, ignore_errors=True)


async def test_command_palette_lists_the_run_keys_that_apply_now() -> None:
    from deli_tui.commands import RunCommands

    app = RunApp(lambda: RunScreen(lambda: ReplayLink([make_snapshot()])))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        provider = RunCommands(app.screen)
        names = [name for name, _, _ in provider._commands()]
        assert "Run: Stop" in names and "Run: More load" in names
        assert "Run: Window/run" in names and "Run: Errors" in names
        assert "Run: Detach" not in names  # only when attached
        assert "Run: Back" not in names  # only when the run is over
