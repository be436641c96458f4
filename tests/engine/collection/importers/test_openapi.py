"""Importing OpenAPI 3.0 (YAML) and 3.1 (JSON) specs: one request per operation, values from
the spec's examples or its schemas, security as variables to fill in, clear errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from engine.collection.importers.openapi import import_openapi
from engine.collection.loader import load_collection
from engine.errors import CollectionError
from engine.plan.build import build_plan

DATA = Path(__file__).parent / "data"
SHOP = DATA / "shop-3.0.yaml"  # OpenAPI 3.0.3, YAML: tags, $refs, cookie and bearer security
ADMIN = DATA / "admin-3.1.json"  # OpenAPI 3.1.0, JSON: relative server, webhooks, 3.1 schemas


def test_openapi_30_yaml_operations_become_requests_in_folders_by_tag(tmp_path: Path) -> None:
    result = import_openapi(SHOP, tmp_path / "out")
    c = load_collection(tmp_path / "out")
    assert c.name == "Shop API"
    assert c.base_url == "http://127.0.0.1:8089/api"  # servers[0], its variable's default
    assert sorted((r.relpath.as_posix(), r.name, r.method, r.url) for r in c.requests) == [
        ("auth/get_me.yaml", "getMe", "GET", "/me"),
        ("auth/login.yaml", "login", "POST", "/login"),
        ("cart/add_to_cart.yaml", "addToCart", "POST", "/cart"),
        ("cart/remove_from_cart.yaml", "removeFromCart", "DELETE", "/cart/7"),  # example
        ("items/get_one_item.yaml", "Get one item", "GET", "/items/{{item_id}}"),  # summary
        ("items/list_items.yaml", "listItems", "GET", "/items"),
        ("orders/create_order.yaml", "createOrder", "POST", "/orders"),  # no tag: the path
    ]
    by_name = {r.name: r for r in c.requests}
    assert {n: r.checks.status for n, r in by_name.items()} == {
        "login": [200],
        "getMe": [200],
        "listItems": [200],
        "Get one item": [200],
        "addToCart": [201],
        "removeFromCart": [204],
        "createOrder": [201],
    }
    listing = by_name["listItems"]
    assert listing.params == {"page": "1", "sort": "name"}  # $ref'd default, enum[0]; q left out
    assert listing.headers == {"Cookie": "sid={{session_cookie}}"}
    assert by_name["getMe"].headers == {"Authorization": "Bearer {{bearer_auth}}"}
    assert by_name["login"].headers == {}  # security: [] on the operation
    assert by_name["login"].body == {"user": "ann", "password": "{{password}}"}
    assert by_name["addToCart"].body == "sku=A-1&qty=1"  # built from the form's schema
    order = by_name["createOrder"]
    assert order.headers == {
        "X-Request-Id": "{{x_request_id}}",  # required, no example: a variable
        "Authorization": "Bearer {{bearer_auth}}",  # the document's default security
    }  # the Accept parameter is left to the client, as the spec says
    assert order.body == {  # built from the schema: readOnly id out, allOf merged, no cycle
        "sku": "A-1",
        "qty": 2,
        "gift": True,
        "placed": "2024-01-01T00:00:00Z",
        "shipping": {"street": "1 Main St", "country": "DE", "note": "string"},
        "lines": [],
    }
    assert c.variables == {
        "item_id": "1",
        "x_request_id": "00000000-0000-0000-0000-000000000000",
    }
    assert result.to_fill == ["bearer_auth", "session_cookie"]
    assert result.notes == [
        "values the spec does not give, made up in collection.yaml: item_id=1,"
        " x_request_id=00000000-0000-0000-0000-000000000000",
        "left out optional parameters without an example: GET /items q",
    ]
    env = (tmp_path / "out" / ".env").read_text()
    assert "# bearer_auth=    <- bearer token (bearerAuth)" in env
    assert "hunter2!" not in "".join(p.read_text() for p in (tmp_path / "out").rglob("*.yaml"))


def test_security_variables_must_be_filled_before_a_plan_is_built(tmp_path: Path) -> None:
    import_openapi(SHOP, tmp_path / "out")
    c = load_collection(tmp_path / "out")
    with pytest.raises(CollectionError, match=re.escape("unknown variable {{bearer_auth}}")):
        build_plan(c, environ={})
    plan = build_plan(c, environ={"bearer_auth": "tok", "session_cookie": "s1"})
    sent = {r.name: r for r in plan.requests}
    assert dict(sent["getMe"].headers)["Authorization"] == "Bearer tok"
    assert dict(sent["listItems"].headers)["Cookie"] == "sid=s1"
    assert sent["listItems"].url == "http://127.0.0.1:8089/api/items?page=1&sort=name"
    assert json.loads(sent["login"].body)["password"] == "hunter2!"


def test_openapi_31_json_with_relative_server_examples_and_webhooks(tmp_path: Path) -> None:
    result = import_openapi(ADMIN, tmp_path / "out")
    c = load_collection(tmp_path / "out")
    assert c.base_url == "{{base_url}}/api"
    by_name = {r.name: r for r in c.requests}
    assert set(by_name) == {"adminLogin", "Sales report", "adminHome", "getItem", "replaceItem"}
    # a requestBody $ref with keys beside it; the first of several named examples
    assert by_name["adminLogin"].body == {"user": "ann", "password": "{{password}}"}
    assert by_name["getItem"].url == "/items/42"  # 3.1 schema examples, type [integer, null]
    report = by_name["Sales report"]
    assert report.params == {"from": "2024-06-01", "to": "2024-06-30", "format": "json"}
    assert report.headers == {"X-API-Key": "{{api_key}}"}
    assert report.checks.status == [200]  # "2XX" is a range, 200 the first code
    assert by_name["adminHome"].headers == {"Authorization": "Basic {{basic_auth}}"}
    assert by_name["replaceItem"].headers == {"Authorization": "Bearer {{oauth}}"}
    assert by_name["replaceItem"].body is None
    assert result.to_fill == ["base_url", "api_key", "basic_auth", "oauth"]
    assert result.warnings == [
        "servers[0] is '/api', not a full URL: base_url is {{base_url}}/api",
        "PUT /items/{itemId}: multipart/form-data bodies (file uploads) are not imported",
    ]
    assert result.notes == ["left out webhooks (requests the API sends, not receives): orderPlaced"]
    plan = build_plan(
        c,
        environ={
            "base_url": "http://127.0.0.1:9",
            "api_key": "k",
            "basic_auth": "YTpi",
            "oauth": "t",
        },
    )
    assert {r.url for r in plan.requests} >= {"http://127.0.0.1:9/api/items/42"}


def spec_file(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


OPERATION = """\
openapi: 3.0.0
info: {title: t, version: '1'}
servers: [{url: 'http://127.0.0.1:9'}]
paths:
  /a:
    post:
      requestBody:
        content:
          application/json:
            schema:
              $ref: '%s'
      responses: {'200': {description: ok}}
