"""Extractions and cookie jars on their own: what is taken from a response, and what is said
when nothing is found."""

from __future__ import annotations

import pytest

from engine.load.cookies import CookieJar
from engine.load.extract import compile_extractions
from engine.plan.model import Extraction


def _run(
    extraction: Extraction,
    body: bytes | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> tuple[str | None, list[str]]:
    run = compile_extractions((extraction,))
    assert run is not None
    values = ["", ""]
    return run(body, headers, values), values


@pytest.mark.parametrize(
    ("path", "body", "value"),
    [
        ("$.token", b'{"token": "abc"}', "abc"),
        ("$.items[1].id", b'{"items": [{"id": 1}, {"id": 22}]}', "22"),
        ("$.ok", b'{"ok": true}', "true"),
        ("$.price", b'{"price": 1.5}', "1.5"),
        ("$.user", b'{"user": {"a": [1, "x"]}}', '{"a":[1,"x"]}'),
        ("$['odd key']", '{"odd key": "é"}'.encode(), "é"),
    ],
)
def test_json_values_become_text(path: str, body: bytes, value: str) -> None:
    problem, values = _run(Extraction(1, "v", "json", path, shown="{json: ...}"), body)
    assert problem is None and values[1] == value


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b'{"other": 1}', 'extract v {json: $.token}: not found in the body: {"other": 1}'),
        (b'{"token": null}', "extract v {json: $.token}: is null in the body"),
        (
            b"<html>oops</html>",
            "extract v {json: $.token}: the body is not JSON: <html>oops</html>",
        ),
        (b"", "extract v {json: $.token}: the body is empty"),
    ],
)
def test_json_extraction_that_finds_nothing_says_which_and_shows_the_body(
    body: bytes, said: str
) -> None:
    problem, values = _run(Extraction(1, "v", "json", "$.token", shown="{json: $.token}"), body)
    assert problem is not None and problem.startswith(said)
    assert values == ["", ""]


def test_a_long_body_is_cut_in_the_message() -> None:
    problem, _ = _run(
        Extraction(1, "v", "json", "$.x", shown="{json: $.x}"), b'{"a": "' + b"y" * 999 + b'"}'
    )
    assert problem is not None and problem.endswith("...") and len(problem) < 260


def test_header_extraction_with_and_without_regex() -> None:
    headers = [
        (b"Content-Type", b"text/plain"),
        (b"Set-Cookie", b"a=1"),
        (b"Set-Cookie", b"sid=xyz; Path=/"),
    ]
    e = Extraction(1, "sid", "header", "set-cookie", "sid=([^;]+)", "{header: Set-Cookie}")
    assert _run(e, None, headers) == (None, ["", "xyz"])
    whole = Extraction(1, "ct", "header", "content-type", None, "{header: Content-Type}")
    assert _run(whole, None, headers) == (None, ["", "text/plain"])
    problem, _ = _run(
        Extraction(1, "x", "header", "x-missing", None, "{header: X-Missing}"), None, headers
    )
    assert problem == (
        "extract x {header: X-Missing}: the response has no x-missing header "
        "(it has: content-type, set-cookie)"
    )
    nomatch = Extraction(1, "s", "header", "set-cookie", "tok=(\\w+)", "{...}")
    problem, _ = _run(nomatch, None, headers)
    assert problem == "extract s {...}: no set-cookie value matches: a=1 | sid=xyz; Path=/"


def test_body_regex_takes_the_first_group_or_the_whole_match() -> None:
    body = b'<input name="csrf" value="c0ffee">'
    grouped = Extraction(1, "csrf", "body_regex", 'name="csrf" value="([^"]+)"', shown="{...}")
    assert _run(grouped, body) == (None, ["", "c0ffee"])
    whole = Extraction(1, "hex", "body_regex", "c0f+ee", shown="{...}")
    assert _run(whole, body) == (None, ["", "c0ffee"])
    problem, _ = _run(Extraction(1, "n", "body_regex", "nothing", shown="{b}"), body)
    assert problem == 'extract n {b}: no match in the body: <input name="csrf" value="c0ffee">'


def test_cookie_jars_are_per_host_and_forget_expired_cookies() -> None:
    jar = CookieJar()
    jar.update("a", [(b"Set-Cookie", b"sid=1; Path=/; HttpOnly"), (b"set-cookie", b"theme=dark")])
    assert jar.header("a") == "sid=1; theme=dark" and jar.header("b") == ""
    jar.update("a", [(b"Set-Cookie", b"sid=2")])
    assert jar.header("a") == "sid=2; theme=dark"
    jar.update("a", [(b"Set-Cookie", b"theme=; Max-Age=0")])
    jar.update("a", [(b"Set-Cookie", b"sid=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT")])
    assert jar.header("a") == ""
    other = CookieJar()
    assert other.header("a") == ""
