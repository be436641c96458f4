"""Importing browser recordings (HAR) from Chrome and Firefox: what is kept, what is left out,
and where the recorded secrets go."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest

from engine.collection.importers.har import import_har
from engine.collection.loader import load_collection
from engine.errors import CollectionError
from engine.plan.build import build_plan
from tests.servers.shop import API_KEY, BASIC, SID, TOKEN

DATA = Path(__file__).parent / "data"
CHROME = DATA / "chrome.har"  # Chrome 126 "Export HAR (with sensitive data)"
FIREFOX = DATA / "firefox.har"  # Firefox 128 "Save All As HAR"


def yaml_text(root: Path) -> str:
    return "".join(p.read_text() for p in sorted(root.rglob("*.yaml")))


def test_chrome_recording_keeps_the_pages_and_api_calls_and_leaves_out_the_rest(
    tmp_path: Path,
) -> None:
    result = import_har(CHROME, tmp_path / "out")
    c = load_collection(tmp_path / "out")
    assert c.base_url == "http://127.0.0.1:8089"
    replay = c.scenarios["replay"]  # the order of the recording, which file names lose
    assert (replay.users, replay.duration_s) == (1, 10.0)
    by_name = {r.name: r for r in c.requests}
    assert [(by_name[n].url, by_name[n].relpath.as_posix()) for n in replay.requests] == [
        ("/", "127_0_0_1_8089/get_root.yaml"),
        ("/api/login", "127_0_0_1_8089/api/post_login.yaml"),
        ("/api/me", "127_0_0_1_8089/api/get_me.yaml"),
        ("/api/items", "127_0_0_1_8089/api/get_items.yaml"),
        ("/api/cart", "127_0_0_1_8089/api/post_cart.yaml"),
        ("/api/orders", "127_0_0_1_8089/api/post_orders.yaml"),
    ]
    assert result.notes[0] == (
        "left out 2 image(s), 1 script(s), 1 stylesheet(s), 1 font(s), 1 beacon(s) to other hosts,"
        " 1 CORS preflight(s) (the browser sends them), 1 ws request(s) (not HTTP, cannot be"
        " replayed); --all keeps them"
    )
    assert "sec-ch-ua" in result.notes[1] and ":authority" not in result.notes[1]
    items = by_name["GET /api/items"]
    assert items.params == {"page": "1", "sort": "name"}
    assert items.headers == {
        "Accept": "application/json",
        "Cookie": "sid={{cookie_sid}}; theme={{cookie_theme}}",
        "Referer": "http://127.0.0.1:8089/",
    }
    assert by_name["GET /api/me"].headers["Authorization"] == "Bearer {{token}}"
    assert by_name["POST /api/login"].body == {"user": "ann", "password": "{{password}}"}
    assert by_name["POST /api/orders"].body == {"sku": "A-1", "qty": 2, "gift": True}
    cart = by_name["POST /api/cart"]
    assert cart.body == "sku=A-1&qty=2&note=gift+wrap"
    assert cart.headers["Content-Type"] == "application/x-www-form-urlencoded;charset=UTF-8"


def test_recorded_secrets_live_only_in_the_env_file_and_plan_back_to_what_was_sent(
    tmp_path: Path,
) -> None:
    result = import_har(CHROME, tmp_path / "out")
    root = tmp_path / "out"
    for secret in (TOKEN, SID, "hunter2!"):
        assert secret not in yaml_text(root)
    env = root / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert (root / ".gitignore").read_text() == ".env\n"
    assert result.secrets == ["cookie_sid", "cookie_theme", "password", "token"]
    plan = build_plan(load_collection(root), environ={})
    sent = {r.name: r for r in plan.requests}
    me = dict(sent["GET /api/me"].headers)
    assert me["Authorization"] == f"Bearer {TOKEN}"
    assert me["Cookie"] == f"sid={SID}; theme=dark"
    assert json.loads(sent["POST /api/login"].body) == {"user": "ann", "password": "hunter2!"}
    assert sent["GET /api/items"].url == "http://127.0.0.1:8089/api/items?page=1&sort=name"


def test_firefox_recording_is_sorted_by_its_fetch_headers(tmp_path: Path) -> None:
    result = import_har(FIREFOX, tmp_path / "out")
    c = load_collection(tmp_path / "out")
    assert sorted(r.name for r in c.requests) == [
        "DELETE /api/cart/7",
        "GET /",
        "GET /api/admin",
        "GET /api/items/2",
        "GET /api/items/2 (2)",  # one file per entry, even when the same call repeats
        "GET /api/reports",
        "POST /api/cart",
        "POST /api/orders",
    ]
    assert result.notes[0] == (
        "left out 1 script(s), 1 font(s), 1 image(s), 1 beacon(s) to other hosts; --all keeps them"
    )
    by_name = {r.name: r for r in c.requests}
    assert by_name["GET /api/reports"].headers["X-API-Key"] == "{{x_api_key}}"
    assert by_name["GET /api/reports"].params == {"from": "2024-06-01", "to": "2024-06-04"}
    assert by_name["GET /api/admin"].headers == {
        "Accept": "application/json",
        "Referer": "http://127.0.0.1:8089/",
        "Authorization": "Basic {{basic_auth}}",
    }
    assert by_name["POST /api/cart"].body == "sku=B-7&qty=1"
    env = (tmp_path / "out" / ".env").read_text()
    for line in (f"x_api_key={API_KEY}", f"basic_auth={BASIC}", "cookie_theme=light"):
        assert line in env.splitlines()
    assert API_KEY not in yaml_text(tmp_path / "out")


def test_all_keeps_assets_and_beacons_and_host_picks_hosts(tmp_path: Path) -> None:
    everything = import_har(CHROME, tmp_path / "all", keep_all=True)
    names = {r.name for r in everything.collection.requests}
    assert len(names) == 13  # all but the websocket
    assert "POST www.google-analytics.com/g/collect" in names
    assert "GET fonts.gstatic.com/s/inter/v13/UcC73FwrK3iLTeHuS_fvQtMwCp50KnMa1ZL7.woff2" in names
    beacon = everything.collection.find_request("POST www.google-analytics.com/g/collect")
    assert beacon is not None and beacon.url == "https://www.google-analytics.com/g/collect"
    assert beacon.relpath.parts[0] == "www_google_analytics_com"
    only = import_har(FIREFOX, tmp_path / "cdn", hosts=["cdn.example.net"], keep_all=True)
    assert [r.url for r in only.collection.requests] == ["/fonts/inter.woff2"]
    assert only.collection.base_url == "https://cdn.example.net"
    assert only.notes[0].startswith("left out 11 request(s) to other hosts (--host)")


def test_bad_recordings_are_refused_with_the_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.har"
    for text, reason in (
        ("<html>", "bad.har:1: the HAR file is not JSON: Expecting value"),
        ('{"entries": []}', "not a HAR file (no log.entries list)"),
        ('{"log": {"version": "2.0", "entries": []}}', "HAR version 2.0 is not supported"),
        ('{"log": {"version": "1.2", "entries": []}}', "nothing to import"),
    ):
        bad.write_text(text)
        with pytest.raises(CollectionError, match=re.escape(reason)):
            import_har(bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    import_har(CHROME, tmp_path / "out")
    with pytest.raises(CollectionError, match="already exists"):
        import_har(CHROME, tmp_path / "out")
