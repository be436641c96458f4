"""One request sent from the editor and what came back: what the response view shows.

The collection screen keeps the newest exchange of each request, so the response pane always
shows the selected request's own response, labelled with its name and the time it was sent.
No Textual here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deli_tui.send_session import Extracted
    from engine.plan.model import PreparedRequest
    from engine.transport.single import SingleResponse


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """One check's result as shown: what it checks, whether it passed, and why not."""

    description: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Exchange:
    """A request (by name) sent at ``sent_at`` (epoch seconds), and its response or error."""

    request: str
    sent_at: float
    method: str
    url: str
    status: int = 0
    reason: str = ""
    http_version: str = ""
    elapsed_ms: float = 0.0
    size: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    checks: tuple[CheckOutcome, ...] = ()
    error_class: str | None = None
    error: str = ""
    pending: bool = field(default=False)
    # what the request's extractions found (and set in the session), or why not
    extracted: tuple[Extracted, ...] = ()

    @property
    def label(self) -> str:
        """``get user at 14:03:21``: whose response this is, and when it was sent."""
        return f"{self.request} at {time.strftime('%H:%M:%S', time.localtime(self.sent_at))}"


def as_sent(prepared: PreparedRequest, secrets: tuple[str, ...] = ()) -> str:
    """``prepared`` written as an HTTP message, with every variable resolved and secrets
    (sensitive headers, values from env files and the environment) masked."""
    from engine.redact import redact_headers, redact_text
    from engine.transport.base import USER_AGENT

    headers = list(prepared.headers)
    if not any(name.lower() == "user-agent" for name, _ in headers):
        headers.append(("User-Agent", USER_AGENT))
    lines = [redact_text(f"{prepared.method} {prepared.url}", secrets)]
    lines += [f"{name}: {redact_text(value, secrets)}" for name, value in redact_headers(headers)]
    if prepared.body:
        body = prepared.body.decode("utf-8", errors="replace")
        lines += ["", redact_text(body, secrets)]
    return "\n".join(lines)


def sending(name: str, prepared: PreparedRequest, sent_at: float | None = None) -> Exchange:
    """The exchange while its response is on the way."""
    when = time.time() if sent_at is None else sent_at
    return Exchange(name, when, prepared.method, prepared.url, pending=True)


def exchange_from_result(
    name: str, prepared: PreparedRequest, result: SingleResponse, sent_at: float
) -> Exchange:
    """The exchange of ``prepared`` with its checks run on ``result``."""
    from engine.load.checks import run_checks

    if result.error_class:
        return Exchange(
            name,
            sent_at,
            prepared.method,
            prepared.url,
            error_class=result.error_class,
            error=result.error,
        )
    body = result.body or b""
    outcomes = []
    for check in prepared.checks:
        failure = run_checks((check,), result.status, body)
        outcomes.append(CheckOutcome(check.describe(), failure is None, failure or ""))
    return Exchange(
        name,
        sent_at,
        prepared.method,
        prepared.url,
        status=result.status,
        reason=result.reason or "",
        http_version=result.http_version or "",
        elapsed_ms=result.elapsed_ms,
        size=result.size,
        headers=tuple(result.headers),
        body=body,
        checks=tuple(outcomes),
    )
