"""Planning flows: per-user values become slots in byte templates, everything else stays
prepared bytes; static scenarios get no template at all; bad flows name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.collection.loader import load_collection
from engine.errors import CollectionError, Problem
from engine.plan.build import build_plan
from engine.plan.model import RunPlan
from engine.plan.template import fill
from engine.transport.h1_request import build_request_head, build_request_template
from engine.transport.h2_request import build_h2_template, fill_h2
from tests.engine.collection_files import SAMPLE, write_collection
from tests.engine.flow_files import shop_collection

FLOW = """\
    users: 2
    duration: 1s
    setup: [Login]
    requests: [List items, Get item]
    data: {file: users.csv, as: user}
"""


def _plan(root: Path, scenario: str = "shop") -> RunPlan:
    return build_plan(load_collection(root), scenario, environ={})


def _problems(root: Path, scenario: str = "shop") -> list[Problem]:
    with pytest.raises(CollectionError) as info:
        _plan(root, scenario)
    return info.value.problems


def test_a_static_scenario_has_no_flow_and_no_templates() -> None:
    for name in ("smoke", "open-rate"):
        plan = build_plan(load_collection(SAMPLE), name, environ={})
        assert plan.flow_plan is None
        assert all(r.template is None for r in plan.requests)


def test_setup_comes_first_and_the_flow_is_every_other_request_by_default(tmp_path: Path) -> None:
    root = shop_collection(tmp_path, "http://127.0.0.1:9", FLOW.replace(
        "    requests: [List items, Get item]\n", ""))  # fmt: skip
    (root / "items" / "get.yaml").unlink()
    plan = _plan(root)
    assert [r.name for r in plan.requests] == ["Login", "List items", "Who am I"]
    assert plan.flow_plan is not None
    assert (plan.flow_plan.setup, plan.flow_plan.steps) == ((0,), (1, 2))


def test_only_per_user_values_are_slots(tmp_path: Path) -> None:
    plan = _plan(shop_collection(tmp_path, "http://127.0.0.1:9", FLOW))
    fp = plan.flow_plan
    assert fp is not None
    login, _, get = plan.requests
    names = fp.variables
    # display text shows the slots by name; the bytes around them were made at planning
    assert login.body == b'{"user":"{{user.name}}","password":"{{user.password}}"}'
    assert get.url == "http://127.0.0.1:9/items/{{item_id}}"
    assert get.template is not None
    assert get.template.target == (b"/items/", (names.index("item_id"), 3))
    values = [""] * len(names)
    values[names.index("item_id")] = "a b/c?"
    assert fill(get.template.target, values) == b"/items/a%20b/c%3F"
    assert [g for _, g in get.template.generators] == ["$guid"]
    assert fp.data is not None and fp.data.rows[0] == ("u0", "pw-u0")
    assert [e.name for e in fp.extractions[0]] == ["token", "session"]


def test_values_are_encoded_for_where_they_stand(tmp_path: Path) -> None:
    plan = _plan(shop_collection(tmp_path, "http://127.0.0.1:9", FLOW))
    fp = plan.flow_plan
    assert fp is not None
    login, listing, _ = plan.requests
    values = list(fp.initial)
    values[fp.variables.index("user.name")] = 'a"n\\n'
    values[fp.variables.index("user.password")] = "é"
    values[fp.variables.index("token")] = "t\r\nX-Evil: 1"
    values[fp.variables.index("$guid")] = "g"
    assert login.template is not None and listing.template is not None
    head = build_request_template(login, login.template)(values)
    body = '{"user":"a\\"n\\\\n","password":"é"}'.encode()
    assert head.endswith(b"Content-Length: %d\r\nConnection: keep-alive\r\n\r\n" % len(body) + body)
    assert head.startswith(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1:9\r\n")
    wire = build_request_template(listing, listing.template)(values)
    assert b"Authorization: Bearer tX-Evil: 1\r\nX-Request-Id: g\r\n" in wire
    headers, _ = fill_h2(build_h2_template(listing, listing.template), values)
    assert (b"authorization", b"Bearer tX-Evil: 1") in headers
    assert not any(n == b"cookie" for n, _ in headers)


@pytest.mark.parametrize(
    ("flow_text", "static_text"),
    [
        (
            "method: GET\nurl: /items/{{item_id}}?q=a%20b&pct=50%\n"
            "headers: {Authorization: 'Bearer {{token}}', X-Pct: 100%}\n",
            "method: GET\nurl: /items/7?q=a%20b&pct=50%\n"
            "headers: {Authorization: Bearer abc, X-Pct: 100%}\n",
        ),
        (  # a static body: the length is made at planning
            "method: POST\nurl: /items\nheaders: {Authorization: 'Bearer {{token}}'}\n"
            "body: {n: '100%'}\n",
            "method: POST\nurl: /items\nheaders: {Authorization: Bearer abc}\nbody: {n: '100%'}\n",
        ),
        (  # a per-user body: the length is counted at send time
            "method: PUT\nurl: /items\nbody: {id: '{{item_id}}', by: '{{token}}', n: '1%'}\n",
            "method: PUT\nurl: /items\nbody: {id: '7', by: abc, n: '1%'}\n",
        ),
    ],
)
def test_a_template_filled_with_fixed_values_is_the_static_request(
    tmp_path: Path, flow_text: str, static_text: str
) -> None:
    """The same request written with per-user values and with the values themselves: the
    wire bytes are the same, so the template path and the static path send the same thing
    (a literal % included)."""
    root = shop_collection(tmp_path / "shop", "http://127.0.0.1:9", FLOW)
    (root / "items" / "get.yaml").write_text("name: Get item\n" + flow_text)
    static = write_collection(
        tmp_path / "static",
        {"collection.yaml": "name: S\nbase_url: http://127.0.0.1:9\n",
         "get.yaml": "name: Get item\n" + static_text},
    )  # fmt: skip
    (want,) = build_plan(load_collection(static), environ={}).requests
    plan = _plan(root)
    fp = plan.flow_plan
    assert fp is not None
    get = plan.requests[2]
    values = list(fp.initial)
    for name, value in (("item_id", "7"), ("token", "abc")):
        values[fp.variables.index(name)] = value
    assert get.template is not None
    assert build_request_template(get, get.template)(values) == build_request_head(want)


def test_a_value_used_before_any_request_extracts_it_is_an_error(tmp_path: Path) -> None:
    root = shop_collection(
        tmp_path,
        "http://127.0.0.1:9",
        FLOW.replace("[List items, Get item]", "[Get item, List items]"),
    )
    (problem,) = _problems(root)
    assert problem.path == root / "items" / "get.yaml" and problem.line == 2
    assert (
        "{{item_id}} is used by request 'Get item' before any request gives it" in problem.message
    )
    assert "extracted only by 'List items'" in problem.message
    # a starting value under variables: makes it fine
    text = (root / "collection.yaml").read_text()
    (root / "collection.yaml").write_text(
        text.replace("scenarios:", "variables: {item_id: '1'}\nscenarios:")
    )
    plan = _plan(root)
    assert plan.flow_plan is not None
    assert plan.flow_plan.initial[plan.flow_plan.variables.index("item_id")] == "1"


def test_a_weighted_flow_may_only_use_values_from_setup(tmp_path: Path) -> None:
    root = shop_collection(tmp_path, "http://127.0.0.1:9", FLOW + "    flow: weighted\n")
    (problem,) = _problems(root)
    assert "in a weighted flow (only setup requests come first)" in problem.message


def test_a_scenario_without_the_extracting_request_has_an_unknown_variable(tmp_path: Path) -> None:
    root = shop_collection(tmp_path, "http://127.0.0.1:9", "    requests: [Who am I]\n")
    (problem,) = _problems(root)
    assert (problem.path, problem.line) == (root / "whoami.yaml", 3)
    assert problem.message == "unknown variable {{token}}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("url: http://{{item_id}}/x\n", "cannot be used in the scheme or host"),
        ("url: /x\nchecks: {body_contains: '{{item_id}}'}\n", "cannot be used in a check"),
        ("url: /x/{{$uuid}}\n", "unknown dynamic value {{$uuid}}"),
    ],
)
def test_per_user_values_where_they_cannot_go_are_errors(
    tmp_path: Path, text: str, message: str
) -> None:
    root = shop_collection(tmp_path, "http://127.0.0.1:9", FLOW)
    (root / "items" / "get.yaml").write_text("name: Get item\n" + text)
    problems = _problems(root)
    assert any(message in p.message and p.path.name == "get.yaml" for p in problems), problems


def test_dynamic_values_alone_make_a_flow(tmp_path: Path) -> None:
    root = write_collection(tmp_path, {"r.yaml": "name: R\nurl: /r?at={{$timestamp}}\n"})
    plan = build_plan(load_collection(root), environ={})
    assert plan.flow_plan is not None and plan.flow_plan.steps == (0,)
    (req,) = plan.requests
    assert req.template is not None and [g for _, g in req.template.generators] == ["$timestamp"]
