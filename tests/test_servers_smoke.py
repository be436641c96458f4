"""The test servers themselves answer over HTTP/1.1, HTTPS/h2 and h2c."""

from __future__ import annotations

import ssl

import httpx

from tests.servers.asgi import RunningServer


def test_demo_server_answers_http11(demo_server: RunningServer) -> None:
    r = httpx.get(demo_server.url + "/json")
    assert r.status_code == 200
    assert r.json()["id"] == 42
    assert httpx.get(demo_server.url + "/status/503").status_code == 503
    assert len(httpx.get(demo_server.url + "/bytes/100000").content) == 100000


def test_h2_tls_server_negotiates_http2(h2_tls_server: RunningServer, tls_files: dict) -> None:
    verify = ssl.create_default_context(cafile=tls_files["ca"])  # a path is deprecated in httpx
    with httpx.Client(http2=True, verify=verify) as client:
        r = client.get(h2_tls_server.url + "/")
    assert r.status_code == 200
    assert r.http_version == "HTTP/2"
