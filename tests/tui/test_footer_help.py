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


def assert_help_shown(app, where: str) -> None:
    shown = visible_footer_keys(app)
    assert "F1" in shown and "f2" in shown and "f3" in shown, (where, shown)


async def test_f1_help_is_visible_in_the_footer_on_every_screen(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert app.focused is screen.request_tree
        assert_help_shown(app, "requests, tree focused")
        screen.editor.focus_field("url")
        await pilot.pause()
        assert_help_shown(app, "requests, editor focused")
        await pilot.press("f3")
        await pilot.pause()
        assert_help_shown(app, "scenarios, list focused")
        app.screen.form.query_one("#field-users").focus()
        await pilot.pause()
        assert_help_shown(app, "scenarios, form focused")
        app.push_screen(RunScreen(lambda: ReplayLink([make_snapshot()])))
        await pilot.pause(0.3)
        assert isinstance(app.screen, RunScreen)
        assert_help_shown(app, "run dashboard")
