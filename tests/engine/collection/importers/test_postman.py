"""Importing Postman collections: files that load and plan, secrets only in the env file."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from engine.collection.importers.postman import import_postman
from engine.collection.importers.postman_scripts import translate_test_script
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
    assert login.headers["Authorization"] == "Basic {{basic_auth}}"
    assert "basic_auth=YW5uOnB3" in env_file.read_text()
    assert login.body == "a+b=c"
    assert login.url == "http://127.0.0.1/login"
    assert by_name["Login (2)"].url == "http://example.test/again"
    assert any("List users: test script not translated: pm.test()" in w for w in result.warnings)
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
    with pytest.raises(CollectionError, match=r"bad\.json:1: the Postman collection is not JSON"):
        import_postman(bad, tmp_path / "out")
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"info": {"name": "x"}, "item": []}))
    root = write_collection(tmp_path / "existing", {})
    before = (root / "collection.yaml").read_bytes()
    with pytest.raises(CollectionError, match="already exists"):
        import_postman(good, root)
    assert (root / "collection.yaml").read_bytes() == before


SECRET_TOKEN = "eyJhbGciOiJIUzI1NiJ9.secret-token"
SECRETS = {
    "info": {"name": "Secrets", "schema": POSTMAN["info"]["schema"]},  # type: ignore[index]
    "variable": [
        {"key": "baseUrl", "value": "http://127.0.0.1:8089"},
        {"key": "clientSecret", "value": "cs-123456"},
        {"key": "emptyToken", "value": ""},
    ],
    "item": [
        {
            "name": "Me",
            "request": {
                "method": "GET",
                "auth": {"type": "bearer", "bearer": [{"key": "token", "value": SECRET_TOKEN}]},
                "header": [{"key": "Cookie", "value": "sid=cookie-value-1"}],
                "url": {
                    "raw": "{{baseUrl}}/me?access_token=query-token-9&page=1",
                    "query": [
                        {"key": "access_token", "value": "query-token-9"},
                        {"key": "page", "value": "1"},
                    ],
                },
            },
        },
        {
            "name": "Login",
            "request": {
                "method": "POST",
                "body": {
                    "mode": "raw",
                    "raw": '{"user": "ann", "password": "hunter2!", "remember": true}',
                    "options": {"raw": {"language": "json"}},
                },
                "url": "{{baseUrl}}/login",
            },
        },
        {
            "name": "Key in query",
            "request": {
                "auth": {
                    "type": "apikey",
                    "apikey": [
                        {"key": "key", "value": "api_key"},
                        {"key": "value", "value": "apikey-777"},
                        {"key": "in", "value": "query"},
                    ],
                },
                "url": "{{baseUrl}}/search",
            },
        },
        {
            "name": "Basic from variables",
            "request": {
                "auth": {
                    "type": "basic",
                    "basic": {"username": "{{user}}", "password": "{{pw}}"},  # the v2.0 form
                },
                "url": "{{baseUrl}}/basic",
            },
        },
    ],
}


def test_postman_secrets_go_to_the_env_file_and_never_into_the_yaml(tmp_path: Path) -> None:
    source = tmp_path / "secrets.json"
    source.write_text(json.dumps(SECRETS))
    result = import_postman(source, tmp_path / "out")
    root = tmp_path / "out"
    yaml_text = "".join(p.read_text() for p in root.rglob("*.yaml"))
    for secret in (SECRET_TOKEN, "cs-123456", "cookie-value-1", "query-token-9", "hunter2!"):
        assert secret not in yaml_text
        assert secret in (root / ".env").read_text()
    assert "apikey-777" in (root / ".env").read_text()
    assert (root / ".gitignore").read_text() == ".env\n"
    assert stat.S_IMODE((root / ".env").stat().st_mode) == 0o600
    c = load_collection(root)
    assert c.variables == {"baseUrl": "http://127.0.0.1:8089", "emptyToken": ""}
    by_name = {r.name: r for r in c.requests}
    me = by_name["Me"]
    assert me.headers == {"Cookie": "sid={{cookie_sid}}", "Authorization": "Bearer {{token}}"}
    assert me.url == "{{baseUrl}}/me?access_token={{access_token}}&page=1"
    assert by_name["Login"].body == {"user": "ann", "password": "{{password}}", "remember": True}
    assert by_name["Key in query"].params == {"api_key": "{{api_key}}"}
    assert by_name["Basic from variables"].headers == {"Authorization": "Basic {{basic_auth}}"}
    assert "basic_auth" in result.to_fill
    assert any("basic auth uses pw, user" in w for w in result.warnings)
    assert set(result.secrets) >= {"clientSecret", "token", "cookie_sid", "password", "api_key"}
    plan = build_plan(c, scenario=None, environ={"basic_auth": "dTpw"})
    sent = {r.name: r for r in plan.requests}
    assert dict(sent["Me"].headers)["Authorization"] == f"Bearer {SECRET_TOKEN}"
    assert "access_token=query-token-9" in sent["Me"].url
    assert json.loads(sent["Login"].body)["password"] == "hunter2!"
    assert dict(sent["Basic from variables"].headers)["Authorization"] == "Basic dTpw"


def test_postman_refuses_v1_collections_and_non_empty_folders(tmp_path: Path) -> None:
    v1 = tmp_path / "v1.json"
    v1.write_text(json.dumps({"id": "x", "name": "old", "order": [], "requests": []}))
    with pytest.raises(CollectionError, match="v1, which is not supported"):
        import_postman(v1, tmp_path / "a")
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"info": {"name": "x"}, "item": []}))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(CollectionError, match="not empty"):
        import_postman(good, tmp_path / "busy")
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["notes.txt"]
    assert not (tmp_path / "a").exists()
    assert not [p for p in tmp_path.iterdir() if ".importing." in p.name]


def test_status_assertions_in_test_scripts_become_status_checks() -> None:
    found = translate_test_script(
        [
            'pm.test("Status code is 200", function () {',
            "    pm.response.to.have.status(200);",
            "});",
            'pm.test("created", () => { pm.expect(pm.response.code).to.eql(201); });',
            'tests["Status code is 202"] = responseCode.code === 202;',
        ]
    )
    assert (found.statuses, found.untranslated, found.extract) == ([200, 201, 202], [], {})


def test_setting_variables_from_the_response_is_read_as_extractions() -> None:
    found = translate_test_script(
        [
            'pm.environment.set("token", pm.response.json().token);',
            "pm.collectionVariables.set('orderId', pm.response.json().data.orders[0].id)",
            'pm.globals.set("odd", pm.response.json()["odd key"]);',
            "var jsonData = JSON.parse(responseBody);",
            'postman.setEnvironmentVariable("session", jsonData.session);',
            'pm.environment.set("etag", pm.response.headers.get("ETag"));',
            'pm.environment.set("sid", pm.cookies.get("sid"));',
            "// a comment",
            'pm.environment.set("sum", pm.response.json().a + 1);',
            'console.log("done")',
        ]
    )
    assert found.extract == {
        "token": {"json": "$.token"},
        "orderId": {"json": "$.data.orders[0].id"},
        "odd": {"json": "$['odd key']"},
        "session": {"json": "$.session"},
        "etag": {"header": "ETag"},
        "sid": {"header": "Set-Cookie", "regex": "sid=([^;]+)"},
    }
    assert found.untranslated == [
        'pm.environment.set("sum", pm.response.json().a + 1)',
        'console.log("done")',
    ]


def test_translated_scripts_are_written_as_extract_and_the_order_kept(tmp_path: Path) -> None:
    def script(*lines: str) -> list[dict[str, object]]:
        return [{"listen": "test", "script": {"exec": list(lines)}}]

    source = tmp_path / "flow.json"
    source.write_text(
        json.dumps(
            {
                "info": {"name": "Flow"},
                "item": [
                    {
                        "name": "Z login",
                        "request": {"method": "POST", "url": "http://127.0.0.1:9/login"},
                        "event": script(
                            'pm.environment.set("token", pm.response.json().token);',
                            'pm.globals.set("sid", pm.cookies.get("sid"));',
                            'pm.collectionVariables.set("auth-token", pm.response.json().t);',
                        ),
                    },
                    {
                        "name": "A list",
                        "request": {
                            "url": "http://127.0.0.1:9/list",
                            "header": [{"key": "Authorization", "value": "Bearer {{token}}"}],
                        },
                        "event": script(
                            'pm.environment.set("first", pm.response.json().items[0].id)'
                        ),
                    },
                ],
            }
        )
    )
    result = import_postman(source, tmp_path / "out")
    c = load_collection(tmp_path / "out")
    assert c.scenarios["in_order"].requests == ["Z login", "A list"]  # not the files' order
    login = c.find_request("Z login")
    assert login is not None
    assert [e.describe() for e in login.extract] == [
        "{json: $.token}",
        "{header: Set-Cookie, regex: 'sid=([^;]+)'}",
    ]
    listing = c.find_request("A list")
    assert listing is not None and [e.describe() for e in listing.extract] == [
        "{json: $.items[0].id}"
    ]
    assert result.warnings == [
        "Z login: test script sets 'auth-token', a name {{...}} cannot extract into; rename it"
        " (letters, digits, _) and add extract: to the request"
    ]
    build_plan(c, environ={})  # the token is extracted before the request that uses it
