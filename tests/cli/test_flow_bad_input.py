"""``deli-tui run`` on a flow that cannot run: exit code 2, file:line and a hint, and not one
request sent (the server's log stays empty). Runs the real command in a subprocess."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_bad_input import run_cli
from tests.engine.flow_files import shop_collection
from tests.servers.asgi import RunningServer, uvicorn_server
from tests.servers.flow_app import FlowApp

FLOW = """\
    users: 3
    duration: 2s
    setup: [Login]
    requests: [List items, Get item]
    data: {file: users.csv, as: user, mode: unique}
"""


@pytest.fixture(scope="module")
def shop() -> Iterator[tuple[RunningServer, FlowApp]]:
    app = FlowApp()
    with uvicorn_server(app) as server:
        yield server, app


def _break(root: Path, case: str) -> str:
    """Break the collection at ``root`` one way; the file:line the error must name."""
    collection = root / "collection.yaml"
    text = collection.read_text()
    if case == "unknown variable":
        (root / "items" / "get.yaml").write_text("name: Get item\nurl: /items/{{itme_id}}\n")
        return "items/get.yaml:2:"
    if case == "missing data file":
        collection.write_text(text.replace("users.csv", "nobody.csv"))
        return "collection.yaml:9:"
    if case == "empty data file":
        (root / "users.csv").write_text("")
        return "users.csv:1:"
    if case == "not CSV":
        (root / "users.csv").write_text('name,password\n"ann,pw\n')
        return "users.csv:2:"
    if case == "too few rows":
        collection.write_text(text.replace("users: 3", "users: 4"))
        return "collection.yaml:9:"
    if case == "invalid regex":
        login = root / "auth" / "login.yaml"
        login.write_text(login.read_text().replace("sid=([^;]+)", "sid=([^;]+"))
        return "auth/login.yaml:8:"
    if case == "invalid JSON path":
        listing = root / "items" / "list.yaml"
        listing.write_text(listing.read_text().replace("$.items[1].id", "items[1].id"))
        return "items/list.yaml:6:"
    if case == "unknown setup request":
        collection.write_text(text.replace("[Login]", "[Log in]"))
        return "collection.yaml:7:"
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "unknown variable",
        "missing data file",
        "empty data file",
        "not CSV",
        "too few rows",
        "invalid regex",
        "invalid JSON path",
        "unknown setup request",
    ],
)
def test_a_flow_that_cannot_run_exits_2_naming_the_line_and_sends_nothing(
    tmp_path: Path, shop: tuple[RunningServer, FlowApp], case: str
) -> None:
    server, app = shop
    root = shop_collection(tmp_path, server.url, FLOW, users=3)
    where = _break(root, case)
    before = app.requests
    done = run_cli(str(root), "--scenario", "shop")
    assert done.returncode == 2, done.stderr
    assert f"{root}/{where}" in done.stderr, done.stderr
    assert "hint:" in done.stderr
    assert app.requests == before


def test_a_flow_runs_headless_with_every_login_once(
    tmp_path: Path, shop: tuple[RunningServer, FlowApp]
) -> None:
    server, app = shop
    root = shop_collection(tmp_path, server.url, FLOW + "    iterations: 2\n", users=3)
    done = run_cli(str(root), "--scenario", "shop", "--json", str(tmp_path / "r.json"))
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    counts = {name: r["requests"] for name, r in report["per_request"].items()}
    assert counts == {"Login": 3, "List items": 6, "Get item": 6}
    assert report["errors"] == {}
    assert app.logins == {"u0": 1, "u1": 1, "u2": 1} and app.unauthorised == 0
