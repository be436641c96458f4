"""Send over HTTP/2: a toggle on the requests screen, shown in the response title, and the
version the server agreed to in the response summary (real hypercorn over TLS, ALPN h2)."""

from __future__ import annotations

from pathlib import Path

from deli_tui.screens.collection import CollectionScreen
from deli_tui.screens.help import HelpScreen, key_rows
from deli_tui.widgets.response_view import ResponseView
from tests.tui.conftest import write_collection

SIZE = (80, 24)


async def send_and_wait(pilot, view: ResponseView) -> str:
    await pilot.press("ctrl+r")
    for _ in range(200):
        await pilot.pause(0.05)
        summary = view.summary_text
        if summary[:1].isdigit() or "error" in summary:
            return summary
    raise AssertionError(f"no response shown: {view.summary_text!r}")


async def test_toggle_sends_over_http2_and_shows_the_agreed_version(
    tmp_path, h2_tls_server, tls_files, monkeypatch, make_app
):
    monkeypatch.setenv("DELI_CA_BUNDLE", tls_files["ca"])
    root = write_collection(tmp_path / "shop", h2_tls_server.url)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, CollectionScreen)
        screen.request_tree.move_to(Path("users/get_user.yaml"))
        await pilot.pause()
        view = screen.query_one(ResponseView)
        assert "HTTP/2 off" in str(view.border_title)
        summary = await send_and_wait(pilot, view)
        assert summary.startswith("200") and "HTTP/1.1" in summary.split(), summary
        await pilot.press("f4")
        await pilot.pause()
        assert screen.send_http2 and "HTTP/2 on" in str(view.border_title)
        summary = await send_and_wait(pilot, view)
        assert summary.startswith("200") and "HTTP/2" in summary.split(), summary
        assert summary.endswith("✓ 2/2 checks"), summary
        await pilot.press("f4")
        await pilot.pause()
        assert not screen.send_http2 and "HTTP/2 off" in str(view.border_title)


async def test_http2_toggle_is_listed_in_the_help(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = key_rows(dict(app.screen.sections)["Requests screen"])
        assert ("F4", "HTTP/2 on/off") in rows
