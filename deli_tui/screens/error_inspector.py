"""The error inspector: the run's errors grouped by message, each with its count and the
latest failed result that carried it."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from deli_tui.widgets.key_footer import KeyFooter
from engine.run.protocol import ErrorSample
from engine.units import format_count, format_elapsed


@dataclass(frozen=True, slots=True)
class ErrorGroup:
    """Identical errors: their class and message, how many, and the latest one seen."""

    error_class: str
    message: str
    count: int
    latest: ErrorSample | None


def group_errors(
    samples: tuple[ErrorSample, ...], counted: tuple[tuple[str, str, int], ...]
) -> list[ErrorGroup]:
    """One group per (class, message), most frequent first: the run's counts (``counted``,
    from the snapshot) when there are any, else the recent samples counted."""
    latest: dict[tuple[str, str], ErrorSample] = {}
    seen: dict[tuple[str, str], int] = {}
    for sample in samples:  # oldest first: the last one kept is the newest
        key = (sample.error_class, sample.message)
        latest[key] = sample
        seen[key] = seen.get(key, 0) + 1
    totals = {(cls, text): n for cls, text, n in counted} if counted else seen
    ranked = sorted(totals.items(), key=lambda item: -item[1])
    return [ErrorGroup(cls, text, n, latest.get((cls, text))) for (cls, text), n in ranked]


class ErrorInspector(ModalScreen[None]):
    """The errors as a table, one row per distinct message: count, class, latest request,
    status and time, message."""

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

    def __init__(
        self, samples: tuple[ErrorSample, ...], counted: tuple[tuple[str, str, int], ...] = ()
    ) -> None:
        super().__init__()
        self.samples = tuple(reversed(samples))
        self.groups = group_errors(samples, counted)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            total = sum(g.count for g in self.groups)
            box.border_title = f"Errors: {format_count(total)} in {len(self.groups)} kinds"
            yield DataTable(id="error-table", cursor_type="row", zebra_stripes=True)
            yield Static(id="error-detail")
        yield KeyFooter(compact=False)

    def on_mount(self) -> None:
        table = self.query_one("#error-table", DataTable)
        table.add_columns("count", "class", "latest", "status", "at", "message")
        for group in self.groups:
            last = group.latest
            table.add_row(
                format_count(group.count),
                group.error_class,
                Text(last.request if last else "-"),
                str(last.status) if last and last.status else "-",
                format_elapsed(last.elapsed_s) if last else "-",
                Text(group.message.splitlines()[0] if group.message else ""),
            )
        if not self.groups:
            self.query_one("#error-detail", Static).update("No errors recorded.")
        table.focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.groups):
            group = self.groups[event.cursor_row]
            where = f"latest: {group.latest.request}  " if group.latest else ""
            detail = self.query_one("#error-detail", Static)
            detail.update(Text(f"{group.count} x [{group.error_class}] {where}{group.message}"))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
