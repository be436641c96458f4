"""The error inspector: the engine's most recent failed results, one per row, with messages."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from deli_tui.widgets.key_footer import KeyFooter
from engine.run.protocol import ErrorSample
from engine.units import format_elapsed


class ErrorInspector(ModalScreen[None]):
    """Recent errors (newest first) as a table: time, request, class, status, message."""

    DEFAULT_CSS = """
    ErrorInspector {
        align: center middle;
    }
    ErrorInspector > Vertical {
        width: 95%;
        height: 90%;
        border: round $error;
        border-title-color: $text;
        background: $surface;
    }
    ErrorInspector #error-detail {
        height: auto;
        max-height: 6;
        padding: 0 1;
        color: $text-muted;
    }
    """
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="errors.close", tooltip="Back to the dashboard"),
        Binding(
            "q",
            "dismiss",
            "Close",
            show=False,
            id="errors.close_q",
            tooltip="Back to the dashboard",
        ),
    ]

    def __init__(self, samples: tuple[ErrorSample, ...]) -> None:
        super().__init__()
        self.samples = tuple(reversed(samples))

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"Recent errors ({len(self.samples)})"
            yield DataTable(id="error-table", cursor_type="row", zebra_stripes=True)
            yield Static(id="error-detail")
        yield KeyFooter(compact=False)

    def on_mount(self) -> None:
        table = self.query_one("#error-table", DataTable)
        table.add_columns("at", "request", "class", "status", "message")
        for sample in self.samples:
            status = str(sample.status) if sample.status else "-"
            table.add_row(
                format_elapsed(sample.elapsed_s),
                Text(sample.request),
                sample.error_class,
                status,
                Text(sample.message.splitlines()[0] if sample.message else ""),
            )
        if not self.samples:
            self.query_one("#error-detail", Static).update("No errors recorded.")
        table.focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.samples):
            sample = self.samples[event.cursor_row]
            detail = self.query_one("#error-detail", Static)
            detail.update(Text(f"{sample.request} [{sample.error_class}]: {sample.message}"))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
