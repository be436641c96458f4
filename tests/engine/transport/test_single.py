"""send_single: the full-featured one-off request behind the app's Send button."""

from __future__ import annotations

from collections.abc import Callable

from engine.plan.model import RunPlan
from engine.transport.single import send_single
from tests.servers.asgi import RunningServer
from tests.servers.faults import FaultServer

MakePlan = Callable[..., RunPlan]


async def test_json_response_with_headers_and_body(demo_server: RunningServer, make_plan: MakePlan):
    response = await send_single(make_plan(f"{demo_server.url}/json").requests[0])
    assert response.error_class is None and response.error == ""
    assert response.status == 200 and response.reason == "OK"
    assert response.http_version == "HTTP/1.1"
    assert ("content-type", "application/json") in response.headers
    assert b'"name": "deli"' in response.body
    assert response.size == len(response.body)
    assert response.elapsed_ms > 0


async def test_post_body_echoed(demo_server: RunningServer, make_plan: MakePlan):
    req = make_plan(("POST", f"{demo_server.url}/echo", b'{"a": 1}')).requests[0]
    response = await send_single(req)
    assert response.status == 200 and response.body == b'{"a": 1}'


async def test_body_is_capped_but_size_is_whole(demo_server: RunningServer, make_plan: MakePlan):
    response = await send_single(
        make_plan(f"{demo_server.url}/bytes/100000").requests[0], max_body=1000
    )
    assert response.size == 100_000
    assert len(response.body) == 1000
    assert response.truncated


async def test_http2_over_tls(
    h2_tls_server: RunningServer, tls_files: dict[str, str], make_plan: MakePlan, monkeypatch
):
    monkeypatch.setenv("DELI_CA_BUNDLE", tls_files["ca"])
    response = await send_single(make_plan(f"{h2_tls_server.url}/").requests[0], http2=True)
    assert response.status == 200
    assert response.http_version == "HTTP/2"


async def test_refused_port_is_an_error_value(closed_port: int, make_plan: MakePlan):
    response = await send_single(make_plan(f"http://127.0.0.1:{closed_port}/").requests[0])
    assert response.status == 0
    assert response.error_class == "connect"
    assert "refused" in response.error


async def test_timeout_is_an_error_value(faults: FaultServer, make_plan: MakePlan):
    response = await send_single(make_plan(f"{faults.url}/noheaders", timeout_s=0.3).requests[0])
    assert response.error_class == "timeout"
    assert "0.3 s" in response.error


async def test_untrusted_certificate_is_a_tls_error(
    untrusted_tls_faults: FaultServer, make_plan: MakePlan
):
    response = await send_single(make_plan(f"{untrusted_tls_faults.url}/ok").requests[0])
    assert response.error_class == "tls"
    assert "verif" in response.error.lower()


async def test_redirects_are_followed_unless_asked_not_to(faults: FaultServer, make_plan: MakePlan):
    req = make_plan(f"{faults.url}/redirect").requests[0]
    followed = await send_single(req)
    assert followed.status == 200 and followed.body == b"ok\n"
    assert followed.url.endswith("/ok")
    kept = await send_single(req, follow_redirects=False)
    assert kept.status == 302
    assert ("Location", "/ok") in kept.headers
