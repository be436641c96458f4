"""Response checks as the worker runs them, on real responses from the demo server."""

from __future__ import annotations

import json

import httpx
import pytest

from engine.jsonpath import JsonNull, parse_json_path
from engine.load.checks import compile_checks, needs_body, run_checks
from engine.plan.model import Check

DOC = json.dumps({"id": 42, "tags": ["load", "test"], "nested": {"ok": True, "n": 3}}).encode()


def test_no_checks_pass_without_a_body() -> None:
    assert run_checks((), 500, None) is None
    assert not needs_body(())


def test_only_status_checks_do_not_need_the_body() -> None:
    assert not needs_body((Check("status", (200,)),))
    assert needs_body((Check("status", (200,)), Check("body_contains", "ok")))
    assert needs_body((Check("json_path", 1, "$.id"),))


def test_status_check_names_the_status_and_the_expected_codes() -> None:
    checks = (Check("status", (200,)),)
    assert run_checks(checks, 200, None) is None
    assert run_checks(checks, 500, None) == "status 500, expected 200"
    assert run_checks((Check("status", (200, 201)),), 201, None) is None


def test_body_contains() -> None:
    checks = (Check("body_contains", "load"),)
    assert run_checks(checks, 200, DOC) is None
    assert run_checks((Check("body_contains", "nope"),), 200, DOC) == "body does not contain 'nope'"
    assert "no body" in (run_checks(checks, 200, None) or "")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.id", 42),
        ("$.tags[0]", "load"),
        ("$.tags[-1]", "test"),
        ("$.nested.ok", True),
        ("$['nested']['n']", 3),
        ("$.nested", {"ok": True, "n": 3}),
        ("$.id", None),  # exists
        ("$.id", "42"),  # YAML text compared with a JSON number
    ],
)
def test_json_path_checks_pass(path: str, expected: object) -> None:
    assert run_checks((Check("json_path", expected, path),), 200, DOC) is None


@pytest.mark.parametrize(
    ("path", "expected", "message"),
    [
        ("$.id", 41, "$.id is 42, expected 41"),
        ("$.missing", None, "$.missing not found in the JSON body"),
        ("$.tags[5]", None, "$.tags[5] not found in the JSON body"),
        ("$.nested.ok", 1, "$.nested.ok is true, expected 1"),
        ("$.id", JsonNull.NULL, "$.id is 42, expected null"),
    ],
)
def test_json_path_failures_say_what_was_found(path: str, expected: object, message: str) -> None:
    assert run_checks((Check("json_path", expected, path),), 200, DOC) == message


def test_json_null_equality() -> None:
    body = b'{"deleted_at": null}'
    assert run_checks((Check("json_path", JsonNull.NULL, "$.deleted_at"),), 200, body) is None


def test_json_check_on_a_body_that_is_not_json() -> None:
    assert run_checks((Check("json_path", None, "$.id"),), 200, b"<html>") == (
        "$.id: the body is not JSON"
    )
    assert "empty" in (run_checks((Check("json_path", None, "$.id"),), 200, b"") or "")


CHECK_SETS = [
    (Check("status", (200,)),),
    (Check("status", (200, 201, 204)),),
    (Check("body_contains", "ok"),),
    (Check("status", (200,)), Check("body_contains", "ok")),
    (Check("body_contains", "ok"), Check("status", (404,))),
    (Check("status", (200, 404)), Check("body_contains", "ok"), Check("body_contains", "all")),
    (Check("status", (200,)), Check("json_path", 42, "$.id")),
    (Check("json_path", None, "$.tags[1]"),),
]
RESPONSES = [
    (200, None),
    (200, b""),
    (200, b"all ok"),
    (404, b"not found"),
    (404, b"ok, gone"),
    (204, b"OK"),
    (201, DOC),
    (200, DOC),
    (500, b"\xff\xfe"),
]


@pytest.mark.parametrize("checks", CHECK_SETS, ids=lambda c: "+".join(x.kind for x in c))
def test_compiled_checks_judge_exactly_as_run_checks(checks: tuple[Check, ...]) -> None:
    judge = compile_checks(checks)
    assert judge is not None
    verdicts = [judge(status, body) for status, body in RESPONSES]
    assert verdicts == [run_checks(checks, status, body) for status, body in RESPONSES]
    assert any(v is None for v in verdicts) and any(v is not None for v in verdicts)


def test_no_checks_compile_to_nothing() -> None:
    assert compile_checks(()) is None


def test_first_failure_wins() -> None:
    checks = (Check("status", (200,)), Check("body_contains", "zzz"))
    assert run_checks(checks, 404, DOC) == "status 404, expected 200"
    assert run_checks(checks, 200, DOC) == "body does not contain 'zzz'"


@pytest.mark.parametrize("path", ["id", "$.", "$..id", "$[x]", "$.a b"])
def test_bad_json_paths_are_rejected_with_the_accepted_forms(path: str) -> None:
    with pytest.raises(ValueError, match="JSON path"):
        parse_json_path(path)


def test_checks_on_real_demo_server_responses(demo_server) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=demo_server.url, timeout=10) as client:
        doc = client.get("/json")
        missing = client.get("/nope")
    checks = (
        Check("status", (200,)),
        Check("json_path", 42, "$.id"),
        Check("body_contains", "deli"),
    )
    assert run_checks(checks, doc.status_code, doc.content) is None
    assert run_checks(checks, missing.status_code, missing.content) == "status 404, expected 200"
