"""A stress scenario on the scenarios screen: an edit saved keeps it a stress scenario, written
as the user wrote it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from deli_tui.app import DeliApp

STRESS = """\
name: shop
base_url: http://127.0.0.1:9
scenarios:
  find-limit:
    model: stress
    over: users
    start: 10
    step: 10
    step_duration: 10s
    max: 50
    until: [p95 > 200ms]
"""


async def test_a_stress_scenario_keeps_its_steps_when_saved_from_the_form(
    tmp_path: Path, make_app: Callable[..., DeliApp]
) -> None:
    root = tmp_path / "shop"
    root.mkdir()
    (root / "collection.yaml").write_text(STRESS)
    (root / "home.yaml").write_text("name: home\nurl: /\n")
    app = make_app(root)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        screen = app.screen
        screen.open_scenario("find-limit")  # type: ignore[attr-defined]
        await pilot.pause()
        form = screen.form  # type: ignore[attr-defined]
        think = form.query_one("#field-think_time")
        think.value = "10ms"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
    text = (root / "collection.yaml").read_text()
    assert "model: stress" in text and "think_time: 10ms" in text
    assert "users:" not in text
