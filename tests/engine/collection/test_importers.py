"""Importing Postman v2.1 collections and curl command lines into collection files."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from engine.collection.importers import import_curl, import_postman, parse_curl
from engine.collection.loader import load_collection
from engine.errors import CollectionError
from engine.plan.build import build_plan
from tests.engine.collection_files import write_collection

POSTMAN = {
    "info": {
        "name": "Shop API",
        "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
    },
    "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{token}}"}]},
    "variable": [{"key": "baseUrl", "value": "http://127.0.0.1:8089"}],
    "item": [
        {
            "name": "Users",
            "item": [
                {
                    "name": "List users",
                    "request": {
                        "method": "GET",
                        "header": [
                            {"key": "Accept", "value": "application/json"},
                            {"key": "X-Off", "value": "1", "disabled": True},
                        ],
                        "url": {"raw": "{{baseUrl}}/users?page=2", "host": ["{{baseUrl}}"]},
                    },
                    "event": [{"listen": "test", "script": {"exec": ["pm.test()"]}}],
                },
                {
                    "name": "Create user",
                    "request": {
                        "method": "POST",
                        "header": [],
                        "body": {
                            "mode": "raw",
                            "raw": '{"name": "ann", "age": 3}',
                            "options": {"raw": {"language": "json"}},
                        },
                        "url": "{{baseUrl}}/users",
                    },
                },
            ],
        },
        {
            "name": "Login",
            "request": {
                "method": "POST",
                "auth": {
                    "type": "basic",
                    "basic": [
                        {"key": "username", "value": "ann"},
                        {"key": "password", "value": "pw"},
                    ],
                },
                "body": {"mode": "urlencoded", "urlencoded": [{"key": "a b", "value": "c"}]},
                "url": {"protocol": "http", "host": ["127", "0", "0", "1"], "path": ["login"]},
            },
        },
        {"name": "Login", "request": "example.test/again"},
        {
            "name": "Upload",
            "request": {"method": "POST", "body": {"mode": "formdata"}, "url": "{{baseUrl}}/up"},
        },
    ],
}
ENVIRONMENT = {
    "name": "local",
    "values": [
        {"key": "token", "value": "s3cret", "enabled": True},
        {"key": "off", "value": "x", "enabled": False},
    ],
}


def test_postman_collection_becomes_loadable_files(tmp_path: Path) -> None:
    source = tmp_path / "shop.postman_collection.json"
    source.write_text(json.dumps(POSTMAN))
    env = tmp_path / "local.postman_environment.json"
    env.write_text(json.dumps(ENVIRONMENT))
    result = import_postman(source, tmp_path / "shop", environment=env)
    c = load_collection(tmp_path / "shop")
    assert c.name == "Shop API"
    assert c.variables == {"baseUrl": "http://127.0.0.1:8089"}
    assert c.env_file == ".env"
    env_file = tmp_path / "shop" / ".env"
    assert "token=s3cret" in env_file.read_text()
    assert "off=" not in env_file.read_text()
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    by_name = {r.name: r for r in c.requests}
    assert set(by_name) == {"List users", "Create user", "Login", "Login (2)", "Upload"}
    listing = by_name["List users"]
    assert listing.relpath == Path("users/list_users.yaml")
    assert listing.url == "{{baseUrl}}/users?page=2"
    assert listing.headers == {"Accept": "application/json", "Authorization": "Bearer {{token}}"}
    assert by_name["Create user"].body == {"name": "ann", "age": 3}
    login = by_name["Login"]
    assert login.headers["Authorization"] == "Basic YW5uOnB3"
    assert login.body == "a+b=c"
    assert login.url == "http://127.0.0.1/login"
    assert by_name["Login (2)"].url == "http://example.test/again"
    assert any("scripts" in w for w in result.warnings)
    assert any("formdata" in w for w in result.warnings)
    plan = build_plan(c, environ={})
    prepared = {r.name: r for r in plan.requests}
    assert dict(prepared["List users"].headers)["Authorization"] == "Bearer s3cret"
    assert prepared["List users"].url == "http://127.0.0.1:8089/users?page=2"


def test_postman_import_refuses_bad_input_and_existing_collections(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"info": {}}')
    with pytest.raises(CollectionError, match="not a Postman collection"):
        import_postman(bad, tmp_path / "out")
    bad.write_text("{not json")
    with pytest.raises(CollectionError, match="cannot read the Postman collection"):
        import_postman(bad, tmp_path / "out")
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"info": {"name": "x"}, "item": []}))
    root = write_collection(tmp_path / "existing", {})
    before = (root / "collection.yaml").read_bytes()
    with pytest.raises(CollectionError, match="already exists"):
        import_postman(good, root)
    assert (root / "collection.yaml").read_bytes() == before


def test_curl_get_with_headers() -> None:
    req, warnings = parse_curl(
        "curl -sSL -H 'Accept: application/json' -H 'X-Api-Key: k' "
        "'http://127.0.0.1:8089/json?x=1' --compressed -m 2.5"
    )
    assert (req.method, req.url) == ("GET", "http://127.0.0.1:8089/json?x=1")
    assert req.headers == {"Accept": "application/json", "X-Api-Key": "k"}
    assert req.timeout_s == 2.5
    assert req.name == "GET 127.0.0.1:8089/json"
    assert warnings == []


def test_curl_post_json_and_form_bodies() -> None:
    req, _ = parse_curl(
        """curl -X POST http://127.0.0.1:8089/echo \\
          -H "Content-Type: application/json" \\
          --data-raw '{"a": [1, 2]}' -k -u ann:pw"""
    )
    assert req.method == "POST"
    assert req.body == {"a": [1, 2]}
    assert "Content-Type" not in req.headers
    assert req.headers["Authorization"] == "Basic YW5uOnB3"
    assert req.insecure
    form, _ = parse_curl("curl localhost:8089/login -d user=ann -d 'pw=x y'")
    assert (form.method, form.url, form.body) == (
        "POST",
        "http://localhost:8089/login",
        "user=ann&pw=x y",
    )
    assert form.headers["Content-Type"] == "application/x-www-form-urlencoded"
    query, _ = parse_curl("curl -G http://h/search --data-urlencode 'q=a b'")
    assert (query.method, query.url, query.body) == ("GET", "http://h/search?q=a+b", None)


def test_curl_problems() -> None:
    with pytest.raises(CollectionError, match="no URL"):
        parse_curl("curl -H 'A: b'")
    with pytest.raises(CollectionError, match="cannot read"):
        parse_curl("curl 'http://h")
    with pytest.raises(CollectionError, match="not supported"):
        parse_curl("curl -X BREW http://h/")
    _, warnings = parse_curl("curl --retry 3 http://h/ -d @file.json")
    assert any("--retry" in w for w in warnings)
    assert any("files" in w for w in warnings)


def test_import_curl_adds_a_file_that_loads(tmp_path: Path) -> None:
    root = write_collection(tmp_path, {"home.yaml": "name: Home\nurl: /\n"})
    c = load_collection(root)
    req, _ = import_curl(c, "curl http://127.0.0.1:8089/json")
    again, _ = import_curl(c, "curl http://127.0.0.1:8089/json")
    assert (req.relpath, again.relpath) == (
        Path("get_127_0_0_1_8089_json.yaml"),
        Path("get_127_0_0_1_8089_json_2.yaml"),
    )
    assert again.name == "GET 127.0.0.1:8089/json (2)"
    assert {r.name for r in load_collection(root).requests} == {
        "Home",
        "GET 127.0.0.1:8089/json",
        "GET 127.0.0.1:8089/json (2)",
    }
