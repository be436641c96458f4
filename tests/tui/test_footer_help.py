"""The footer at 80 columns: F1 Help (and the F2/F3 screen keys) first whatever has focus,
then the keys that fit, each whole; none runs under the palette key or off the edge."""

from __future__ import annotations

from textual.widgets._footer import FooterKey

from deli_tui.screens.run import RunScreen
from deli_tui.widgets.key_footer import KeyFooter
from tests.tui.sample_snapshots import ReplayLink, make_snapshot

SIZE = (80, 24)


def drawn_keys(app) -> list[FooterKey]:
    """The footer keys on screen, the palette key left out."""
    footer = app.screen.query_one(KeyFooter)
    return [
        key
        for key in footer.query(FooterKey)
        if key.region.width > 0 and not key.has_class("-command-palette")
    ]


async def settled_footer(pilot, app) -> list[FooterKey]:
    """The footer's keys once it has been laid out and fitted: it recomposes after a screen
    or focus change, and on a loaded machine that can take longer than a fixed pause."""
    footer = app.screen.query_one(KeyFooter)
    for _ in range(200):  # safety bound: 10 s
        if drawn_keys(app) and footer._fitted_width == footer.size.width:
            break
        await pilot.pause(0.05)
    return drawn_keys(app)


async def assert_footer_whole(pilot, app, where: str) -> None:
    keys = await settled_footer(pilot, app)
    shown = [key.key_display for key in keys]
    assert shown[:3] == ["F1", "F2", "F3"], (where, shown)
    footer = app.screen.query_one(KeyFooter)
    palette = footer.query_one(".-command-palette")
    for key in keys:
        assert key.region.right <= palette.region.x, (where, key.key_display, key.region)


async def test_footer_shows_f1_first_and_only_whole_keys_on_every_screen(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert app.focused is screen.request_tree
        await assert_footer_whole(pilot, app, "requests, tree focused")
        screen.editor.focus_field("url")
        await pilot.pause()
        await assert_footer_whole(pilot, app, "requests, editor focused")
        await pilot.press("f3")
        await pilot.pause()
        await assert_footer_whole(pilot, app, "scenarios, list focused")
        app.screen.form.query_one("#field-users").focus()
        await pilot.pause()
        await assert_footer_whole(pilot, app, "scenarios, form focused")
        app.push_screen(RunScreen(lambda: ReplayLink([make_snapshot()])))
        await pilot.pause(0.3)
        assert isinstance(app.screen, RunScreen)
        await assert_footer_whole(pilot, app, "run dashboard")


async def test_a_wider_terminal_shows_the_keys_hidden_at_80_columns(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        narrow = [k.key_display for k in await settled_footer(pilot, app)]
        assert "^o" not in narrow
        await pilot.resize_terminal(200, 30)
        await pilot.pause(0.2)
        wide = [k.key_display for k in await settled_footer(pilot, app)]
        assert "^o" in wide and len(wide) > len(narrow)
