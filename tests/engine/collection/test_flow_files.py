"""The flow format in collection files: ``extract`` in requests; ``setup``, ``data`` and
``cookies`` in scenarios; read with lines, written back equal, bad input named by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.collection.datafile import parse_data_text, read_data_file
from engine.collection.dumper import dump_collection_file, dump_request
from engine.collection.loader import load_collection, parse_collection_text, parse_request_text
from engine.collection.model import DataDef, ExtractDef
from engine.errors import CollectionError
from engine.plan.build import build_plan
from tests.engine.collection_files import load_problems, problem_at, write_collection
from tests.engine.flow_files import LOGIN, shop_collection

SHOP = """\
    users: 3
    duration: 1m
    setup: [Login]
    flow: sequence
    requests: [List items, Get item]
    data:
      file: users.csv
      as: user
      mode: unique
    cookies: true
"""


def test_extractions_are_read_in_the_issue_format() -> None:
    text = LOGIN + '  csrf: {body_regex: \'name="csrf" value="([^"]+)"\'}\n'
    req = parse_request_text(text, Path("auth/login.yaml"))
    assert req.extract == [
        ExtractDef("token", json="$.token"),
        ExtractDef("session", header="Set-Cookie", regex="sid=([^;]+)"),
        ExtractDef("csrf", body_regex='name="csrf" value="([^"]+)"'),
    ]
    assert [e.line for e in req.extract] == [7, 8, 9]
    assert req.extract[1].describe() == "{header: Set-Cookie, regex: 'sid=([^;]+)'}"


def test_scenario_setup_data_and_cookies_are_read(tmp_path: Path) -> None:
    c = load_collection(shop_collection(tmp_path, "http://127.0.0.1:9", SHOP))
    s = c.scenarios["shop"]
    assert s.setup == ["Login"]
    assert s.data == DataDef("users.csv", "user", "unique")
    assert s.data is not None and s.data.line == 11
    assert s.cookies is True
    short = parse_collection_text(
        "name: X\nscenarios:\n  s:\n    data: people.csv\n", tmp_path
    ).scenarios["s"]
    assert short.data == DataDef("people.csv", "data", "cycle")


def test_flow_fields_round_trip_through_dump_and_load(tmp_path: Path) -> None:
    c = load_collection(shop_collection(tmp_path, "http://127.0.0.1:9", SHOP))
    again = parse_collection_text(dump_collection_file(c), tmp_path)
    assert again.scenarios == c.scenarios
    text = dump_collection_file(c)
    assert "setup:\n      - Login\n    requests:" in text and "cookies: true" in text
    for req in c.requests:
        assert parse_request_text(dump_request(req), req.relpath) == req
    login = dump_request(c.find_request("Login"))  # type: ignore[arg-type]
    assert "extract:\n  token:\n    json: $.token\n" in login


@pytest.mark.parametrize(
    ("extract", "line", "message"),
    [
        ("  t: {json: token}\n", 4, "must start with '$'"),
        ("  t: {body_regex: '(unclosed'}\n", 4, "invalid regex '(unclosed'"),
        ("  t: {header: Set-Cookie, regex: '[a-'}\n", 4, "invalid regex"),
        ("  t: {regex: 'x'}\n", 4, "has no source"),
        ("  t: {json: $.a, header: X}\n", 4, "json and header together"),
        ("  t: {jsn: $.a}\n", 4, "unknown key 'jsn'"),
        ("  bad-name: {json: $.a}\n", 4, "not a valid variable name"),
        ("  t: {header: 'Bad Header'}\n", 4, "is not a header name"),
    ],
)
def test_bad_extractions_name_the_line(
    tmp_path: Path, extract: str, line: int, message: str
) -> None:
    root = write_collection(tmp_path, {"r.yaml": "name: R\nurl: /\nextract:\n" + extract})
    problem = problem_at(load_problems(root), root / "r.yaml", line)
    assert message in problem.message


def test_setup_naming_an_unknown_request_names_the_line(tmp_path: Path) -> None:
    root = shop_collection(tmp_path, "http://127.0.0.1:9", SHOP.replace("[Login]", "[Logn]"))
    problem = problem_at(load_problems(root), root / "collection.yaml", 7)
    assert "names request 'Logn', which does not exist" in problem.message
    assert "did you mean 'Login'?" in problem.hint


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        ("{file: users.csv, mode: once}", 5, "data mode 'once' is not one of unique"),
        ("{as: user}", 5, "data has no file"),
        ("{file: users.csv, as: 'a.b'}", 5, "data as 'a.b' is not a valid name"),
    ],
)
def test_bad_data_settings_name_the_line(
    tmp_path: Path, data: str, line: int, message: str
) -> None:
    text = f"name: X\nscenarios:\n  s:\n    users: 1\n    data: {data}\n"
    with pytest.raises(CollectionError) as info:
        parse_collection_text(text, tmp_path)
    (problem,) = info.value.problems
    assert problem.line == line and message in problem.message


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "the data file is empty"),
        ("name,password\n", 2, "has a header but no rows"),
        ("name,password\nann,pw\nbob\n", 3, "row has 1 fields but the header has 2"),
        ("name,name\nann,pw\n", 1, "column 'name' appears twice"),
        ("name,pass word\nann,pw\n", 1, "column name 'pass word' is not valid"),
        ('name\n"ann\n', 2, "not CSV"),
    ],
)
def test_bad_data_files_name_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    with pytest.raises(CollectionError) as info:
        parse_data_text(text, tmp_path / "users.csv")
    problem = info.value.problems[0]
    assert (problem.path, problem.line) == (tmp_path / "users.csv", line)
    assert message in problem.message


def test_data_files_that_cannot_be_read_point_at_the_data_line(tmp_path: Path) -> None:
    data = DataDef("missing.csv", line=12)
    with pytest.raises(CollectionError) as info:
        read_data_file(tmp_path, data, tmp_path / "collection.yaml")
    (problem,) = info.value.problems
    assert (problem.path, problem.line) == (tmp_path / "collection.yaml", 12)
    assert "data file 'missing.csv' not found" in problem.message
    (tmp_path / "binary.csv").write_bytes(b"name\n\x00\x01\x02\n")
    with pytest.raises(CollectionError, match="not a CSV file"):
        read_data_file(tmp_path, DataDef("binary.csv"), tmp_path / "collection.yaml")


def test_quoted_csv_values_keep_their_commas(tmp_path: Path) -> None:
    table = parse_data_text('name,password\nann,"a,b"\r\n\r\nbob,c\n', tmp_path / "u.csv")
    assert table.columns == ("name", "password")
    assert table.rows == (("ann", "a,b"), ("bob", "c"))


def test_too_few_rows_for_unique_users_is_an_error_at_the_data_line(tmp_path: Path) -> None:
    root = shop_collection(tmp_path, "http://127.0.0.1:9", SHOP.replace("users: 3", "users: 4"), 3)
    with pytest.raises(CollectionError) as info:
        build_plan(load_collection(root), "shop", environ={})
    (problem,) = info.value.problems
    assert (problem.path, problem.line) == (root / "collection.yaml", 11)
    assert "has 3 rows, but mode unique needs one per user" in problem.message
    assert "up to 4 users" in problem.message
