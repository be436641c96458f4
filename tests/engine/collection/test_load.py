"""Loading collections: the demo loads cleanly, and every bad input names file, line and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.collection.loader import (
    find_collection_root,
    load_collection,
    load_collection_partial,
    parse_request_text,
)
from engine.collection.model import MISSING
from engine.errors import CollectionError
from tests.engine.collection_files import (
    BASIC_REQUEST,
    SAMPLE,
    load_problems,
    problem_at,
    write_collection,
)


def test_demo_collection_loads_with_no_problems() -> None:
    c = load_collection(SAMPLE)
    assert c.name == "Demo"
    assert c.base_url == "http://{{host}}:{{port}}"
    assert c.variables["host"] == "127.0.0.1"
    assert c.timeout_s == 5.0
    assert list(c.scenarios) == ["smoke", "ramp", "spike", "stages", "open-rate", "flow"]
    smoke = c.scenarios["smoke"]
    assert (smoke.model, smoke.users, smoke.duration_s, smoke.ramp_up_s) == ("closed", 10, 20, 2)
    assert smoke.thresholds == ["p95 < 300ms", "error_rate < 1%"]
    open_rate = c.scenarios["open-rate"]
    assert (open_rate.model, open_rate.rate, open_rate.max_in_flight) == ("open", 200.0, 200)
    paths = {r.relpath.as_posix() for r in c.requests}
    assert paths == {
        "home.yaml",
        "api/get_json.yaml",
        "api/post_echo.yaml",
        "slow/jitter.yaml",
        "slow/delay.yaml",
        "shop/login.yaml",
        "shop/list_items.yaml",
        "shop/get_item.yaml",
    }
    assert c.folders == [Path("api"), Path("shop"), Path("slow")]
    flow = c.scenarios["flow"]
    assert (flow.setup, flow.requests, flow.cookies) == (
        ["Login"],
        ["List items", "Get item"],
        True,
    )
    get_json = c.find_request("Get JSON")
    assert get_json is not None
    assert get_json.checks.json[-1] == ("$.nested.ok", MISSING)


def test_load_accepts_the_collection_file_path(tmp_path: Path) -> None:
    root = write_collection(tmp_path, {"home.yaml": BASIC_REQUEST})
    assert load_collection(root / "collection.yaml").root == root


def test_request_fields_are_read(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {
            "users/create.yml": (
                "name: Create user\nmethod: post\nurl: /users\n"
                "headers: {X-Count: 5, Accept: application/json}\n"
                "params: {page: 2}\nbody: {name: ann, tags: [a]}\ntimeout: 1500ms\n"
                "weight: 2.5\ninsecure: true\ndescription: makes a user\n"
                "checks:\n  status: [200, 201]\n  body_contains: ann\n"
                "  json:\n    - {path: $.id}\n    - {path: $.name, equals: ann}\n"
            )
        },
    )
    (req,) = load_collection(root).requests
    assert req.relpath == Path("users/create.yml")
    assert (req.name, req.method, req.url) == ("Create user", "POST", "/users")
    assert req.headers == {"X-Count": "5", "Accept": "application/json"}
    assert req.params == {"page": "2"}
    assert req.body == {"name": "ann", "tags": ["a"]}
    assert (req.timeout_s, req.weight, req.insecure) == (1.5, 2.5, True)
    assert req.checks.status == [200, 201]
    assert req.checks.body_contains == ["ann"]
    assert req.checks.json == [("$.id", MISSING), ("$.name", "ann")]


def test_yaml_syntax_error_in_a_request_gives_its_line(tmp_path: Path) -> None:
    root = write_collection(tmp_path, {"bad.yaml": "name: x\nurl: /\nheaders:\n  A: [1, 2\n"})
    p = problem_at(load_problems(root), root / "bad.yaml", 5)
    assert "YAML syntax error" in p.message
    assert "indentation" in p.hint


def test_yaml_syntax_error_in_collection_file(tmp_path: Path) -> None:
    root = write_collection(tmp_path, {"collection.yaml": "name: x\n  base_url: y\n"})
    p = problem_at(load_problems(root), root / "collection.yaml", 2)
    assert "YAML syntax error" in p.message


def test_wrong_types_are_reported_with_what_was_expected(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {"r.yaml": "name: r\nurl: /\nheaders: 5\nweight: heavy\ninsecure: maybe\nbody: 42\n"},
    )
    problems = load_problems(root)
    path = root / "r.yaml"
    assert "headers must be a mapping" in problem_at(problems, path, 3).message
    assert "weight must be a number, not text 'heavy'" in problem_at(problems, path, 4).message
    assert "insecure must be true or false" in problem_at(problems, path, 5).message
    body = problem_at(problems, path, 6)
    assert "body must be text, a mapping or a list" in body.message
    assert "quotes" in body.hint


def test_unknown_keys_are_errors_with_a_suggestion(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {
            "collection.yaml": "name: x\nbase_url: http://h\nscenarios:\n  s:\n    user: 3\n",
            "r.yaml": "name: r\nurl: /\nmethdo: GET\n",
        },
    )
    problems = load_problems(root)
    req = problem_at(problems, root / "r.yaml", 3)
    assert req.message == "unknown key 'methdo' in a request"
    assert "did you mean 'method'?" in req.hint
    scenario = problem_at(problems, root / "collection.yaml", 5)
    assert "unknown key 'user'" in scenario.message
    assert "did you mean 'users'?" in scenario.hint


def test_missing_url(tmp_path: Path) -> None:
    root = write_collection(tmp_path, {"r.yaml": "name: r\nmethod: GET\n"})
    p = problem_at(load_problems(root), root / "r.yaml", 1)
    assert p.message == "the request has no url"
    assert "base_url" in p.hint


def test_bad_method_suggests_the_closest(tmp_path: Path) -> None:
    root = write_collection(tmp_path, {"r.yaml": "name: r\nmethod: PSOT\nurl: /\n"})
    p = problem_at(load_problems(root), root / "r.yaml", 2)
    assert "'PSOT' is not an HTTP method" in p.message
    assert p.hint == "did you mean 'POST'?"


def test_bad_durations(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {
            "collection.yaml": (
                "name: x\nbase_url: http://h\ntimeout: soon\n"
                "scenarios:\n  s:\n    duration: 10x\n    think_time: 1s..fast\n"
            ),
            "r.yaml": "name: r\nurl: /\ntimeout: 10x\n",
        },
    )
    problems = load_problems(root)
    cfile = root / "collection.yaml"
    assert "'soon' is not a duration" in problem_at(problems, cfile, 3).message
    duration = problem_at(problems, cfile, 6)
    assert "'10x' is not a duration" in duration.message
    assert duration.hint == "use e.g. 500ms, 10s, 1m30s"
    assert "think_time" in problem_at(problems, cfile, 7).message
    assert "'10x' is not a duration" in problem_at(problems, root / "r.yaml", 3).message


def test_negative_users_and_rate(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {
            "collection.yaml": (
                "name: x\nbase_url: http://h\nscenarios:\n  a:\n    users: -5\n"
                "  b:\n    model: open\n    rate: -1\n"
            ),
            "r.yaml": BASIC_REQUEST,
        },
    )
    problems = load_problems(root)
    users = problem_at(problems, root / "collection.yaml", 5)
    assert "users must be 0 or more, not -5" in users.message
    assert users.hint
    rate = [p for p in problems if p.line == 8]
    assert rate and "rate must be 0 or more" in rate[0].message


def test_bad_threshold_expression(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {
            "collection.yaml": (
                "name: x\nbase_url: http://h\nscenarios:\n  s:\n    thresholds:\n"
                "      - p95 < 300ms\n      - p95 < soon\n"
            ),
            "r.yaml": BASIC_REQUEST,
        },
    )
    (p,) = load_problems(root)
    assert (p.path, p.line) == (root / "collection.yaml", 7)
    assert "'soon' is not a latency" in p.message
    assert "p95 < 300ms" in p.hint


def test_per_request_threshold_must_name_a_request(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {
            "collection.yaml": (
                "name: x\nbase_url: http://h\nscenarios:\n  s:\n    thresholds:\n"
                "      - p95[Home] < 1s\n      - p95[Hone] < 1s\n"
            ),
            "home.yaml": BASIC_REQUEST,
        },
    )
    (p,) = load_problems(root)
    assert (p.path, p.line) == (root / "collection.yaml", 7)
    assert "'Hone'" in p.message
    assert p.hint == "did you mean 'Home'?"


def test_duplicate_request_names_point_at_the_second_file(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path, {"a.yaml": BASIC_REQUEST, "b/c.yaml": "url: /c\nname: Home\n"}
    )
    (p,) = load_problems(root)
    assert (p.path, p.line) == (root / "b/c.yaml", 2)
    assert p.message == "request name 'Home' is already used by a.yaml"
    assert "unique" in p.hint


def test_unknown_scenario_request_reference(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {
            "collection.yaml": (
                "name: x\nbase_url: http://h\nscenarios:\n  s:\n    requests:\n"
                "      - Home\n      - Hme2\n"
            ),
            "home.yaml": BASIC_REQUEST,
        },
    )
    (p,) = load_problems(root)
    assert (p.path, p.line) == (root / "collection.yaml", 7)
    assert "names request 'Hme2', which does not exist" in p.message
    assert p.hint == "did you mean 'Home'?"


def test_every_problem_in_every_file_is_reported_at_once(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {
            "collection.yaml": "name: x\nbase_url: http://h\ntimout: 1s\n",
            "a.yaml": "name: a\nmethod: FETCH\nurl: /\n",
            "b.yaml": "name: b\n",
            "c/d.yaml": "name: d\nurl: [\n",
        },
    )
    problems = load_problems(root)
    assert {(p.path.name if p.path else None) for p in problems} == {
        "collection.yaml",
        "a.yaml",
        "b.yaml",
        "d.yaml",
    }
    with pytest.raises(CollectionError) as info:
        load_collection(root)
    text = str(info.value)
    assert f"{root / 'a.yaml'}:2: method 'FETCH' is not an HTTP method (hint:" in text


def test_every_problem_has_a_line_and_a_hint(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {
            "collection.yaml": (
                "name: ''\nbase_url: localhost\ntimeout: x\nvariables: {'bad name': 1}\n"
                "headers: {'Bad Header': v}\nenv_file: ''\nscenarios:\n"
                "  s:\n    model: clsoed\n    users: 1.5\n    rate: -1\n    workers: 0\n"
                "    iterations: 0\n    http2: 'yes'\n    stages: [{duration: 1s}]\n"
                "    requests: 5\n    thresholds: [p95 <]\n    think_time: x\n"
                "    spike_duration: y\n"
            ),
            "a.yaml": (
                "name: ''\nurl: 'a b'\nparams: [1]\nheaders: {X: 'a\\nb'}\nbody: 1.5\n"
                "checks: {status: [x, 99], body_contains: [''], json: [{equals: 1}, 5]}\n"
                "1: x\n"
            ),
            "b.yaml": "- a list\n",
            "c.yaml": "!!python/object:os.system {}\n",
        },
    )
    problems = load_problems(root)
    assert len(problems) >= 25
    for p in problems:
        assert p.line is not None and p.hint, str(p)


def test_yaml_anchors_and_merge_keys_share_scenario_settings(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {
            "collection.yaml": (
                "name: x\nbase_url: http://h\nscenarios:\n"
                "  base: &base\n    users: 4\n    thresholds: [p95 < 1s]\n"
                "  longer:\n    <<: *base\n    duration: 1m\n    users: 6\n"
            ),
            "home.yaml": BASIC_REQUEST,
        },
    )
    longer = load_collection(root).scenarios["longer"]
    assert (longer.users, longer.duration_s, longer.thresholds) == (6, 60.0, ["p95 < 1s"])


def test_duplicate_keys_and_empty_files(tmp_path: Path) -> None:
    root = write_collection(tmp_path, {"a.yaml": "name: a\nurl: /\nurl: /x\n", "b.yaml": ""})
    problems = load_problems(root)
    assert "appears twice" in problem_at(problems, root / "a.yaml", 3).message
    assert "empty" in problem_at(problems, root / "b.yaml", 1).message


def test_scheme_and_relative_url_problems(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {
            "collection.yaml": "name: x\n",
            "a.yaml": "name: a\nurl: ftp://files/x\n",
            "b.yaml": "name: b\nurl: /relative\n",
            "c.yaml": "name: c\nurl: http://127.0.0.1/ok\n",
        },
    )
    problems = load_problems(root)
    assert "only http and https" in problem_at(problems, root / "a.yaml", 2).message
    rel = problem_at(problems, root / "b.yaml", 2)
    assert "no base_url" in rel.message
    assert "base_url" in rel.hint
    assert not [p for p in problems if p.path == root / "c.yaml"]


def test_scenario_profile_needs(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {
            "collection.yaml": (
                "name: x\nbase_url: http://h\nscenarios:\n"
                "  s:\n    profile: spike\n"
                "  o:\n    model: open\n"
                "  m:\n    model: opne\n"
            ),
            "r.yaml": BASIC_REQUEST,
        },
    )
    problems = load_problems(root)
    messages = " | ".join(p.message for p in problems)
    assert "spike needs spike_to" in messages
    assert "spike needs spike_duration" in messages
    assert "open model needs a rate" in messages
    model = problem_at(problems, root / "collection.yaml", 9)
    assert model.hint == "did you mean 'open'?"


def test_hidden_folders_and_other_files_are_skipped(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path,
        {
            "home.yaml": BASIC_REQUEST,
            ".deli/recovery.yaml": "not: [valid",
            ".hidden.yaml": "junk: [",
            "notes.txt": "not yaml: [",
            "empty_folder/.keep": "",
        },
    )
    c = load_collection(root)
    assert [r.name for r in c.requests] == ["Home"]
    assert c.folders == [Path("empty_folder")]


def test_partial_load_opens_a_collection_with_a_broken_file(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path, {"home.yaml": BASIC_REQUEST, "broken.yaml": "name: b\nurl: [\n"}
    )
    collection, problems = load_collection_partial(root)
    assert [r.name for r in collection.requests] == ["Home"]
    assert [(p.path, p.line) for p in problems] == [(root / "broken.yaml", 3)]


def test_missing_collection_file_or_directory(tmp_path: Path) -> None:
    with pytest.raises(CollectionError) as info:
        load_collection(tmp_path)
    (p,) = info.value.problems
    assert p.path == tmp_path / "collection.yaml"
    assert "missing" in p.message and "name:" in p.hint
    with pytest.raises(CollectionError, match="no such directory"):
        load_collection(tmp_path / "nope")


def test_parse_request_text_reports_lines_in_the_editor_text(tmp_path: Path) -> None:
    req = parse_request_text("name: a\nurl: /a\n", Path("x/a.yaml"))
    assert (req.name, req.url, req.relpath) == ("a", "/a", Path("x/a.yaml"))
    with pytest.raises(CollectionError) as info:
        parse_request_text("name: a\nurl: /a\nweight: -2\nmethod: GOT\n", Path("a.yaml"), tmp_path)
    problems = info.value.problems
    assert [(p.path, p.line) for p in problems] == [(tmp_path, 3), (tmp_path, 4)]


def test_request_name_defaults_to_the_file_name(tmp_path: Path) -> None:
    root = write_collection(tmp_path, {"get_user.yaml": "url: /users/1\n"})
    assert load_collection(root).requests[0].name == "get_user"


def test_find_collection_root(tmp_path: Path) -> None:
    root = write_collection(tmp_path / "col", {"a/b/c.yaml": BASIC_REQUEST})
    assert find_collection_root(root / "a" / "b" / "c.yaml") == root
    assert find_collection_root(root / "a") == root
    assert find_collection_root(root) == root
    assert find_collection_root(tmp_path) is None


def test_max_results_is_a_scenario_setting_of_at_least_one(tmp_path: Path) -> None:
    text = "name: x\nbase_url: http://h\nscenarios:\n  a:\n    max_results: {n}\n"
    ok = write_collection(
        tmp_path / "ok", {"collection.yaml": text.format(n=500), "r.yaml": BASIC_REQUEST}
    )
    assert load_collection(ok).scenarios["a"].max_results == 500
    bad = write_collection(
        tmp_path / "bad", {"collection.yaml": text.format(n=0), "r.yaml": BASIC_REQUEST}
    )
    problem = problem_at(load_problems(bad), bad / "collection.yaml", 5)
    assert "max_results must be 1 or more" in problem.message


def test_thresholds_empty_turns_the_default_off_and_survives_a_save(tmp_path: Path) -> None:
    from engine.collection.saver import save_collection_file

    text = "name: x\nbase_url: http://h\nscenarios:\n  a:\n    thresholds: []\n  b:\n    users: 1\n"
    root = write_collection(tmp_path, {"collection.yaml": text, "r.yaml": BASIC_REQUEST})
    collection = load_collection(root)
    assert collection.scenarios["a"].default_thresholds is False
    assert collection.scenarios["b"].default_thresholds is True
    collection.scenarios["b"].users = 3
    save_collection_file(collection)
    again = load_collection(root)
    assert again.scenarios["a"].default_thresholds is False and again.scenarios["b"].users == 3
