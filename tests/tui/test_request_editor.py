"""The request editor's drafts, and sending one request to a real local server."""

from __future__ import annotations

import re
from pathlib import Path

from deli_tui.drafting.drafts import RequestDraft, draft_from_request, request_from_draft
from deli_tui.screens.collection import CollectionScreen
from deli_tui.widgets.response_view import ResponseView
from engine.collection.model import MISSING, CheckDef, RequestDef
from tests.tui.conftest import write_collection


def _base() -> RequestDef:
    return RequestDef(relpath=Path("a.yaml"), name="a")


def test_draft_round_trips_a_request_with_every_field():
    req = RequestDef(
        relpath=Path("users/a.yaml"),
        name="a",
        method="POST",
        url="/users/{{user_id}}",
        headers={"Content-Type": "application/json", "X-Trace": "1"},
        params={"page": "2"},
        body={"name": "deli", "tags": ["x"]},
        timeout_s=2.5,
        weight=3.0,
        checks=CheckDef(
            status=[200, 201], body_contains=["deli"], json=[("$.id", 42), ("$.name", MISSING)]
        ),
        insecure=True,
    )
    draft = draft_from_request(req)
    assert draft.body_kind == "yaml"
    assert "Content-Type: application/json" in draft.headers
    back, problems = request_from_draft(draft, req)
    assert problems == []
    assert back == req


def test_bad_method_timeout_weight_and_header_line_name_their_fields():
    draft = RequestDraft(
        method="FETCH", url="/x", headers="no colon here", timeout="10x", weight="-1"
    )
    req, problems = request_from_draft(draft, _base())
    assert req is None
    fields = {p.field for p in problems}
    assert fields == {"method", "headers", "timeout", "weight"}
    assert any("10x" in p.message for p in problems)


def test_json_body_must_parse_and_yaml_body_must_be_a_mapping():
    _, problems = request_from_draft(RequestDraft(url="/", body_kind="json", body="{nope"), _base())
    assert [p.field for p in problems] == ["body"]
    _, problems = request_from_draft(
        RequestDraft(url="/", body_kind="yaml", body="just text"), _base()
    )
    assert [p.field for p in problems] == ["body"]
    req, problems = request_from_draft(
        RequestDraft(url="/", body_kind="text", body="plain"), _base()
    )
    assert problems == [] and req is not None and req.body == "plain"


def test_check_lines_parse_and_bad_ones_are_reported():
    draft = RequestDraft(url="/", checks="status: 200 204\njson: $.ok == true\nwhatever")
    _, problems = request_from_draft(draft, _base())
    assert len(problems) == 1 and "line 3" in problems[0].message
    req, problems = request_from_draft(
        RequestDraft(url="/", checks="status: 200\njson: $.ok == true"), _base()
    )
    assert req is not None and req.checks.status == [200] and req.checks.json == [("$.ok", True)]


async def test_send_shows_status_time_size_and_pretty_json(tmp_path, demo_server, make_app):
    root = write_collection(tmp_path / "shop", demo_server.url)
    app = make_app(root)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, CollectionScreen)
        screen.request_tree.move_to(Path("users/get_user.yaml"))
        await pilot.pause()
        await pilot.pause()
        await pilot.press("ctrl+r")
        view = screen.query_one(ResponseView)
        for _ in range(100):
            await pilot.pause(0.05)
            if view.summary_text.startswith("200"):
                break
        summary = view.summary_text
        assert summary.startswith("200 OK"), summary
        assert re.search(r"  \d+(\.\d+)?(us|ms|s)  \d+(\.\d)? (B|KiB)  ", summary), summary
        assert summary.endswith("✓ 2/2 checks"), summary
        assert view.border_title.startswith("Response · get user at "), view.border_title
        checks = str(view.query_one("#response-checks").content)
        assert "PASS status 200\n" in checks and "PASS $.id == 42" in checks, checks
        assert view.query_one("#response-body").language == "json"  # highlighted
        body = view.query_one("#response-body").text
        assert '"id": 42' in body and body.count("\n") > 3  # re-indented JSON
        headers = view.query_one("#response-headers").text
        assert "content-type: application/json" in headers.lower()


async def test_send_reports_a_refused_connection_without_crashing(collection_dir, make_app):
    app = make_app(collection_dir)  # base_url points at 127.0.0.1:9, where nothing listens
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+r")
        view = app.screen.query_one(ResponseView)
        for _ in range(100):
            await pilot.pause(0.05)
            if "error" in view.summary_text:
                break
        assert "connect" in view.summary_text.lower()
