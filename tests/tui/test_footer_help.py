"""At 80x24 the footer of every screen shows F1 Help (and the F2/F3 screen keys) whatever
has focus: the keys that do not fit are the last context keys, all listed by F1."""

from __future__ import annotations

from textual.widgets._footer import FooterKey

from deli_tui.screens.run import RunScreen
from tests.tui.sample_snapshots import ReplayLink, make_snapshot

SIZE = (80, 24)


def visible_footer_keys(app) -> list[str]:
    """Key displays of the footer keys drawn whole on screen, left of the palette hint."""
    keys = list(app.screen.query(FooterKey))
    palette = [k for k in keys if k.action == "command_palette"]
    right = palette[0].region.x if palette else app.size.width
    return [
        k.key_display
        for k in keys
        if k not in palette and k.region.width > 0 and k.region.right <= right
    ]


async def settled_footer_keys(pilot, app) -> list[str]:
    """The footer's visible keys once it has been laid out: the footer recomposes after a
    screen or focus change, and on a loaded machine that can take longer than a fixed pause."""
    for _ in range(200):  # safety bound: 10 s
        shown = visible_footer_keys(app)
        if shown:
            return shown
        await pilot.pause(0.05)
    return visible_footer_keys(app)


async def assert_help_shown(pilot, app, where: str) -> None:
    shown = await settled_footer_keys(pilot, app)
    assert "F1" in shown and "f2" in shown and "f3" in shown, (where, shown)


async def test_f1_help_is_visible_in_the_footer_on_every_screen(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert app.focused is screen.request_tree
        await assert_help_shown(pilot, app, "requests, tree focused")
        screen.editor.focus_field("url")
        await pilot.pause()
        await assert_help_shown(pilot, app, "requests, editor focused")
        await pilot.press("f3")
        await pilot.pause()
        await assert_help_shown(pilot, app, "scenarios, list focused")
        app.screen.form.query_one("#field-users").focus()
        await pilot.pause()
        await assert_help_shown(pilot, app, "scenarios, form focused")
        app.push_screen(RunScreen(lambda: ReplayLink([make_snapshot()])))
        await pilot.pause(0.3)
        assert isinstance(app.screen, RunScreen)
        await assert_help_shown(pilot, app, "run dashboard")
