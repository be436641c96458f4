"""The selected request's newest response (status, time, size, checks, extracted values,
headers, body) and the request as it will be sent. Its title says whose response it is and
when it was sent."""

from __future__ import annotations

import json

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static, TabbedContent, TabPane, TextArea

from deli_tui.exchange import Exchange
from deli_tui.widgets.request_editor import set_text_language
from engine.units import format_bytes, format_ms

MAX_BODY_SHOWN = 512 * 1024
NO_REQUEST = "No request selected: pick one in the tree (n: a new one)."


def pretty_body(body: bytes, content_type: str) -> tuple[str, str | None]:
    """The body as text for display and the language to highlight it with.

    JSON (by content type or by shape) is re-indented; anything else is decoded as UTF-8
    with replacement characters; very large bodies are cut with a note."""
    cut = len(body) > MAX_BODY_SHOWN
    raw = body[:MAX_BODY_SHOWN]
    text = raw.decode("utf-8", errors="replace")
    stripped = text.lstrip()
    if not cut and ("json" in content_type or stripped[:1] in ("{", "[")):
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False), "json"
        except ValueError:
            pass
    if cut:
        text += (
            f"\n... ({format_bytes(len(body))} in all, first {format_bytes(MAX_BODY_SHOWN)} shown)"
        )
    return text, None


def summary_line(exchange: Exchange) -> Text:
    """One line (it never wraps): status, protocol, time, size and the checks' verdict."""
    summary = Text(no_wrap=True, overflow="ellipsis")
    if exchange.pending:
        summary.append(f"Sending {exchange.method} {exchange.url} ...")
        return summary
    if exchange.error_class:
        summary.append(f"{exchange.error_class} error", style="bold red")
        summary.append(f": {exchange.error}")
        return summary
    style = "bold green" if exchange.status < 400 else "bold red"
    summary.append(f"{exchange.status} {exchange.reason}".strip(), style=style)
    summary.append(f"  {exchange.http_version}  {format_ms(exchange.elapsed_ms)}")
    summary.append(f"  {format_bytes(exchange.size)}")
    checks = exchange.checks
    if checks:
        failed = sum(1 for c in checks if not c.passed)
        if failed:
            summary.append(f"  ✗ {failed}/{len(checks)} checks failed", style="bold red")
        else:
            summary.append(f"  ✓ {len(checks)}/{len(checks)} checks", style="bold green")
    extracted = exchange.extracted
    missing = sum(1 for e in extracted if e.value is None)
    if missing:
        summary.append(f"  extract: {missing} of {len(extracted)} not found", style="bold red")
    elif extracted:
        summary.append(f"  extracted: {', '.join(e.name for e in extracted)}")
    return summary


def extracted_text(exchange: Exchange) -> Text:
    """The values the response gave the session, or why one was not found."""
    lines = Text()
    for e in exchange.extracted:
        if e.value is not None:
            lines.append("SET  ", style="bold green")
            lines.append(f"{e.name} = {e.value}\n")
        else:
            lines.append("MISS ", style="bold red")
            lines.append(f"{e.message}\n")
    if not exchange.extracted:
        lines.append("This request extracts nothing (Extract tab: token: json $.token).")
    return lines


def checks_text(exchange: Exchange) -> Text:
    lines = Text()
    for check in exchange.checks:
        mark, mark_style = ("PASS", "bold green") if check.passed else ("FAIL", "bold red")
        lines.append(f"{mark} ", style=mark_style)
        lines.append(check.description)
        if check.detail and not check.passed:
            lines.append(f"  ({check.detail})")
        lines.append("\n")
    if not exchange.checks:
        lines.append("This request has no checks.")
    return lines


class ResponseView(Vertical):
    """Shows one ``Exchange`` (or says there is none) and the request as it will be sent."""

    def compose(self) -> ComposeResult:
        yield Static(NO_REQUEST, id="response-summary")
        with TabbedContent(id="response-tabs"):
            with TabPane("Body", id="response-tab-body"):
                yield TextArea(id="response-body", read_only=True, show_line_numbers=False)
            with TabPane("Headers", id="response-tab-headers"):
                yield TextArea(id="response-headers", read_only=True, soft_wrap=False)
            with TabPane("Checks", id="response-tab-checks"):
                yield Static("", id="response-checks", markup=False)
            with TabPane("Extracted", id="response-tab-extracted"):
                yield Static("", id="response-extracted", markup=False)
            with TabPane("As sent", id="response-tab-request"):
                yield TextArea(id="response-request", read_only=True, soft_wrap=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._http2 = False
        self._label = ""

    def on_mount(self) -> None:
        self._title()

    def _title(self) -> None:
        whose = f" · {self._label}" if self._label else ""
        self.border_title = f"Response{whose} · HTTP/2 {'on' if self._http2 else 'off'}"

    def show_protocol(self, http2: bool) -> None:
        """Say in the title which protocol Send offers (the summary shows what was agreed)."""
        self._http2 = http2
        self._title()

    def show_exchange(self, exchange: Exchange | None, request: str | None) -> None:
        """Show ``exchange``; None: nothing was sent for ``request`` yet (or no request is
        selected when ``request`` is None)."""
        summary = self.query_one("#response-summary", Static)
        body = self.query_one("#response-body", TextArea)
        headers = self.query_one("#response-headers", TextArea)
        checks = self.query_one("#response-checks", Static)
        extracted = self.query_one("#response-extracted", Static)
        if exchange is None:
            self._label = ""
            if request is None:
                summary.update(Text(NO_REQUEST, no_wrap=True, overflow="ellipsis"))
            else:
                summary.update(Text(f"Nothing sent yet for {request}: ctrl+r sends it."))
            body.load_text("")
            headers.load_text("")
            checks.update("")
            extracted.update("")
            self._title()
            return
        self._label = exchange.label
        self._title()
        summary.update(summary_line(exchange))
        content_type = next((v for k, v in exchange.headers if k.lower() == "content-type"), "")
        text, language = pretty_body(exchange.body, content_type)
        body.load_text(text)
        set_text_language(body, language)
        headers.load_text("\n".join(f"{k}: {v}" for k, v in exchange.headers))
        checks.update(checks_text(exchange) if not exchange.pending else "")
        extracted.update(extracted_text(exchange) if not exchange.pending else "")
        if exchange.pending:
            return
        failed = any(not c.passed for c in exchange.checks)
        missing = any(e.value is None for e in exchange.extracted)
        tabs = self.query_one("#response-tabs", TabbedContent)
        if tabs.active != "response-tab-request" or failed or missing:
            tabs.active = (
                "response-tab-checks"
                if failed
                else "response-tab-extracted"
                if missing
                else "response-tab-body"
            )

    def show_request(self, text: str) -> None:
        """The request as it will be sent (secrets masked), in the "As sent" tab."""
        area = self.query_one("#response-request", TextArea)
        if area.text != text:
            area.load_text(text)

    def open_request_tab(self) -> None:
        self.query_one("#response-tabs", TabbedContent).active = "response-tab-request"

    @property
    def summary_text(self) -> str:
        """The summary line as plain text (what a test or a screen reader would read)."""
        content = self.query_one("#response-summary", Static).content
        return content.plain if isinstance(content, Text) else str(content)

    @property
    def request_text(self) -> str:
        return self.query_one("#response-request", TextArea).text
