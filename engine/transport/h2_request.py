"""HTTP/2 request headers and body: built once per request index, or as a template of pieces
for a flow's request whose values change per user (filled at send time by ``fill_h2``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from engine.plan.template import (
    COOKIES,
    HEADER,
    Filler,
    Pieces,
    RequestTemplate,
    compile_pieces,
)
from engine.transport.base import USER_AGENT

if TYPE_CHECKING:
    from engine.plan.model import PreparedRequest

Headers = list[tuple[bytes, bytes]]
_CONNECTION_HEADERS = frozenset(
    {b"host", b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"}
)


def build_h2_headers(req: PreparedRequest) -> tuple[Headers, bytes]:
    """The request's h2 header list (pseudo-headers first) and body, built once per index."""
    default_port = 443 if req.scheme == "https" else 80
    authority = req.host if req.port == default_port else f"{req.host}:{req.port}"
    headers: Headers = [
        (b":method", req.method.upper().encode()),
        (b":scheme", req.scheme.encode()),
        (b":authority", authority.encode()),
        (b":path", (req.target or "/").encode()),
    ]
    names = {n.lower() for n, _ in req.headers}
    if "host" in names:
        host = next(v for n, v in req.headers if n.lower() == "host")
        headers[2] = (b":authority", host.encode())
    if "user-agent" not in names:
        headers.append((b"user-agent", USER_AGENT.encode()))
    for name, value in req.headers:
        lowered = name.lower().encode()
        if lowered not in _CONNECTION_HEADERS and lowered != b"content-length":
            headers.append((lowered, value.encode("utf-8")))
    if req.body or req.method.upper() in ("POST", "PUT", "PATCH"):
        headers.append((b"content-length", str(len(req.body)).encode()))
    return headers, req.body


# A flow's request for the wire: ((name, value filler) per header, whether to send a
# content-length, body filler). A cookie header that fills to "" (no cookies yet) is left out.
H2Template = tuple[tuple[tuple[bytes, Filler], ...], bool, Filler]


def build_h2_template(req: PreparedRequest, tpl: RequestTemplate) -> H2Template:
    """``req``'s headers and body as fillers; ``fill_h2`` makes each send's."""
    headers, _ = build_h2_headers(req)
    pieces: list[tuple[bytes, Pieces]] = [(n, (v,)) for n, v in headers[:4]]
    pieces[3] = (b":path", tpl.target or (b"/",))
    by_name = {n.lower(): p for n, p in tpl.headers}
    if "host" in by_name:
        pieces[2] = (b":authority", by_name["host"])
    pieces += [(n, (v,)) for n, v in headers[4:] if n == b"user-agent"]
    for name, value in tpl.headers:
        lowered = name.lower().encode()
        if lowered not in _CONNECTION_HEADERS and lowered != b"content-length":
            pieces.append((lowered, value))
    if tpl.cookies:
        pieces.append((b"cookie", ((COOKIES, HEADER),)))
    length = bool(tpl.body) or req.method.upper() in ("POST", "PUT", "PATCH")
    fillers = tuple((name, compile_pieces(p)) for name, p in pieces)
    return fillers, length, compile_pieces(tpl.body)


def fill_h2(t: H2Template, values: Sequence[str]) -> tuple[Headers, bytes]:
    """One send's header list and body: the template with ``values`` in its slots."""
    header_fillers, length, body_of = t
    body = body_of(values)
    headers: Headers = []
    for name, filler in header_fillers:
        value = filler(values)
        if value or name != b"cookie":
            headers.append((name, value))
    if length:
        headers.append((b"content-length", b"%d" % len(body)))
    return headers, body


class FlowSend:
    """A flow's request filled for one send (where the static path passes an index)."""

    __slots__ = ("body", "bytes_out", "headers", "headers_out", "index")

    def __init__(
        self,
        index: int,
        headers: Headers,
        body: bytes,
        bytes_out: int,
        headers_out: list[tuple[bytes, bytes]] | None,
    ) -> None:
        self.index = index
        self.headers = headers
        self.body = body
        self.bytes_out = bytes_out
        self.headers_out = headers_out
