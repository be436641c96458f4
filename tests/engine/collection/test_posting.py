"""A Posting directory (``*.posting.yaml`` files and posting.env) opened as a collection, as it
is: Posting's variables, lists and auth read right, and nothing ever written there."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.collection.loader import load_collection
from engine.collection.model import RequestDef
from engine.collection.posting import posting_variables
from engine.collection.saver import (
    create_folder,
    delete_request,
    save_collection_file,
    save_request,
)
from engine.collection.variables import read_env_file
from engine.errors import CollectionError
from engine.plan.build import build_plan
from tests.servers.shop import BASIC, SID, TOKEN

POSTING = Path(__file__).parent / "importers" / "data" / "posting"


def test_posting_variables_become_collection_variables() -> None:
    assert posting_variables("$API/items/${ID}?p=$$5&q=$ 1&r=$9") == (
        "{{API}}/items/{{ID}}?p=$5&q=$ 1&r=$9"
    )


def test_a_posting_directory_opens_as_a_collection(tmp_path: Path) -> None:
    c = load_collection(POSTING)
    assert c.read_only.startswith("a Posting collection is opened read-only")
    assert c.env_file == "posting.env"
    assert c.folders == [Path(f) for f in ("admin", "auth", "cart", "items", "orders")]
    by_name = {r.name: r for r in c.requests}
    assert len(by_name) == 9
    login = by_name["log in"]
    assert (login.relpath, login.method, login.url) == (
        Path("auth/login.posting.yaml"),
        "POST",
        "{{API}}/login",
    )
    assert login.headers == {"Content-Type": "application/json"}  # X-Debug is disabled
    assert login.body == {"user": "{{USER_NAME}}", "password": "{{PASSWORD}}"}
    assert login.description == "Log in as the test user and get a token."
    one = by_name["get one item"]
    assert (one.method, one.url, one.params) == (
        "GET",
        "{{API}}/items/{{ITEM_ID}}",  # :itemId from path_params
        {"fields": "id,name"},  # debug is disabled
    )
    assert one.timeout_s == 2.5
    assert by_name["who am i"].headers["Authorization"] == "Bearer {{TOKEN}}"
    assert by_name["add to cart"].body == "sku=A-1&qty=2"  # coupon is disabled
    assert by_name["create order"].body == {"sku": "A-1", "qty": 2, "note": "gift under $5"}
    admin = by_name["admin home"]
    assert admin.headers == {"Authorization": f"Basic {BASIC}"}  # from the env's values
    assert admin.insecure  # verify_ssl: false


def test_posting_env_values_refer_to_each_other_as_in_dotenv(tmp_path: Path) -> None:
    env = tmp_path / "posting.env"
    env.write_text("A=1\nB=\"${A}/x\"\nC=${B}-$A\nD='${A}'\n")
    assert read_env_file(env) == {"A": "1", "B": "{{A}}/x", "C": "{{B}}-$A", "D": "${A}"}
    plan = build_plan(load_collection(POSTING), environ={})
    sent = {r.name: r for r in plan.requests}
    assert sent["who am i"].url == "http://127.0.0.1:8089/api/me"  # API="${BASE_URL}/api"
    assert dict(sent["who am i"].headers)["Authorization"] == f"Bearer {TOKEN}"
    assert dict(sent["list items"].headers)["Cookie"] == f"sid={SID}"
    assert json.loads(sent["log in"].body) == {"user": "ann", "password": "hunter2!"}
    assert sent["get one item"].url == "http://127.0.0.1:8089/api/items/2?fields=id%2Cname"


def test_nothing_is_ever_written_into_a_posting_directory(tmp_path: Path) -> None:
    root = shutil.copytree(POSTING, tmp_path / "posting")
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    c = load_collection(root)
    req = c.requests[0]
    attempts = [
        lambda: save_request(c, RequestDef(relpath=req.relpath, name=req.name, url="/x")),
        lambda: save_request(c, RequestDef(relpath=Path("new.yaml"), name="new", url="/")),
        lambda: save_collection_file(c),
        lambda: delete_request(c, req),
        lambda: create_folder(c, "more"),
    ]
    for attempt in attempts:
        with pytest.raises(CollectionError) as info:
            attempt()
        assert f"deli-tui import posting {root} NEW_DIR" in str(info.value)
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


def test_unreadable_posting_files_are_named_with_their_line(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "ok.posting.yaml").write_text("name: ok\nurl: http://127.0.0.1:9/\n")
    (root / "broken.posting.yaml").write_text("name: x\nurl: [http://a\n")
    (root / "brew.posting.yaml").write_text("name: tea\nmethod: BREW\nurl: http://h/\n")
    (root / "list.posting.yaml").write_text("- a list\n")
    with pytest.raises(CollectionError) as info:
        load_collection(root)
    shown = [(p.path.name if p.path else None, p.line, p.message) for p in info.value.problems]
    assert shown == [
        ("brew.posting.yaml", 1, "method 'BREW' is not supported"),
        (
            "broken.posting.yaml",
            3,
            "YAML syntax error: did not find expected ',' or ']'",
        ),
        ("list.posting.yaml", 1, "a Posting request file holds a mapping (name:, url:, ...)"),
    ]
