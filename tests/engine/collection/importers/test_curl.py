"""Importing curl command lines: what curl would send is kept, every other option is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.collection.importers.curl import import_curl, parse_curl
from engine.collection.loader import load_collection
from engine.errors import CollectionError
from tests.engine.collection_files import write_collection


def test_curl_get_with_headers() -> None:
    req, warnings = parse_curl(
        "curl -sSL -H 'Accept: application/json' -H 'X-Api-Key: k' "
        "'http://127.0.0.1:8089/json?x=1' --compressed -m 2.5"
    )
    assert (req.method, req.url) == ("GET", "http://127.0.0.1:8089/json?x=1")
    assert req.headers == {
        "Accept": "application/json",
        "X-Api-Key": "k",
        "Accept-Encoding": "gzip, deflate",  # --compressed
    }
    assert req.timeout_s == 2.5
    assert req.name == "GET 127.0.0.1:8089/json"
    assert warnings == [
        "curl option -L is not imported: redirects are not followed: the 3xx response is what"
        " is measured",
        "only change what curl prints, so not imported: -s -S",
    ]


def test_curl_post_json_and_form_bodies() -> None:
    req, _ = parse_curl(
        """curl -X POST http://127.0.0.1:8089/echo \\
          -H "Content-Type: application/json" \\
          --data-raw '{"a": [1, 2]}' -k -u ann:pw"""
    )
    assert req.method == "POST"
    assert req.body == {"a": [1, 2]}
    assert "Content-Type" not in req.headers
    assert req.headers["Authorization"] == "Basic YW5uOnB3"
    assert req.insecure
    form, _ = parse_curl("curl localhost:8089/login -d user=ann -d 'pw=x y'")
    assert (form.method, form.url, form.body) == (
        "POST",
        "http://localhost:8089/login",
        "user=ann&pw=x y",
    )
    assert form.headers["Content-Type"] == "application/x-www-form-urlencoded"
    query, _ = parse_curl("curl -G http://h/search --data-urlencode 'q=a b'")
    assert (query.method, query.url, query.body) == ("GET", "http://h/search?q=a+b", None)


def test_curl_problems() -> None:
    with pytest.raises(CollectionError, match="no URL"):
        parse_curl("curl -H 'A: b'")
    with pytest.raises(CollectionError, match="cannot read"):
        parse_curl("curl 'http://h")
    with pytest.raises(CollectionError, match="not supported"):
        parse_curl("curl -X BREW http://h/")
    _, warnings = parse_curl("curl --retry 3 http://h/ -d @file.json")
    assert any("--retry" in w for w in warnings)
    assert any("files" in w for w in warnings)


def test_import_curl_adds_a_file_that_loads(tmp_path: Path) -> None:
    root = write_collection(tmp_path, {"home.yaml": "name: Home\nurl: /\n"})
    c = load_collection(root)
    req = import_curl(c, "curl http://127.0.0.1:8089/json").collection.requests[-1]
    again = import_curl(c, "curl http://127.0.0.1:8089/json").collection.requests[-1]
    assert (req.relpath, again.relpath) == (
        Path("get_127_0_0_1_8089_json.yaml"),
        Path("get_127_0_0_1_8089_json_2.yaml"),
    )
    assert again.name == "GET 127.0.0.1:8089/json (2)"
    assert {r.name for r in load_collection(root).requests} == {
        "Home",
        "GET 127.0.0.1:8089/json",
        "GET 127.0.0.1:8089/json (2)",
    }


def test_curl_compressed_sends_accept_encoding_and_every_other_option_is_named() -> None:
    req, warnings = parse_curl(
        "curl -sSL --compressed -o out.json -w '%{http_code}' --retry 3 --http2 "
        "-x http://proxy:3128 --connect-timeout 2 -I https://h.test/x"
    )
    assert req.method == "HEAD"
    assert req.headers == {"Accept-Encoding": "gzip, deflate"}
    assert warnings == [
        "curl option -L is not imported: redirects are not followed: the 3xx response is what"
        " is measured",
        "curl option --retry 3 is not imported: no equivalent",
        "curl option --http2 is not imported: HTTP/2 is a scenario setting: http2: true (or run"
        " --http2)",
        "curl option -x http://proxy:3128 is not imported: requests are sent directly, not"
        " through a proxy",
        "curl option --connect-timeout 2 is not imported: the request timeout (timeout:) covers"
        " connecting too",
        "only change what curl prints, so not imported: -s -S -o out.json -w %{http_code}",
    ]
    explicit, _ = parse_curl("curl -H 'Accept-Encoding: br' --compressed http://h/")
    assert explicit.headers == {"Accept-Encoding": "br"}


def test_curl_secrets_go_to_the_collection_env_file_when_it_has_one(tmp_path: Path) -> None:
    root = write_collection(tmp_path / "c", {})
    text = (root / "collection.yaml").read_text() + "env_file: .env\n"
    (root / "collection.yaml").write_text(text)
    (root / ".env").write_text("other=1\n")
    command = "curl -H 'Authorization: Bearer tok-123456' -b 'sid=abc123' http://127.0.0.1:1/me"
    result = import_curl(load_collection(root), command)
    req = load_collection(root).find_request("GET 127.0.0.1:1/me")
    assert req is not None
    assert req.headers == {"Authorization": "Bearer {{token}}", "Cookie": "sid={{cookie_sid}}"}
    env = (root / ".env").read_text()
    assert env == "other=1\ntoken=tok-123456\ncookie_sid=abc123\n"
    assert "tok-123456" not in (root / req.relpath).read_text()
    assert result.secrets == ["token", "cookie_sid"]
    bare = write_collection(tmp_path / "bare", {})
    result = import_curl(load_collection(bare), command)
    assert any("no env_file to keep secrets in" in w for w in result.warnings)