components:
  schemas:
    Loop: {$ref: '#/components/schemas/Loop'}
"""


@pytest.mark.parametrize(
    ("text", "name", "line", "message"),
    [
        ("openapi: 3.0.0\npaths: [unclosed\n", "spec.yaml", 3, "not YAML"),
        ('{"openapi": "3.1.0",\n "paths": }', "spec.json", 2, "not JSON"),
        ("swagger: '2.0'\npaths: {}\n", "spec.yaml", None, "Swagger 2.0 is not supported"),
        ("openapi: 4.0.0\npaths: {}\n", "spec.yaml", 1, "OpenAPI 4.0.0 is not supported"),
        ("info: {title: x}\n", "spec.yaml", 1, "not an OpenAPI document"),
        ("- a list\n", "spec.yaml", None, "not an OpenAPI document"),
        (OPERATION % "#/components/schemas/Missing", "spec.yaml", 11, "broken $ref"),
        (OPERATION % "other.yaml#/Pet", "spec.yaml", 11, "points into another file"),
        (OPERATION % "#/components/schemas/Loop", "spec.yaml", 11, "$ref chain too long"),
    ],
)
def test_bad_specs_are_refused_with_what_and_where(
    tmp_path: Path, text: str, name: str, line: int | None, message: str
) -> None:
    source = spec_file(tmp_path, text, name)
    with pytest.raises(CollectionError) as info:
        import_openapi(source, tmp_path / "out")
    problem = info.value.problems[0]
    assert (problem.path, problem.line) == (source, line)
    assert message in problem.message
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no staging directory left


def test_a_broken_ref_names_the_reference(tmp_path: Path) -> None:
    source = spec_file(tmp_path, OPERATION % "#/components/schemas/Mising")
    with pytest.raises(CollectionError) as info:
        import_openapi(source, tmp_path / "out")
    assert str(info.value.problems[0]) == (
        f"{source}:11: broken $ref '#/components/schemas/Mising': there is no 'Mising' there"
        " (hint: fix the reference or add what it names under components)"
    )
