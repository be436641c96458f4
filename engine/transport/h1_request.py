"""HTTP/1.1 request bytes: built once per request index, or as a template of pieces for a
flow's request whose values change per user (a function filling them in at send time)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from engine.plan.template import (
    COOKIE_LINE,
    COOKIES,
    Filler,
    Pieces,
    RequestTemplate,
    compile_pieces,
    fill,
    is_static,
    joined,
)
from engine.transport.base import USER_AGENT

if TYPE_CHECKING:
    from engine.plan.model import PreparedRequest

_SKIPPED_REQUEST_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


def _host_value(req: PreparedRequest) -> str:
    default_port = 443 if req.scheme == "https" else 80
    host = req.host if ":" not in req.host else f"[{req.host}]"
    host_value = host if req.port == default_port else f"{host}:{req.port}"
    for name, value in req.headers:
        if name.lower() == "host":
            return value
    return host_value


def build_request_head(req: PreparedRequest) -> bytes:
    """The request line and headers of ``req`` followed by its body, encoded once."""
    lines = [f"{req.method} {req.target or '/'} HTTP/1.1"]
    names = {name.lower() for name, _ in req.headers}
    lines.append(f"Host: {_host_value(req)}")
    if "user-agent" not in names:
        lines.append(f"User-Agent: {USER_AGENT}")
    for name, value in req.headers:
        if name.lower() not in _SKIPPED_REQUEST_HEADERS:
            lines.append(f"{name}: {value}")
    if req.body or req.method.upper() in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(req.body)}")
    lines.append("Connection: keep-alive")
    text = "\r\n".join(lines) + "\r\n\r\n"
    try:
        head = text.encode("latin-1")
    except UnicodeEncodeError:
        head = text.encode("utf-8")
    return head + req.body


def build_request_template(req: PreparedRequest, tpl: RequestTemplate) -> Filler:
    """A function making each send's bytes of ``req`` from the user's values."""

    def text(value: str) -> Pieces:
        try:
            return (value.encode("latin-1"),)
        except UnicodeEncodeError:
            return (value.encode("utf-8"),)

    parts: list[Pieces] = [text(f"{req.method} "), tpl.target or (b"/",), (b" HTTP/1.1\r\n",)]
    names = {name.lower() for name, _ in tpl.headers}
    host = next((p for n, p in tpl.headers if n.lower() == "host"), None)
    parts += [(b"Host: ",), host or text(_host_value(req)), (b"\r\n",)]
    if "user-agent" not in names:
        parts.append(text(f"User-Agent: {USER_AGENT}\r\n"))
    for name, value in tpl.headers:
        if name.lower() not in _SKIPPED_REQUEST_HEADERS:
            parts += [text(f"{name}: "), value, (b"\r\n",)]
    if tpl.cookies:
        parts.append(((COOKIES, COOKIE_LINE),))
    if not tpl.body and req.method.upper() not in ("POST", "PUT", "PATCH"):
        return compile_pieces(joined(*parts, (b"Connection: keep-alive\r\n\r\n",)))
    if is_static(tpl.body):  # the length is known now: one format for the whole request
        body = fill(tpl.body, ())
        end = b"Content-Length: %d\r\nConnection: keep-alive\r\n\r\n" % len(body)
        return compile_pieces(joined(*parts, (end, body)))
    head = compile_pieces(joined(*parts))
    body_of = compile_pieces(tpl.body)

    def with_body(values: Sequence[str]) -> bytes:
        body = body_of(values)
        end = b"Content-Length: %d\r\nConnection: keep-alive\r\n\r\n" % len(body)
        return head(values) + end + body

    return with_body
