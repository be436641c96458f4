"""The session's variables: what single sends extracted, one per row; clear one or all.

Gets a copy of the values and dismisses with what is left (None when nothing changed), so the
screen that opened it decides what to do with them.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from deli_tui.widgets.key_footer import KeyFooter

EMPTY = "No session variables yet: ctrl+r on a request with an Extract tab sets them."


class SessionVariablesScreen(ModalScreen[dict[str, str] | None]):
    """Name and value of each session variable."""

    DEFAULT_CSS = """
    SessionVariablesScreen {
        align: center middle;
    }
    SessionVariablesScreen > Vertical {
        width: 90%;
        height: 70%;
        border: round $primary;
        background: $surface;
    }
    SessionVariablesScreen #session-note {
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", id="session.close", tooltip="Back to the requests"),
        Binding(
            "delete,x",
            "clear_one",
            "Clear variable",
            id="session.clear_one",
            tooltip="Forget the highlighted value",
        ),
        Binding(
            "c", "clear_all", "Clear all", id="session.clear_all", tooltip="Forget every value"
        ),
    ]

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(id="session-variables")
        self.values = dict(values)
        self.changed = False

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Session variables (single sends)"
            yield DataTable(id="session-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="session-note", markup=False)
        yield KeyFooter(compact=False)

    def on_mount(self) -> None:
        table = self.query_one("#session-table", DataTable)
        table.add_columns("name", "value")
        self._fill()
        table.focus()

    def _fill(self) -> None:
        table = self.query_one("#session-table", DataTable)
        table.clear()
        for name, value in self.values.items():
            table.add_row(Text(name), Text(value), key=name)
        note = self.query_one("#session-note", Static)
        note.update(EMPTY if not self.values else f"{len(self.values)} variable(s)")

    def action_clear_one(self) -> None:
        table = self.query_one("#session-table", DataTable)
        if not self.values or table.cursor_row < 0:
            return
        name = list(self.values)[table.cursor_row]
        del self.values[name]
        self.changed = True
        self._fill()

    def action_clear_all(self) -> None:
        if self.values:
            self.values.clear()
            self.changed = True
            self._fill()

    def action_close(self) -> None:
        self.dismiss(self.values if self.changed else None)
