"""``deli-tui import postman|curl`` as a user runs it: files that load and run, clear refusals."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.collection.loader import load_collection
from tests.servers.asgi import RunningServer, uvicorn_server
from tests.servers.shop import SID, TOKEN, ShopApp

SAFETY_S = 90.0
DATA = Path(__file__).parents[1] / "engine" / "collection" / "importers" / "data"
RECORDED_ORIGIN = "127.0.0.1:8089"  # where the HAR files were recorded
SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
POSTMAN = {
    "info": {"name": "Demo shop", "schema": SCHEMA},
    "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{token}}"}]},
    # an address nobody serves: the run points baseUrl at the demo server from the environment
    "variable": [
        {"key": "baseUrl", "value": "http://127.0.0.1:9"},
        {"key": "code", "value": "200"},
    ],
    "item": [
        {
            "name": "Catalog",
            "item": [
                {
                    "name": "Get document",
                    "request": {
                        "method": "GET",
                        "header": [{"key": "Accept", "value": "application/json"}],
                        "url": {"raw": "{{baseUrl}}/json", "host": ["{{baseUrl}}"]},
                    },
                },
                {
                    "name": "Echo order",
                    "request": {
                        "method": "POST",
                        "header": [],
                        "body": {
                            "mode": "raw",
                            "raw": '{"sku": "A-1", "qty": 2}',
                            "options": {"raw": {"language": "json"}},
                        },
                        "url": "{{baseUrl}}/echo",
                    },
                },
            ],
        },
        {"name": "Status", "request": {"method": "GET", "url": "{{baseUrl}}/status/{{code}}"}},
    ],
}
ENVIRONMENT = {
    "name": "local",
    "values": [{"key": "token", "value": "t0ken-value", "enabled": True}],
}


def deli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deli_tui", *args],
        capture_output=True,
        text=True,
        timeout=SAFETY_S,
        env={**os.environ, **(env or {})},
    )


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_postman_and_curl_imports_load_and_run(demo_server: RunningServer, tmp_path: Path) -> None:
    source = write_json(tmp_path / "shop.postman_collection.json", POSTMAN)
    env = write_json(tmp_path / "local.postman_environment.json", ENVIRONMENT)
    dest = tmp_path / "shop"
    done = deli("import", "postman", str(source), str(dest), "--environment", str(env))
    assert done.returncode == 0, done.stderr
    assert "imported 3 request(s)" in done.stdout
    env_line = f"kept out of the YAML, in {dest / '.env'} (mode 0600, in .gitignore): token"
    assert env_line in done.stdout
    assert "t0ken-value" not in (dest / "collection.yaml").read_text()

    body = json.dumps({"n": 1})
    curl = f"curl -X POST -H 'Content-Type: application/json' -d '{body}' {demo_server.url}/echo"
    done = deli(
        "import", "curl", curl, "--into", str(dest), "--name", "Echo n", "--folder", "extra"
    )
    assert done.returncode == 0, done.stderr
    assert "extra/echo_n.yaml" in done.stdout

    c = load_collection(dest)
    by_name = {r.name: r for r in c.requests}
    assert set(by_name) == {"Get document", "Echo order", "Status", "Echo n"}
    assert by_name["Get document"].relpath == Path("catalog/get_document.yaml")
    assert by_name["Get document"].headers["Authorization"] == "Bearer {{token}}"
    assert by_name["Echo order"].body == {"sku": "A-1", "qty": 2}
    assert by_name["Echo n"].method == "POST" and by_name["Echo n"].body == {"n": 1}
    assert c.variables == {"baseUrl": "http://127.0.0.1:9", "code": "200"}

    report = tmp_path / "run.json"
    ran = deli(
        *("run", str(dest), "--users", "1", "--duration", "1s", "--json", str(report)),
        env={"baseUrl": demo_server.url},
    )
    assert ran.returncode == 0, ran.stderr
    data = json.loads(report.read_text())
    # the first scenario is the collection's order, which the curl request came after
    assert set(data["per_request"]) == {"Get document", "Echo order", "Status"}
    assert data["requests"] > 0 and data["errors"] == {}
    assert set(data["status_codes"]) == {"200"}
    assert data["target"] == demo_server.url  # a plain base URL is shown, not hidden
    assert "t0ken-value" not in ran.stdout + ran.stderr + report.read_text()


def refused(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ") or "usage:" in done.stderr
    for word in words:
        assert word in done.stderr


def test_bad_postman_input_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    good = write_json(tmp_path / "good.json", POSTMAN)
    refused(deli("import", "postman", str(tmp_path / "nope.json"), str(tmp_path / "a")), "nope")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    refused(deli("import", "postman", str(broken), str(tmp_path / "b")), "broken.json", "Postman")
    other = write_json(tmp_path / "other.json", {"hello": "world"})
    refused(deli("import", "postman", str(other), str(tmp_path / "c")), "not a Postman collection")
    odd = write_json(tmp_path / "odd.json", {"item": [{"name": "x", "item": 5}]})
    refused(deli("import", "postman", str(odd), str(tmp_path / "d")), "odd.json", "not a valid")
    bad_env = write_json(tmp_path / "env.json", ["not", "an", "environment"])
    done = deli("import", "postman", str(good), str(tmp_path / "e"), "--environment", str(bad_env))
    refused(done, "env.json", "Postman environment")
    assert not (tmp_path / "e").exists()
    assert not any((tmp_path / name).exists() for name in "abcd")  # nothing half-written

    assert deli("import", "postman", str(good), str(tmp_path / "f")).returncode == 0
    before = (tmp_path / "f" / "collection.yaml").read_bytes()
    refused(deli("import", "postman", str(good), str(tmp_path / "f")), "already exists")
    assert (tmp_path / "f" / "collection.yaml").read_bytes() == before
    refused(deli("import", "postman", str(good)), "usage:")


def test_bad_curl_input_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    into = tmp_path / "c"
    refused(deli("import", "curl", "curl 'http://127.0.0.1:1/x", "--into", str(into)), "curl")
    refused(deli("import", "curl", "curl -H", "--into", str(into)), "-H")
    refused(deli("import", "curl", "wget http://127.0.0.1:1/", "--into", str(into)), "curl")
    assert not into.exists()
    url = "curl http://127.0.0.1:8089/json"
    refused(deli("import", "curl", url, "--into", str(into), "--folder", "../out"), "--folder")
    refused(deli("import", "curl", url), "--into")
    (tmp_path / "file").write_text("x")
    refused(deli("import", "curl", url, "--into", str(tmp_path / "file")), "not a directory")


@pytest.fixture
def shop() -> Iterator[tuple[ShopApp, RunningServer]]:
    """A fresh shop API (its own request counts) on an ephemeral port."""
    app = ShopApp()
    with uvicorn_server(app) as server:
        yield app, server


def run_imported(dest: Path, report: Path) -> subprocess.CompletedProcess[str]:
    return deli("run", str(dest), "--duration", "1s", "--json", str(report), "--quiet")


@pytest.mark.parametrize(
    ("har", "kept"),
    [
        (
            "chrome.har",
            {"GET /", "POST /api/login", "GET /api/me", "GET /api/items", "POST /api/cart"}
            | {"POST /api/orders"},
        ),
        (
            "firefox.har",
            {"GET /", "GET /api/items/2", "GET /api/items/2 (2)", "POST /api/cart"}
            | {"POST /api/orders", "DELETE /api/cart/7", "GET /api/reports", "GET /api/admin"},
        ),
    ],
)
def test_imported_browser_recording_runs_against_the_recorded_api(
    shop: tuple[ShopApp, RunningServer], tmp_path: Path, har: str, kept: set[str]
) -> None:
    app, server = shop
    recording = tmp_path / har
    text = (DATA / har).read_text().replace(RECORDED_ORIGIN, f"{server.host}:{server.port}")
    recording.write_text(text)
    dest = tmp_path / "recorded"
    done = deli("import", "har", str(recording), str(dest))
    assert done.returncode == 0, done.stderr
    assert f"imported {len(kept)} request(s) into {dest}" in done.stdout
    assert f"scenario 'replay': {len(kept)} request(s) in order, 1 user(s), 10s" in done.stdout
    assert "left out " in done.stdout and "--all keeps them" in done.stdout
    assert TOKEN not in "".join(p.read_text() for p in dest.rglob("*.yaml"))

    report = tmp_path / "run.json"
    ran = run_imported(dest, report)
    assert ran.returncode == 0, ran.stderr
    data = json.loads(report.read_text())
    assert set(data["per_request"]) == kept
    assert data["errors"] == {}
    assert data["requests"] == app.total() > len(kept)  # what the server counted, no more
    assert set(app.by_status()) <= {200, 201, 204}  # every credential and body arrived intact
    assert not any(path.startswith("/static") for _, path, _ in app.hits)


def test_har_import_flags_and_refusals(tmp_path: Path) -> None:
    dest = tmp_path / "cdn"
    done = deli(
        "import", "har", str(DATA / "firefox.har"), str(dest), "--all", "--host", "cdn.example.net"
    )
    assert done.returncode == 0, done.stderr
    assert "imported 1 request(s)" in done.stdout
    refused(deli("import", "har", str(DATA / "firefox.har"), str(dest)), "already exists")
    bad = tmp_path / "page.har"
    bad.write_text("<html></html>")
    refused(
        deli("import", "har", str(bad), str(tmp_path / "x")), "page.har:1: the HAR file is not JSON"
    )
    assert not (tmp_path / "x").exists()


def test_imported_openapi_spec_runs_once_its_credentials_are_given(
    shop: tuple[ShopApp, RunningServer], tmp_path: Path
) -> None:
    app, server = shop
    spec = tmp_path / "shop.yaml"
    spec.write_text(
        (DATA / "shop-3.0.yaml")
        .read_text()
        .replace(RECORDED_ORIGIN, f"{server.host}:{server.port}")
    )
    dest = tmp_path / "api"
    done = deli("import", "openapi", str(spec), str(dest))
    assert done.returncode == 0, done.stderr
    assert "imported 7 request(s)" in done.stdout
    assert (
        f"to fill in before a run, in {dest / '.env'}: bearer_auth, session_cookie" in done.stdout
    )

    report = tmp_path / "run.json"
    ran = deli("run", str(dest), "--duration", "1s", "--json", str(report), "--quiet")
    assert ran.returncode == 2 and "unknown variable {{bearer_auth}}" in ran.stderr
    assert app.total() == 0  # nothing was sent

    env = {"bearer_auth": TOKEN, "session_cookie": SID}
    ran = deli("run", str(dest), "--duration", "1s", "--json", str(report), "--quiet", env=env)
    assert ran.returncode == 0, ran.stderr
    data = json.loads(report.read_text())
    assert data["errors"] == {}  # every status check (the spec's first 2xx) held
    assert data["requests"] == app.total() > 7
    assert set(app.by_status()) == {200, 201, 204}
    assert {(m, p) for m, p, _ in app.hits} == {
        ("POST", "/api/login"),
        ("GET", "/api/me"),
        ("GET", "/api/items"),
        ("GET", "/api/items/1"),
        ("POST", "/api/cart"),
        ("DELETE", "/api/cart/7"),
        ("POST", "/api/orders"),
    }


def test_bad_openapi_input_exits_2_with_file_and_line(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text("openapi: 3.0.0\npaths:\n  /a: {get: {parameters: [{$ref: '#/nope'}]}}\n")
    done = deli("import", "openapi", str(spec), str(tmp_path / "out"))
    refused(done, f"{spec}:3: broken $ref '#/nope'")
    assert not (tmp_path / "out").exists()


BEARER = {"type": "bearer", "bearer": [{"key": "token", "value": "{{token}}", "type": "string"}]}
SHOP_FLOW = {
    "info": {"name": "Shop flow", "schema": SCHEMA},
    "variable": [{"key": "baseUrl", "value": "http://127.0.0.1:9"}],
    "item": [
        {
            "name": "Log in",
            "request": {
                "method": "POST",
                "header": [{"key": "Content-Type", "value": "application/json"}],
                "body": {
                    "mode": "raw",
                    "raw": '{\n  "user": "ann",\n  "password": "{{password}}"\n}',
                    "options": {"raw": {"language": "json"}},
                },
                "url": {"raw": "{{baseUrl}}/api/login", "host": ["{{baseUrl}}"]},
            },
            "event": [
                {
                    "listen": "test",
                    "script": {
                        "type": "text/javascript",
                        "exec": [
                            'pm.test("Status code is 200", function () {',
                            "    pm.response.to.have.status(200);",
                            "});",
                            "var jsonData = pm.response.json();",
                            'pm.environment.set("token", jsonData.token);',
                            'console.log("logged in as " + jsonData.user);',
                        ],
                    },
                }
            ],
        },
        {
            "name": "Who am I",
            "request": {"method": "GET", "auth": BEARER, "url": "{{baseUrl}}/api/me"},
            "event": [
                {
                    "listen": "test",
                    "script": {"exec": ["pm.expect(pm.response.code).to.eql(200);"]},
                }
            ],
        },
        {
            "name": "Place order",
            "request": {
                "method": "POST",
                "auth": BEARER,
                "body": {
                    "mode": "raw",
                    "raw": '{"sku": "A-1", "qty": 2}',
                    "options": {"raw": {"language": "json"}},
                },
                "url": "{{baseUrl}}/api/orders",
            },
        },
    ],
}


def test_postman_login_script_becomes_an_extraction_the_next_requests_use(
    shop: tuple[ShopApp, RunningServer], tmp_path: Path
) -> None:
    app, server = shop
    source = write_json(tmp_path / "flow.postman_collection.json", SHOP_FLOW)
    env = write_json(
        tmp_path / "env.json",
        {"name": "local", "values": [{"key": "password", "value": "hunter2!", "enabled": True}]},
    )
    dest = tmp_path / "flow"
    done = deli("import", "postman", str(source), str(dest), "--environment", str(env))
    assert done.returncode == 0, done.stderr
    assert (
        'warning: Log in: test script not translated: console.log("logged in as " + jsonData.user)'
    ) in done.stderr
    login = load_collection(dest).find_request("Log in")
    assert login is not None
    assert [(e.name, e.json) for e in login.extract] == [("token", "$.token")]
    assert login.checks.status == [200]
    assert "extract:\n  token:\n    json: $.token" in (dest / login.relpath).read_text()

    report = tmp_path / "run.json"
    ran = deli(
        *("run", str(dest), "--duration", "1s", "--json", str(report), "--quiet"),
        env={"baseUrl": server.url},  # the token exists only once Log in has answered
    )
    assert ran.returncode == 0, ran.stderr
    data = json.loads(report.read_text())
    assert data["errors"] == {}
    assert set(data["per_request"]) == {"Log in", "Who am I", "Place order"}
    assert data["requests"] == app.total() >= 3
    assert set(app.by_status()) == {200, 201}  # no 401: every token came from a login


POSTING_PATHS = {
    ("POST", "/api/login"),
    ("GET", "/api/me"),
    ("GET", "/api/items"),
    ("GET", "/api/items/2"),
    ("POST", "/api/cart"),
    ("DELETE", "/api/cart/7"),
    ("POST", "/api/orders"),
    ("GET", "/api/reports"),
    ("GET", "/api/admin"),
}


def test_posting_directory_runs_as_it_is_and_converted(
    shop: tuple[ShopApp, RunningServer], tmp_path: Path
) -> None:
    app, server = shop
    posting = shutil.copytree(DATA / "posting", tmp_path / "posting")
    env = posting / "posting.env"
    env.write_text(env.read_text().replace(RECORDED_ORIGIN, f"{server.host}:{server.port}"))
    before = sorted(p.relative_to(posting) for p in posting.rglob("*"))

    report = tmp_path / "direct.json"
    ran = deli("run", str(posting), "--duration", "1s", "--json", str(report), "--quiet")
    assert ran.returncode == 0, ran.stderr
    data = json.loads(report.read_text())
    assert data["errors"] == {} and len(data["per_request"]) == 9
    assert data["requests"] == app.total() > 9
    assert set(app.by_status()) == {200, 201, 204}
    assert {(m, p) for m, p, _ in app.hits} == POSTING_PATHS
    after = sorted(p.relative_to(posting) for p in posting.rglob("*") if ".deli" not in p.parts)
    assert after == before  # nothing written beside the requests (run history aside)

    dest = tmp_path / "converted"
    done = deli("import", "posting", str(posting), str(dest))
    assert done.returncode == 0, done.stderr
    assert "imported 9 request(s)" in done.stdout
    assert "env files not carried over: dev.env (name them with --env)" in done.stdout
    assert "warning: reports.posting.yaml: proxy http://proxy.internal:3128" in done.stderr
    first = app.total()
    ran = deli("run", str(dest), "--duration", "1s", "--json", str(report), "--quiet")
    assert ran.returncode == 0, ran.stderr
    data = json.loads(report.read_text())
    assert data["errors"] == {}
    assert data["requests"] == app.total() - first > 9
