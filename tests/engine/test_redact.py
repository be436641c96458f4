"""Secrets stay out of reports, logs and the error inspector."""

from __future__ import annotations

import pytest

from engine.redact import DEFAULT_REDACT, is_sensitive_header, redact_headers, redact_text


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "proxy-authorization",
        "Cookie",
        "Set-Cookie",
        "X-Api-Key",
        "X-Auth-Token",
        "client_secret",
        "X-Password",
        "X-Session-Id",
    ],
)
def test_sensitive_headers(name: str) -> None:
    assert is_sensitive_header(name)


@pytest.mark.parametrize("name", ["Accept", "Content-Type", "User-Agent", "Keep-Alive", "Host"])
def test_ordinary_headers_are_not_sensitive(name: str) -> None:
    assert not is_sensitive_header(name)


def test_default_redact_names_the_standard_headers() -> None:
    assert {"authorization", "cookie", "set-cookie", "proxy-authorization"} <= set(DEFAULT_REDACT)


def test_redact_headers_keeps_order_and_names() -> None:
    pairs = [("Accept", "json"), ("Authorization", "Bearer abc"), ("X-Api-Key", "k1")]
    assert redact_headers(pairs) == [
        ("Accept", "json"),
        ("Authorization", "[redacted]"),
        ("X-Api-Key", "[redacted]"),
    ]
    assert redact_headers({"Cookie": "a=b"}) == [("Cookie", "[redacted]")]
    assert redact_headers([("X-Tenant", "t")], extra=["x-tenant"]) == [("X-Tenant", "[redacted]")]


def test_redact_text_removes_known_secret_values() -> None:
    text = "connect to host failed with s3cr3t-value in the url"
    assert redact_text(text, ["s3cr3t-value"]) == (
        "connect to host failed with [redacted] in the url"
    )


def test_redact_text_ignores_tiny_secrets_that_would_garble_text() -> None:
    assert redact_text("a b c", ["a"]) == "a b c"


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
        ("request headers: cookie: session=xyz123", "xyz123"),
        ("GET /x?api_key=zzz999&page=2", "zzz999"),
        ("proxy http://bob:hunter22@proxy:8080 refused", "hunter22"),
        ("sent Bearer eyJhbGciOi.payload.sig", "eyJhbGciOi"),
    ],
)
def test_redact_text_removes_secret_fragments(text: str, leak: str) -> None:
    out = redact_text(text)
    assert leak not in out
    assert "[redacted]" in out


def test_redact_text_leaves_ordinary_messages_alone() -> None:
    text = "timeout after 5.0s reading response from 127.0.0.1:8089 (page=2)"
    assert redact_text(text) == text


def test_a_secret_is_hidden_in_any_letter_case_and_percent_encoded() -> None:
    secret = "AcmeCorp/Key+9"
    text = (
        "cannot resolve host of acmecorp/key+9.invalid; ACMECORP/KEY+9 upper; "
        "url http://x/?k=AcmeCorp%2FKey%2B9 and path /AcmeCorp/Key%2B9"
    )
    redacted = redact_text(text, [secret])
    assert "acmecorp" not in redacted.lower()
    assert redacted.count("[redacted]") == 4
