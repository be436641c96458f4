"""Shared fixtures: real servers on 127.0.0.1 (the demo app, the fault servers), a throwaway
CA for TLS, ports that refuse or stall."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.asgi import RunningServer, hypercorn_server, uvicorn_server
from tests.servers.faults import FaultServer, fault_server, h2_fault_server, refused_port


@pytest.fixture(scope="session")
def demo_server() -> Iterator[RunningServer]:
    """The demo app over HTTP/1.1 (uvicorn), shared by the session."""
    with uvicorn_server() as server:
        yield server


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A throwaway CA and a certificate for 127.0.0.1/localhost, as PEM files."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    d: Path = tmp_path_factory.mktemp("tls")
    ca_pem = d / "ca.pem"
    cert_pem = d / "cert.pem"
    key_pem = d / "key.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    cert.cert_chain_pems[0].write_to_path(str(cert_pem))
    for extra in cert.cert_chain_pems[1:]:
        with open(cert_pem, "ab") as f:
            f.write(extra.bytes())
    cert.private_key_pem.write_to_path(str(key_pem))
    return {"ca": str(ca_pem), "cert": str(cert_pem), "key": str(key_pem)}


@pytest.fixture(scope="session")
def h2_tls_server(tls_files: dict[str, str]) -> Iterator[RunningServer]:
    """The demo app over HTTPS with ALPN h2 (hypercorn)."""
    with hypercorn_server(certfile=tls_files["cert"], keyfile=tls_files["key"]) as server:
        yield server


@pytest.fixture(scope="session")
def h2c_server() -> Iterator[RunningServer]:
    """The demo app over cleartext HTTP/2 with prior knowledge (hypercorn)."""
    with hypercorn_server() as server:
        yield server


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
