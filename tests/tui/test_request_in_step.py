"""The editor and the response pane always belong to the selected request; name and
description are edited like any field; the request can be seen as it will be sent."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from deli_tui.screens.collection import CollectionScreen
from deli_tui.widgets.response_view import ResponseView
from engine.collection.loader import load_collection
from tests.tui.conftest import write_collection

SIZE = (80, 24)


async def open_request(pilot, relpath: str) -> CollectionScreen:
    screen = pilot.app.screen
    assert isinstance(screen, CollectionScreen)
    screen.request_tree.move_to(Path(relpath))
    for _ in range(40):
        await pilot.pause(0.02)
        if screen.current == Path(relpath):
            break
    assert screen.current == Path(relpath)
    return screen


async def wait_for_summary(pilot, view: ResponseView, start: str) -> str:
    for _ in range(200):
        if view.summary_text.startswith(start):
            break
        await pilot.pause(0.05)
    return view.summary_text


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_after_deleting_the_only_request_editor_and_response_show_nothing(tmp_path, make_app):
    root = tmp_path / "one"
    root.mkdir()
    (root / "collection.yaml").write_text("name: one\nbase_url: http://127.0.0.1:9\n")
    (root / "home.yaml").write_text("name: home\nurl: /\n")
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_request(pilot, "home.yaml")
        assert screen.editor.read_draft().name == "home"
        screen.request_tree.focus()
        await pilot.press("delete")
        await pilot.pause()
        app.screen.query_one("#choice-yes").press()
        for _ in range(40):
            await pilot.pause(0.02)
            if screen.current is None:
                break
        assert screen.current is None
        assert screen.editor.disabled
        draft = screen.editor.read_draft()
        assert (draft.name, draft.url, draft.headers) == ("", "", "")
        assert screen.editor.border_title == "no request selected"
        assert screen.response.summary_text.startswith("No request selected")
        await pilot.press("ctrl+s")
        await pilot.press("ctrl+r")
        await pilot.pause()
        said = messages(app)
        assert any(m.startswith("Nothing to save: No request selected") for m in said), said
        assert any(m.startswith("Nothing to send: No request selected") for m in said), said
    assert not (root / "home.yaml").exists()


async def test_each_request_shows_its_own_response_labelled_with_name_and_time(
    tmp_path, demo_server, make_app
):
    root = write_collection(tmp_path / "shop", demo_server.url)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_request(pilot, "users/get_user.yaml")
        await pilot.press("ctrl+r")
        view = screen.response
        assert (await wait_for_summary(pilot, view, "200")).startswith("200 OK")
        assert view.border_title.startswith("Response · get user at ")

        await open_request(pilot, "health.yaml")
        assert view.summary_text == "Nothing sent yet for health: ctrl+r sends it."
        assert view.border_title == "Response · HTTP/2 off"
        assert view.query_one("#response-body").text == ""

        await open_request(pilot, "users/get_user.yaml")
        assert view.summary_text.startswith("200 OK")
        assert view.border_title.startswith("Response · get user at ")


async def test_a_response_arriving_after_another_request_was_selected_stays_with_its_own(
    tmp_path, demo_server, make_app
):
    root = write_collection(tmp_path / "shop", demo_server.url)
    # long enough that selecting another request surely comes first, even on a busy host
    (root / "slow.yaml").write_text("name: slow\nurl: /delay/2000\n")
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_request(pilot, "slow.yaml")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert screen.response.summary_text.startswith("Sending GET ")
        await open_request(pilot, "health.yaml")
        for _ in range(100):
            await pilot.pause(0.05)
            if screen.exchanges["slow.yaml"].status:
                break
        assert screen.exchanges["slow.yaml"].status == 200
        assert screen.response.summary_text.startswith("Nothing sent yet for health")


async def test_name_and_description_are_edited_saved_and_followed_by_scenarios(
    collection_dir, make_app
):
    collection_yaml = collection_dir / "collection.yaml"
    collection_yaml.write_text(
        collection_yaml.read_text().replace(
            "    users: 2\n", "    users: 2\n    requests: [health]\n"
        )
    )
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_request(pilot, "health.yaml")
        screen.editor.focus_field("name")
        name = screen.editor.query_one("#field-name", Input)
        assert name.value == "health"
        name.value = "liveness"
        screen.editor.query_one("#field-description", Input).value = "is it up"
        await pilot.pause()
        assert screen.is_dirty(Path("health.yaml"))
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.pause()
        assert not screen.is_dirty(Path("health.yaml"))
        assert any("liveness" in str(n.label) for n in screen.request_tree.root.children)
    text = (collection_dir / "health.yaml").read_text()
    assert text == "name: liveness\ndescription: is it up\nmethod: GET\nurl: /\n"
    loaded = load_collection(collection_dir)
    assert loaded.scenarios["smoke"].requests == ["liveness"]


async def test_an_empty_name_is_refused_inline(collection_dir, make_app):
    app = make_app(collection_dir)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_request(pilot, "health.yaml")
        screen.editor.query_one("#field-name", Input).value = "  "
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "name: a request needs a name" in str(
            screen.editor.query_one("#request-problems").content
        )
    assert (collection_dir / "health.yaml").read_text().startswith("name: health\n")


async def test_as_sent_shows_resolved_url_params_merged_headers_and_masks_secrets(
    tmp_path, make_app
):
    root = write_collection(tmp_path / "shop", "http://127.0.0.1:9")
    (root / "collection.yaml").write_text(
        (root / "collection.yaml").read_text() + "env_file: .env\n"
    )
    (root / ".env").write_text("token=s3cr3t-t0ken\n")
    (root / "me.yaml").write_text(
        "name: me\nmethod: POST\nurl: /users/{{user_id}}\nparams: {page: '2'}\n"
        "headers:\n  Authorization: Bearer {{token}}\n  X-Echo: '{{token}}'\n"
        "body: '{\"id\": {{user_id}}}'\n"
    )
    app = make_app(root)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_request(pilot, "me.yaml")
        await pilot.press("ctrl+o")
        await pilot.pause()
        view = screen.response
        assert view.query_one("#response-tabs").active == "response-tab-request"
        sent = view.request_text.splitlines()
        assert sent[0] == "POST http://127.0.0.1:9/users/42?page=2"
        assert "Accept: application/json" in sent  # from collection.yaml
        assert "Authorization: [redacted]" in sent
        assert "X-Echo: [redacted]" in sent  # a value from the env file
        assert sent[-1] == '{"id": 42}'
        assert "s3cr3t" not in view.request_text

        screen.editor.focus_field("url")
        await pilot.press("end", *"/x")
        for _ in range(40):
            await pilot.pause(0.05)
            if view.request_text.startswith("POST http://127.0.0.1:9/users/42/x?"):
                break
        assert view.request_text.startswith("POST http://127.0.0.1:9/users/42/x?page=2")
