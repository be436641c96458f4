"""The transport contract: the ``Client`` protocol every client keeps, and what they share.

A client hands each request's outcome over as an ``engine.results.Result`` tuple. The
transport classifies transport faults only; HTTP statuses and checks are judged by the worker.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from functools import partial
from time import perf_counter_ns
from typing import Any, Protocol

from engine.results import ERR_PROTOCOL, Result, error_result

USER_AGENT = "deli-tui/0.1"
CA_BUNDLE_ENV = "DELI_CA_BUNDLE"


# on_done(result, end_ns): end_ns is ``perf_counter_ns()`` when the response ended (stamped by
# the protocol as the last byte is read, not when a task got round to looking)
OnResult = Callable[[Result, int], None]


class Client(Protocol):
    """What a worker drives.

    ``start(index, want_body, on_done)`` sends ``plan.requests[index]`` and calls
    ``on_done(result, end_ns)`` exactly once, always later (never from inside ``start``), for
    every outcome, transport faults included. This is the load models' path: no future, task
    or coroutine per request when a connection is ready. After ``aclose()`` a pending
    ``on_done`` may still come or not; the run has cut those requests off by then.

    ``await request(index, want_body)`` is the same send as an awaitable (single sends, tests).

    ``start_with(index, values, want_body, headers_out, on_done)`` is ``start`` for a flow's
    request: its template (``PreparedRequest.template``) is filled with the user's
    ``values`` (indexed by variable id), and ``headers_out``, when not None, receives the
    response's headers as (name, value) bytes before ``on_done`` is called. Static runs
    never call it.

    ``connections_opened`` counts the connections the client has opened (for requests, ahead
    of them, or to replace one the server closes), every client the same way; the worker
    reports it per window. A result's connect and TLS times are those of the connection it
    opened itself, if any.

    Optional: ``async warm(connections)`` opens idle connections before a run starts (the
    open model calls it when the client has it).
    """

    connections_opened: int

    def start(self, index: int, want_body: bool, on_done: OnResult) -> None: ...

    def start_with(
        self,
        index: int,
        values: Sequence[str],
        want_body: bool,
        headers_out: list[tuple[bytes, bytes]] | None,
        on_done: OnResult,
    ) -> None: ...

    def request(self, index: int, want_body: bool) -> Awaitable[Result]: ...

    async def aclose(self) -> None: ...


class TaskStarts:
    """``start()`` for a client whose native call is ``async def request()``: one task per
    send. ``cancel_starts()`` (from ``aclose``) cancels the sends still running; their
    ``on_done`` is then not called."""

    _starts: set[asyncio.Task[Result]]
    connections_opened: int = 0

    def request(self, index: int, want_body: bool) -> Coroutine[Any, Any, Result]:
        raise NotImplementedError

    def request_with(
        self,
        index: int,
        values: Sequence[str],
        want_body: bool,
        headers_out: list[tuple[bytes, bytes]] | None,
    ) -> Coroutine[Any, Any, Result]:
        raise NotImplementedError

    def start(self, index: int, want_body: bool, on_done: OnResult) -> None:
        self._start_task(self.request(index, want_body), on_done)

    def start_with(
        self,
        index: int,
        values: Sequence[str],
        want_body: bool,
        headers_out: list[tuple[bytes, bytes]] | None,
        on_done: OnResult,
    ) -> None:
        self._start_task(self.request_with(index, values, want_body, headers_out), on_done)

    def _start_task(self, coro: Coroutine[Any, Any, Result], on_done: OnResult) -> None:
        starts = self.__dict__.setdefault("_starts", set())
        task = asyncio.get_running_loop().create_task(coro)
        starts.add(task)
        task.add_done_callback(partial(_deliver_task, starts, on_done))

    def cancel_starts(self) -> None:
        for task in list(self.__dict__.get("_starts", ())):
            task.cancel()


def _deliver_task(
    starts: set[asyncio.Task[Result]], on_done: OnResult, task: asyncio.Task[Result]
) -> None:
    end_ns = perf_counter_ns()
    starts.discard(task)
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:  # a transport bug: counted and shown, and raised into the loop's log
        on_done(error_result(ERR_PROTOCOL, f"transport failed: {exc!r}"), end_ns)
        raise exc
    on_done(task.result(), end_ns)


def expire_waiter(waiter: asyncio.Future[bool]) -> None:
    """A wait for a connection or stream slot reached its deadline: resolve it with False
    (woken waiters get True), so the waiting request can tell a timeout from a cancel."""
    if not waiter.done():
        waiter.set_result(False)


def make_ssl_context(
    insecure: bool, ca_file: str | None = None, alpn: tuple[str, ...] = ()
) -> ssl.SSLContext:
    """A client SSLContext: verification on unless ``insecure``; trusts the system store
    (``SSL_CERT_FILE`` honoured by OpenSSL) plus ``ca_file`` or ``$DELI_CA_BUNDLE``."""
    ctx = ssl.create_default_context()
    extra = ca_file or os.environ.get(CA_BUNDLE_ENV)
    if extra:
        ctx.load_verify_locations(cafile=extra)
    if insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx
