"""The smoke check screen: each request of the collection (or of a scenario, its flow
included) sent once, in order, with status, time, size and every check's outcome."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from deli_tui.screens.help import HelpKeyFirst
from engine.plan.model import RunPlan
from engine.redact import redact_text
from engine.run.smoke import SmokeResult, smoke_check, smoke_passed
from engine.units import format_bytes, format_ms


class SmokeScreen(HelpKeyFirst, Screen[None]):
    """Results arrive row by row; the highlighted row's checks are listed below the table."""

    CSS_PATH = "../smoke.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "again", "Run again", id="smoke.again"),
        Binding("escape", "back", "Back", id="smoke.back"),
    ]

    def __init__(self, plans: Sequence[RunPlan], what: str) -> None:
        super().__init__(id="smoke-screen")
        self.plans = list(plans)
        self.plan = self.plans[0]
        self.secrets = tuple(dict.fromkeys(v for p in self.plans for v in p.redact_values))
        self.what = what
        self.results: list[SmokeResult] = []
        self.done = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="smoke-title")
        yield DataTable(id="smoke-table", cursor_type="row")
        yield Static(id="smoke-detail")
        yield Static(id="smoke-verdict")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.sub_title = "Smoke check"
        self.title = f"deli-tui: {self.plan.collection_name}"
        table = self.query_one("#smoke-table", DataTable)
        table.add_columns("", "method", "request", "status", "time", "size", "checks")
        self.query_one("#smoke-title", Static).update(
            Text(f"{self.what}: each request once, in order  →  {self.plan.base_url}")
        )
        table.focus()
        self.check()

    def _secret(self, text: str) -> str:
        return redact_text(text, self.secrets)

    def _mark(self, ok: bool) -> Text:
        theme = self.app.current_theme
        return Text("✓" if ok else "✗", style=f"bold {theme.success if ok else theme.error}")

    def _add(self, result: SmokeResult) -> None:
        self.results.append(result)
        r = result.response
        status = r.error_class if r.error_class is not None else str(r.status)
        checks = result.checks
        held = sum(1 for c in checks if c.passed)
        summary = f"{held}/{len(checks)}" if checks else "-"
        if result.extract_failure:
            summary += " extract ✗"
        table = self.query_one("#smoke-table", DataTable)
        table.add_row(
            self._mark(result.passed),
            result.method,
            Text(result.label),
            status,
            format_ms(r.elapsed_ms),
            format_bytes(r.size),
            summary,
        )
        if len(self.results) == 1:
            self._detail(0)

    def _detail(self, row: int) -> None:
        if not 0 <= row < len(self.results):
            return
        result = self.results[row]
        text = Text()
        text.append(f"{result.method} {self._secret(result.url)}\n")
        for held, what in result.findings():
            text.append(f"{'✓' if held else '✗'} {self._secret(what)}\n")
        if not result.checks and result.passed:
            text.append("no checks; the status is below 400\n")
        text.rstrip()
        self.query_one("#smoke-detail", Static).update(text)

    @on(DataTable.RowHighlighted, "#smoke-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail(event.cursor_row)

    @work(exclusive=True, group="smoke")
    async def check(self) -> None:
        """Send every request once, showing each result as it comes."""
        self.done = False
        self.results = []
        self.query_one("#smoke-table", DataTable).clear()
        verdict = self.query_one("#smoke-verdict", Static)
        verdict.set_classes("")
        verdict.update("sending...")
        results = await smoke_check(self.plans, self._add)
        failed = sum(1 for r in results if not r.passed)
        ok = smoke_passed(results)
        verdict.update(
            Text(f"{'PASSED' if ok else 'FAILED'}: {len(results)} requests, {failed} failed")
        )
        verdict.set_class(ok, "-passed")
        verdict.set_class(not ok, "-failed")
        self.done = True

    def action_again(self) -> None:
        self.check()

    def action_back(self) -> None:
        self.dismiss()
