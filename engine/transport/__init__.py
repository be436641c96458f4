"""Transports: a fast HTTP/1.1 (httptools) and HTTP/2 (h2) client, httpx for features.

``make_client`` picks one for a plan; the contract they keep is ``engine.transport.base``.
"""

from __future__ import annotations

from engine.plan.model import RunPlan
from engine.transport.base import Client


def make_client(plan: RunPlan, *, max_connections: int, ca_file: str | None = None) -> Client:
    """The client a worker uses for ``plan``: httpx when asked, else the fast HTTP/2 or
    HTTP/1.1 transport. ``ca_file`` (or ``$DELI_CA_BUNDLE``) adds a trusted CA."""
    if plan.client == "httpx":
        from engine.transport.httpx_client import HttpxClient

        return HttpxClient(plan, max_connections=max_connections, ca_file=ca_file)
    if plan.http2:
        from engine.transport.http2 import Http2Client

        return Http2Client(plan, max_streams=max_connections, ca_file=ca_file)
    from engine.transport.http1 import Http1Client

    return Http1Client(plan, max_connections=max_connections, ca_file=ca_file)
