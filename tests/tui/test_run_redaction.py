"""The run dashboard keeps the plan's secret values out of the engine messages it shows."""

from __future__ import annotations

from deli_tui.screens.run import RunScreen
from engine.plan.model import LoadProfile, RunPlan, Stage
from engine.run.protocol import EngineError, Log
from tests.tui.sample_snapshots import ReplayLink, make_snapshot
from tests.tui.test_run_screen import RunApp, wait_for

SECRET = "s3cr3t-token-value"


def shown_messages(app: RunApp) -> list[str]:
    return [f"{n.title} {n.message}" for n in app._notifications]


async def test_engine_logs_and_errors_are_redacted_with_the_plans_values() -> None:
    link = ReplayLink(
        [
            make_snapshot(),
            Log("warning", f"retrying http://127.0.0.1:9/?q={SECRET}"),
            Log("error", f"server said {SECRET} is bad"),
            EngineError(f"worker failed while sending {SECRET}", fatal=False),
        ]
    )
    app = RunApp(lambda: RunScreen(lambda: link, redact_values=(SECRET,)))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: len(shown_messages(app)) >= 3, "three notifications")
        shown = shown_messages(app)
        assert not any(SECRET in text for text in shown), shown
        assert any("[redacted] is bad" in text for text in shown), shown
        assert any("Engine error worker failed while sending [redacted]" in t for t in shown)


def test_a_run_screen_for_a_plan_redacts_that_plans_values() -> None:
    plan = RunPlan(
        collection_name="c",
        scenario_name="s",
        base_url="http://127.0.0.1:9",
        requests=(),
        profile=LoadProfile(model="closed", stages=(Stage(1.0, 1),)),
        redact_values=(SECRET,),
    )
    assert RunScreen.for_plan(plan).redact_values == (SECRET,)
