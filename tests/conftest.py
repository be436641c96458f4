"""Shared fixtures: real servers on 127.0.0.1, a throwaway CA for TLS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.asgi import RunningServer, hypercorn_server, uvicorn_server


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
