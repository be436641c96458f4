"""The response of one sent request: status, time, size, checks, headers and body."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static, TabbedContent, TabPane, TextArea

from deli_tui.widgets.request_editor import set_text_language
from engine.units import format_bytes, format_ms

MAX_BODY_SHOWN = 512 * 1024


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """One check's result as shown: what it checks, whether it passed, and why not."""

    description: str
    passed: bool
    detail: str = ""


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


class ResponseView(Vertical):
    """Shows nothing useful until ``show_response`` or ``show_error`` is called."""

    def compose(self) -> ComposeResult:
        yield Static("No response yet: ctrl+r sends the request.", id="response-summary")
        with TabbedContent(id="response-tabs"):
            with TabPane("Body", id="response-tab-body"):
                yield TextArea(id="response-body", read_only=True, show_line_numbers=False)
            with TabPane("Headers", id="response-tab-headers"):
                yield TextArea(id="response-headers", read_only=True, soft_wrap=False)
            with TabPane("Checks", id="response-tab-checks"):
                yield Static("", id="response-checks", markup=False)

    def show_protocol(self, http2: bool) -> None:
        """Say in the title which protocol Send offers (the summary shows what was agreed)."""
        self.border_title = f"Response · HTTP/2 {'on' if http2 else 'off'}"

    def show_sending(self, method: str, url: str) -> None:
        self.query_one("#response-summary", Static).update(Text(f"Sending {method} {url} ..."))

    def show_response(
        self,
        *,
        status: int,
        reason: str,
        http_version: str,
        elapsed_ms: float,
        size: int,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        checks: list[CheckOutcome],
    ) -> None:
        headers = list(headers)
        summary = Text()
        style = "bold green" if status < 400 else "bold red"
        summary.append(f"{status} {reason}".strip(), style=style)
        summary.append(f"  {http_version}  {format_ms(elapsed_ms)}  {format_bytes(size)}")
        if checks:
            failed = sum(1 for c in checks if not c.passed)
            if failed:
                summary.append(f"  checks: {failed} of {len(checks)} failed", style="bold red")
            else:
                summary.append(f"  checks: all {len(checks)} passed", style="bold green")
        self.query_one("#response-summary", Static).update(summary)
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        text, language = pretty_body(body, content_type)
        area = self.query_one("#response-body", TextArea)
        area.load_text(text)
        set_text_language(area, language)
        self.query_one("#response-headers", TextArea).load_text(
            "\n".join(f"{k}: {v}" for k, v in headers)
        )
        lines = Text()
        for check in checks:
            mark, mark_style = ("PASS", "bold green") if check.passed else ("FAIL", "bold red")
            lines.append(f"{mark} ", style=mark_style)
            lines.append(check.description)
            if check.detail and not check.passed:
                lines.append(f"  ({check.detail})")
            lines.append("\n")
        if not checks:
            lines.append("This request has no checks.")
        self.query_one("#response-checks", Static).update(lines)
        tabs = self.query_one("#response-tabs", TabbedContent)
        tabs.active = (
            "response-tab-checks" if any(not c.passed for c in checks) else "response-tab-body"
        )

    def show_error(self, error_class: str, message: str) -> None:
        summary = Text()
        summary.append(f"{error_class} error", style="bold red")
        summary.append(f": {message}")
        self.query_one("#response-summary", Static).update(summary)
        self.query_one("#response-body", TextArea).load_text("")
        self.query_one("#response-headers", TextArea).load_text("")
        self.query_one("#response-checks", Static).update("")

    @property
    def summary_text(self) -> str:
        """The summary line as plain text (what a test or a screen reader would read)."""
        content = self.query_one("#response-summary", Static).content
        return content.plain if isinstance(content, Text) else str(content)
