"""One request with every feature (redirects, cookies, proxies from the environment): the app's
Send button. Uses httpx; errors come back as values, never as exceptions."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from engine.results import error_class_name
from engine.transport.base import USER_AGENT, make_ssl_context
from engine.transport.httpx_client import classify_httpx_error

if TYPE_CHECKING:
    from engine.plan.model import PreparedRequest


@dataclass
class SingleResponse:
    """What came back from one request (or why nothing did: ``error_class`` and ``error``)."""

    status: int = 0
    reason: str = ""
    http_version: str = ""
    elapsed_ms: float = 0.0
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    size: int = 0
    error_class: str | None = None
    error: str = ""
    url: str = ""
    truncated: bool = False


async def send_single(
    req: PreparedRequest,
    *,
    http2: bool = False,
    follow_redirects: bool = True,
    max_body: int = 10_000_000,
) -> SingleResponse:
    """Send ``req`` once. ``size`` counts the whole body; ``body`` keeps at most ``max_body``."""
    verify = False if req.insecure else make_ssl_context(False)
    started = time.perf_counter()
    headers = dict(req.headers)
    if not any(name.lower() == "user-agent" for name in headers):
        headers["User-Agent"] = USER_AGENT
    try:
        async with httpx.AsyncClient(
            http2=http2, verify=verify, follow_redirects=follow_redirects, trust_env=True
        ) as client:
            request = client.build_request(
                req.method, req.url, headers=headers, content=req.body or None,
                timeout=httpx.Timeout(req.timeout_s),
            )  # fmt: skip
            response = await client.send(request, stream=True)
            try:
                chunks: list[bytes] = []
                kept = size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if kept < max_body:
                        piece = chunk[: max_body - kept]
                        chunks.append(piece)
                        kept += len(piece)
            finally:
                await response.aclose()
    except Exception as exc:
        code, message = classify_httpx_error(exc, f"{req.host}:{req.port}", req.timeout_s)
        return SingleResponse(
            elapsed_ms=(time.perf_counter() - started) * 1000,
            error_class=error_class_name(code),
            error=message,
            url=req.url,
        )
    return SingleResponse(
        status=response.status_code,
        reason=response.reason_phrase,
        http_version=response.http_version,
        elapsed_ms=(time.perf_counter() - started) * 1000,
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw],
        body=b"".join(chunks),
        size=size,
        url=str(response.url),
        truncated=size > kept,
    )
