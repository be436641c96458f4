"""Fixtures for engine tests: the fault server (plain, and TLS with a certificate that does not
verify) and a port nobody listens on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from engine.plan import LoadProfile, PreparedRequest, RunPlan, Stage
from tests.servers.faults import FaultServer, fault_server, h2_fault_server, refused_port


@pytest.fixture(scope="session")
def faults() -> Iterator[FaultServer]:
    """The misbehaving HTTP/1.1 server (see tests/servers/faults.py for its routes)."""
    with fault_server() as server:
        yield server


@pytest.fixture(scope="session")
def untrusted_tls_faults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultServer]:
    """The fault server over HTTPS with a certificate from a CA no client trusts."""
    import trustme

    other_ca = trustme.CA()
    cert = other_ca.issue_cert("127.0.0.1", "localhost")
    d: Path = tmp_path_factory.mktemp("untrusted")
    cert_pem, key_pem = d / "cert.pem", d / "key.pem"
    cert_pem.write_bytes(b"".join(p.bytes() for p in cert.cert_chain_pems))
    cert.private_key_pem.write_to_path(str(key_pem))
    with fault_server(certfile=str(cert_pem), keyfile=str(key_pem)) as server:
        yield server


@pytest.fixture(scope="session")
def h1_only_tls_faults(tls_files: dict[str, str]) -> Iterator[FaultServer]:
    """The fault server over HTTPS with a trusted certificate that only speaks http/1.1."""
    with fault_server(certfile=tls_files["cert"], keyfile=tls_files["key"]) as server:
        yield server


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that refuses connections."""
    return refused_port()


def plan_for(
    *urls: str | tuple[str, str, bytes],
    timeout_s: float = 5.0,
    http2: bool = False,
    client: str = "fast",
    insecure: bool = False,
    headers: tuple[tuple[str, str], ...] = (),
) -> RunPlan:
    """A RunPlan with one request per URL (a bare URL is a GET; or (method, url, body))."""
    requests = []
    for i, item in enumerate(urls):
        method, url, body = ("GET", item, b"") if isinstance(item, str) else item
        parts = urlsplit(url)
        scheme = parts.scheme
        assert scheme in ("http", "https")
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        requests.append(
            PreparedRequest(
                name=f"r{i}",
                method=method,
                url=url,
                scheme=scheme,
                host=parts.hostname or "",
                port=parts.port or (443 if scheme == "https" else 80),
                target=target,
                headers=headers,
                body=body,
                timeout_s=timeout_s,
                insecure=insecure,
            )
        )
    return RunPlan(
        collection_name="transport tests",
        scenario_name="default",
        base_url=requests[0].url,
        requests=tuple(requests),
        profile=LoadProfile(model="closed", stages=(Stage(1.0, 1.0),)),
        http2=http2,
        client=client,  # type: ignore[arg-type]
    )


@pytest.fixture
def make_plan() -> Callable[..., RunPlan]:
    """``make_plan(url, ..., timeout_s=, http2=, client=, insecure=)`` -> RunPlan."""
    return plan_for


@pytest.fixture
def stalled_port() -> Iterator[int]:
    """A port whose accept queue is full: new connections hang in the TCP handshake."""
    import socket

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    filler = socket.create_connection(("127.0.0.1", port), timeout=2)  # takes the one slot
    try:
        yield port
    finally:
        filler.close()
        listener.close()


@pytest.fixture(scope="session")
def h2_faults() -> Iterator[FaultServer]:
    """A cleartext HTTP/2 server that resets streams, sends GOAWAY or garbage by path."""
    with h2_fault_server() as server:
        yield server
