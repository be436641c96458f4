"""A Posting directory opened in the app: browsable and sendable, and saving says it is
read-only and how to convert it."""

from __future__ import annotations

import shutil
from pathlib import Path

from deli_tui.launch import resolve_collection_root
from deli_tui.screens.collection import CollectionScreen
from tests.tui.test_collection_screen import SIZE, open_request, tree_labels

POSTING = Path(__file__).parents[1] / "engine" / "collection" / "importers" / "data" / "posting"


async def test_saving_a_posting_request_is_refused_with_how_to_convert(tmp_path, make_app):
    root = shutil.copytree(POSTING, tmp_path / "posting")
    assert resolve_collection_root(str(root)) == root  # deli-tui PATH accepts it
    files = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, CollectionScreen)
        assert any("who am i" in label for label in tree_labels(app))
        await open_request(pilot, "auth/me.posting.yaml")
        app.screen.editor.focus_field("url")
        await pilot.press("end", *"?x=1")
        await pilot.press("ctrl+s")
        await pilot.pause()
        shown = [str(n.message) for n in app._notifications]
        assert any(
            "Not saved" in m and "read-only" in m and f"deli-tui import posting {root} NEW_DIR" in m
            for m in shown
        ), shown
    after = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".deli" not in p.parts}
    assert after == files  # (.deli/ holds the app's recovery copies of unsaved edits)
