"""The workers panel: one row per worker, shown by itself for a cluster run, lost workers
listed with why; ``w`` shows or hides it for any run."""

from __future__ import annotations

import dataclasses

from textual.app import App, ComposeResult

from deli_tui.widgets import WorkerTable
from deli_tui.widgets.worker_table import offset_text
from engine.run.protocol import WorkerHealth
from tests.tui.sample_snapshots import make_snapshot

ON_CLUSTER = (
    WorkerHealth(0, "10.0.0.1", "running", 5, 12_345, 2_400.0, 71.0, 3.2, 0.4),
    WorkerHealth(
        1, "10.0.0.2", "lost", 5, 4_000, 0.0, None, 12.0, -1.5, 2.5, "ActorDiedError: node gone"
    ),
)
LOCAL = (WorkerHealth(0, "local", "running", 10, 900, 450.0, 55.0, 1.0),)


class Panel(App[None]):
    def compose(self) -> ComposeResult:
        yield WorkerTable(id="workers")


def test_clock_offsets_are_signed_and_local_workers_have_none() -> None:
    assert offset_text(0.4) == "+400us" and offset_text(-1.5) == "-1.50ms"
    assert offset_text(None) == "-"


async def test_a_cluster_run_shows_each_worker_and_why_one_was_lost() -> None:
    app = Panel()
    async with app.run_test(size=(110, 20)) as pilot:
        panel = app.query_one(WorkerTable)
        panel.show(dataclasses.replace(make_snapshot(), workers=ON_CLUSTER))
        await pilot.pause()
        assert panel.display
        lines = panel.text.splitlines()
        assert lines[0].split()[:3] == ["#", "node", "state"]
        assert lines[1].split()[:6] == ["0", "10.0.0.1", "running", "5", "12.3k", "2400"]
        assert "71%" in lines[1] and "+400us" in lines[1]
        assert "lost" in lines[2] and "-1.50ms" in lines[2]
        assert lines[3] == "worker 1 lost at 2.5s: ActorDiedError: node gone"


async def test_a_local_run_hides_the_panel_until_asked() -> None:
    app = Panel()
    async with app.run_test(size=(110, 20)) as pilot:
        panel = app.query_one(WorkerTable)
        panel.show(dataclasses.replace(make_snapshot(), workers=LOCAL))
        await pilot.pause()
        assert not panel.display
        panel.toggle()
        await pilot.pause()
        assert panel.display and "local" in panel.text
        panel.toggle()
        assert not panel.display
