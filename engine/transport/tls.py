"""Opening a connection with an honest phase split: name resolution, TCP connect, TLS handshake.

The TCP connect and the TLS handshake are timed separately (``connect_ns``, ``tls_ns``) by
connecting a plain socket first and upgrading it with ``loop.start_tls``. Every failure becomes
an error ``Result`` with a message a user can act on; nothing here raises for network faults.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable
from time import perf_counter_ns
from typing import Any, TypeVar

from engine.results import ERR_CONNECT, ERR_TIMEOUT, ERR_TLS, Result, error_result

P = TypeVar("P", bound=asyncio.Protocol)
Addresses = dict[tuple[str, int], list[tuple[Any, ...]]]


class ConnectFailed(Exception):
    """Opening a connection failed; ``result`` is the error result to report."""

    def __init__(self, result: Result) -> None:
        super().__init__(result[2])
        self.result = result


async def resolve(
    loop: asyncio.AbstractEventLoop, host: str, port: int, cache: Addresses
) -> list[tuple[Any, ...]]:
    """``getaddrinfo`` results for a TCP connection, cached for the run (as wrk does)."""
    key = (host, port)
    infos = cache.get(key)
    if infos is None:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        cache[key] = infos
    return infos


async def _connect_socket(
    loop: asyncio.AbstractEventLoop, infos: list[tuple[Any, ...]]
) -> socket.socket:
    last: OSError | None = None
    for family, type_, proto, _, address in infos:
        sock = socket.socket(family, type_, proto)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            await loop.sock_connect(sock, address)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
        except BaseException:
            sock.close()
            raise
    raise last or OSError("no address to connect to")


def _failed(code: int, message: str, connect_ns: int = 0) -> ConnectFailed:
    return ConnectFailed(error_result(code, message, connect_ns=connect_ns))


def _describe_os_error(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


async def open_connection(
    loop: asyncio.AbstractEventLoop,
    factory: Callable[[], P],
    host: str,
    port: int,
    ssl_context: ssl.SSLContext | None,
    deadline: float,
    timeout_s: float,
    cache: Addresses,
) -> tuple[P, int, int]:
    """Connect (and handshake when ``ssl_context``) before ``deadline`` (a ``loop.time()``).

    Returns ``(protocol, connect_ns, tls_ns)``; raises ``ConnectFailed`` with an error result.
    """
    where = f"{host}:{port}"
    try:
        infos = await asyncio.wait_for(
            resolve(loop, host, port, cache), max(0.0, deadline - loop.time())
        )
    except socket.gaierror as exc:
        raise _failed(ERR_CONNECT, f"cannot resolve host {host!r}: {exc.strerror}") from None
    except TimeoutError:
        raise _failed(ERR_TIMEOUT, f"timed out after {timeout_s:g} s resolving {host!r}") from None
    t0 = perf_counter_ns()
    try:
        sock = await asyncio.wait_for(
            _connect_socket(loop, infos), max(0.0, deadline - loop.time())
        )
    except TimeoutError:
        raise _failed(
            ERR_TIMEOUT, f"timed out after {timeout_s:g} s connecting to {where}"
        ) from None
    except ConnectionRefusedError:
        raise _failed(ERR_CONNECT, f"connection refused to {where}") from None
    except OSError as exc:
        raise _failed(
            ERR_CONNECT, f"cannot connect to {where}: {_describe_os_error(exc)}"
        ) from None
    connect_ns = perf_counter_ns() - t0
    try:
        transport, protocol = await loop.create_connection(factory, sock=sock)
    except OSError as exc:
        sock.close()
        raise _failed(
            ERR_CONNECT, f"cannot connect to {where}: {_describe_os_error(exc)}"
        ) from None
    if ssl_context is None:
        return protocol, connect_ns, 0
    t1 = perf_counter_ns()
    remaining = deadline - loop.time()
    try:
        if remaining <= 0:
            raise TimeoutError
        tls_transport = await asyncio.wait_for(
            loop.start_tls(
                transport, protocol, ssl_context, server_hostname=host,
                ssl_handshake_timeout=remaining + 1.0,
            ),
            remaining,
        )  # fmt: skip
    except TimeoutError:
        transport.abort()
        raise _failed(
            ERR_TIMEOUT,
            f"timed out after {timeout_s:g} s in the TLS handshake with {where}",
            connect_ns=connect_ns,
        ) from None
    except ssl.SSLCertVerificationError as exc:
        transport.abort()
        reason = exc.verify_message or exc.reason or str(exc)
        raise _failed(
            ERR_TLS, f"TLS certificate of {where} did not verify: {reason}", connect_ns=connect_ns
        ) from None
    except ssl.SSLError as exc:
        transport.abort()
        raise _failed(
            ERR_TLS,
            f"TLS handshake with {where} failed: {exc.reason or exc}",
            connect_ns=connect_ns,
        ) from None
    except (OSError, EOFError) as exc:
        transport.abort()
        reason = "connection reset" if isinstance(exc, ConnectionResetError) else str(exc)
        raise _failed(
            ERR_TLS,
            f"TLS handshake with {where} failed: {reason or 'connection closed'}",
            connect_ns=connect_ns,
        ) from None
    protocol.connection_made(tls_transport)  # type: ignore[arg-type]  # now talks through TLS
    return protocol, connect_ns, perf_counter_ns() - t1
