"""Single sends in a session: ctrl+r on Login keeps the token its Extract tab finds, a request
using {{token}} is then sent with it, F6 shows and clears the session's variables; the Extract
tab edits and saves a request's extractions (the real app against the real flow server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deli_tui.commands import KeyActions
from deli_tui.screens.collection import CollectionScreen
from deli_tui.screens.help import HelpScreen, key_rows
from deli_tui.screens.session_variables import SessionVariablesScreen
from deli_tui.widgets.response_view import ResponseView
from engine.collection.loader import load_collection
from engine.collection.model import ExtractDef
from tests.engine.flow_files import shop_collection
from tests.servers.asgi import RunningServer, uvicorn_server
from tests.servers.flow_app import FlowApp
from tests.tui.test_send_http2 import send_and_wait

SIZE = (100, 30)
FLOW = "    users: 1\n    setup: [Login]\n    data: {file: users.csv, as: user}\n"


@pytest.fixture
def shop() -> Iterator[tuple[RunningServer, FlowApp]]:
    app = FlowApp()
    with uvicorn_server(app) as server:
        yield server, app


async def _open(pilot, screen: CollectionScreen, relpath: str) -> None:
    screen.request_tree.move_to(Path(relpath))
    await pilot.pause()
    assert screen.current == Path(relpath)


def _extracted(view: ResponseView) -> str:
    return str(view.query_one("#response-extracted").content)


async def test_login_then_a_request_with_its_token_then_f6_clears_it(
    tmp_path: Path, shop: tuple[RunningServer, FlowApp], make_app
) -> None:
    server, log = shop
    root = shop_collection(tmp_path / "shop", server.url, FLOW, users=2)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, CollectionScreen)
        view = screen.query_one(ResponseView)
        # before Login, {{token}} is unknown, and the editor says which request gives it
        await _open(pilot, screen, "items/list.yaml")
        await pilot.press("ctrl+r")
        await pilot.pause()
        problems = str(screen.query_one("#request-problems").content)
        assert "unknown variable {{token}}" in problems
        assert "send 'Login' first (ctrl+r): its extract gives {{token}}" in problems
        assert log.requests == 0
        # Login: the first row of users.csv, its token and session kept
        await _open(pilot, screen, "auth/login.yaml")
        summary = await send_and_wait(pilot, view)
        assert summary.startswith("200") and "extracted: token, session" in summary
        assert log.logins == {"u0": 1}
        token = app.workspace.session.values["token"]
        assert log.tokens[token] == "u0"
        assert f"token = {token}" in _extracted(view)
        # a request using {{token}} now passes, and its own extraction joins the session
        await _open(pilot, screen, "items/list.yaml")
        summary = await send_and_wait(pilot, view)
        assert summary.startswith("200"), summary
        assert log.unauthorised == 0
        assert app.workspace.session.values["item_id"] == str(log.listed["u0"][1])
        # F6 lists the session's variables; c clears them all
        await pilot.press("f6")
        await pilot.pause()
        assert isinstance(app.screen, SessionVariablesScreen)
        assert set(app.screen.values) == {"token", "session", "item_id"}
        await pilot.press("c")
        await pilot.press("escape")
        await pilot.pause()
        assert app.workspace.session.values == {}
        await _open(pilot, screen, "items/get.yaml")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert "unknown variable {{item_id}}" in str(screen.query_one("#request-problems").content)


async def test_an_extraction_that_finds_nothing_is_shown_and_sets_nothing(
    tmp_path: Path, shop: tuple[RunningServer, FlowApp], make_app
) -> None:
    server, _ = shop
    root = shop_collection(tmp_path / "shop", server.url, FLOW, users=2)
    login = root / "auth" / "login.yaml"
    login.write_text(login.read_text().replace("$.token", "$.tokn"))
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, CollectionScreen)
        view = screen.query_one(ResponseView)
        await _open(pilot, screen, "auth/login.yaml")
        summary = await send_and_wait(pilot, view)
        assert "extract: 1 of 2 not found" in summary
        assert "extract token {json: $.tokn}: not found in the body" in _extracted(view)
        assert "token" not in app.workspace.session.values


async def test_the_extract_tab_edits_and_saves_extractions(collection_dir, make_app) -> None:
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, CollectionScreen)
        await _open(pilot, screen, "users/get_user.yaml")
        screen.editor.focus_field("extract")
        await pilot.pause()
        await pilot.press(*"uid: json $.id")
        await pilot.press("enter", *"sid: header Set-Cookie sid=(\\w+)")
        await pilot.press("enter", *"bad: json id")
        await pilot.press("ctrl+s")
        await pilot.pause()
        problems = str(screen.query_one("#request-problems").content)
        assert "extract: line 3: JSON path 'id' must start with '$'" in problems
        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace")
        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace")
        await pilot.press("backspace", "backspace", "ctrl+s")
        await pilot.pause()
    saved = load_collection(collection_dir).find_request("get user")
    assert saved is not None
    assert saved.extract == [
        ExtractDef("uid", json="$.id"),
        ExtractDef("sid", header="Set-Cookie", regex="sid=(\\w+)"),
    ]


async def test_session_variables_key_is_in_the_help_and_the_palette(
    collection_dir, make_app
) -> None:
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        palette = {name: what for name, _, what in KeyActions(app.screen)._commands()}
        assert palette["Session variables"].endswith("(F6)")
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        sections = dict(app.screen.sections)
        assert ("F6", "Session variables") in key_rows(sections["Requests screen"])
        session = key_rows(sections["Session variables (F6 on the requests screen)"])
        assert ("c", "Clear all") in session
