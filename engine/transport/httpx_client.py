"""The httpx engine client (``client: httpx``): full-featured, not fast.

httpcore's pool costs O(connections x waiters) per request (encode/httpcore#1035), so this is
for cases the fast transports do not cover, never the default load path. Exceptions become the
same error codes and ``Result`` tuples as the fast transports. httpcore's trace events give the
connections opened and, to the request whose task opened one, its connect and TLS times.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Sequence
from contextvars import ContextVar
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

import httpx

from engine.plan.template import COOKIES, fill
from engine.results import ERR_CONNECT, ERR_PROTOCOL, ERR_READ, ERR_TIMEOUT, ERR_TLS, Result
from engine.transport.base import USER_AGENT, TaskStarts, make_ssl_context

if TYPE_CHECKING:
    from engine.plan.model import RunPlan


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return chain


def classify_httpx_error(exc: Exception, where: str, timeout_s: float) -> tuple[int, str]:
    """Map an httpx exception to an (error code, message) pair."""
    chain = _causes(exc)
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        phase = "connecting to" if isinstance(exc, httpx.ConnectTimeout) else "waiting for"
        return ERR_TIMEOUT, f"timed out after {timeout_s:g} s {phase} {where}"
    for cause in chain:
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = cause.verify_message or cause.reason
            return ERR_TLS, f"TLS certificate of {where} did not verify: {reason}"
        if isinstance(cause, ssl.SSLError):
            return ERR_TLS, f"TLS handshake with {where} failed: {cause.reason or cause}"
        if isinstance(cause, socket.gaierror):
            return ERR_CONNECT, f"cannot resolve host of {where}: {cause.strerror}"
        if isinstance(cause, ConnectionRefusedError):
            return ERR_CONNECT, f"connection refused to {where}"
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        if "Name or service not known" in text or "resolution" in text:
            return ERR_CONNECT, f"cannot resolve host of {where}: {text}"
        if "refused" in text.lower():
            return ERR_CONNECT, f"connection refused to {where}"
        return ERR_CONNECT, f"cannot connect to {where}: {text}"
    if isinstance(exc, httpx.RemoteProtocolError):
        lowered = text.lower()
        if "disconnected" in lowered or "closed" in lowered or "incomplete" in lowered:
            return ERR_READ, f"{where}: {text}"
        return ERR_PROTOCOL, f"malformed response from {where}: {text}"
    if isinstance(exc, httpx.ReadError | httpx.WriteError | httpx.CloseError):
        return ERR_READ, f"{where}: {text}"
    if isinstance(exc, httpx.ProtocolError | httpx.DecodingError):
        return ERR_PROTOCOL, f"{where}: {text}"
    return ERR_READ, f"{where}: {type(exc).__name__}: {text}"


# The phases of the request running in this task: [event start ns, connect ns, TLS ns]
_PHASES: ContextVar[list[int] | None] = ContextVar("deli_httpx_phases", default=None)
_TCP, _TLS = "connection.connect_tcp.", "connection.start_tls."


class HttpxClient(TaskStarts):
    """One ``httpx.AsyncClient`` for the whole plan; requests built once per index."""

    def __init__(
        self, plan: RunPlan, *, max_connections: int = 100, ca_file: str | None = None
    ) -> None:
        insecure = any(r.insecure for r in plan.requests)
        verify: ssl.SSLContext | bool = make_ssl_context(False, ca_file) if not insecure else False
        self._client = httpx.AsyncClient(
            http1=True,
            http2=plan.http2,
            verify=verify,
            limits=httpx.Limits(
                max_connections=max(1, max_connections),
                max_keepalive_connections=max(1, max_connections),
            ),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
        )
        self.connections_opened = 0
        self._requests = [
            self._client.build_request(
                r.method,
                r.url,
                headers=list(r.headers),
                content=r.body or None,
                timeout=httpx.Timeout(r.timeout_s),
                extensions={"trace": self._trace},
            )
            for r in plan.requests
        ]
        self._templates = [r.template for r in plan.requests]
        self._origins = [
            f"{r.scheme}://{r.url.split('://', 1)[1].split('/', 1)[0]}" for r in plan.requests
        ]
        self._timeouts = [r.timeout_s for r in plan.requests]
        self._where = [f"{r.host}:{r.port}" for r in plan.requests]
        self._bytes_out = [
            len(r.method) + len(r.target) + 12 + sum(len(n) + len(v) + 4 for n, v in r.headers)
            + len(r.body)
            for r in plan.requests
        ]  # fmt: skip

    async def _trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace hook: count connections, time the phases of the one opened in
        the running request's task (``request`` sets ``_PHASES`` there)."""
        if not event.startswith("connection."):
            return
        phases = _PHASES.get()
        if event.endswith(".started"):
            if phases is not None:
                phases[0] = perf_counter_ns()
        elif event == _TCP + "complete":
            self.connections_opened += 1
            if phases is not None:
                phases[1] = perf_counter_ns() - phases[0]
        elif event == _TLS + "complete" and phases is not None:
            phases[2] = perf_counter_ns() - phases[0]

    async def request_with(
        self,
        index: int,
        values: Sequence[str],
        want_body: bool,
        headers_out: list[tuple[bytes, bytes]] | None,
    ) -> Result:
        """A flow's request, its template filled with ``values``; ``headers_out`` gets the
        response's headers."""
        template = self._templates[index]
        if template is None:
            return await self.request(index, want_body, headers_out)
        r = self._requests[index]
        headers = [(n.encode(), fill(p, values)) for n, p in template.headers]
        if template.cookies and values[COOKIES]:
            headers.append((b"Cookie", values[COOKIES].encode()))
        body = fill(template.body, values)
        url = self._origins[index] + fill(template.target, values).decode("latin-1")
        built = self._client.build_request(
            r.method, url, headers=headers, content=body or None, extensions=r.extensions
        )
        return await self.request(index, want_body, headers_out, built)

    async def request(
        self,
        index: int,
        want_body: bool,
        headers_out: list[tuple[bytes, bytes]] | None = None,
        built: httpx.Request | None = None,
    ) -> Result:
        """Send request ``index``; transport failures come back as error results."""
        phases = [0, 0, 0]
        _PHASES.set(phases)
        timeout_s = self._timeouts[index]
        status = 0
        bytes_in = 0
        ttfb_ns = 0
        chunks: list[bytes] | None = [] if want_body else None
        t0 = perf_counter_ns()
        try:
            # httpx times each phase (so its ConnectTimeout names the phase); this bounds
            # the whole request, a little later so the phase timeouts fire first
            async with asyncio.timeout(timeout_s * 1.02 + 0.02):
                response = await self._client.send(built or self._requests[index], stream=True)
                try:
                    ttfb_ns = perf_counter_ns() - t0
                    status = response.status_code
                    bytes_in = 16 + sum(len(n) + len(v) + 4 for n, v in response.headers.raw)
                    if headers_out is not None:
                        headers_out.extend(response.headers.raw)
                    async for chunk in response.aiter_raw():
                        bytes_in += len(chunk)
                        if chunks is not None:
                            chunks.append(chunk)
                finally:
                    await response.aclose()
        except Exception as exc:
            code, message = classify_httpx_error(exc, self._where[index], timeout_s)
            if code == ERR_TIMEOUT and status:
                message = f"timed out after {timeout_s:g} s reading the body ({bytes_in} bytes in)"
            connect_ns, tls_ns = phases[1], phases[2]
            return (
                0, code, message, bytes_in, self._bytes_out[index], connect_ns, tls_ns, ttfb_ns,
                None,
            )  # fmt: skip
        body = b"".join(chunks) if chunks is not None else None
        connect_ns, tls_ns = phases[1], phases[2]
        return (status, 0, "", bytes_in, self._bytes_out[index], connect_ns, tls_ns, ttfb_ns, body)

    async def aclose(self) -> None:
        self.cancel_starts()
        await self._client.aclose()
