"""A comparison's figures as a table: A, B and the change, coloured better or worse.

``show_overall`` draws the run's figures (requests, req/s, error rate, percentiles);
``show_requests`` one row per request (p95, req/s and error rate of each run).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from engine.history.compare import Change, Comparison
from engine.reports.compare_table import (
    REQUEST_CHANGES,
    REQUEST_HEADER,
    change_text,
    request_change_cells,
    value_text,
)


class ChangeTable(Static):
    """Figures of two runs side by side; the change is green when better, red when worse."""

    DEFAULT_CSS = """
    ChangeTable {
        height: auto;
        border: round $primary 50%;
        border-title-color: $text;
        padding: 0 1;
    }
    ChangeTable > .change-table--better { color: $success; }
    ChangeTable > .change-table--worse { color: $error; text-style: bold; }
    ChangeTable > .change-table--head { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"change-table--better", "change-table--worse", "change-table--head"}

    def __init__(self, title: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes)
        self.border_title = title
        self._comparison: Comparison | None = None
        self._requests = False

    @property
    def comparison(self) -> Comparison | None:
        return self._comparison

    def show_overall(self, comparison: Comparison) -> None:
        self._comparison, self._requests = comparison, False
        self._draw()

    def show_requests(self, comparison: Comparison) -> None:
        self._comparison, self._requests = comparison, True
        self._draw()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.call_next(self._draw)

    def _change(self, change: Change) -> Text:
        verdict = change.verdict
        style = Style()
        if verdict in ("better", "worse"):
            style = self.get_component_rich_style(f"change-table--{verdict}")
        label = change_text(change)
        if verdict in ("better", "worse"):
            label = f"{label} {verdict}"
        return Text(label, style=style)

    def _table(self, columns: Sequence[str]) -> Table:
        head = self.get_component_rich_style("change-table--head")
        table = Table(box=None, padding=(0, 1), expand=False, show_edge=False, header_style=head)
        for i, name in enumerate(columns):
            table.add_column(name, justify="left" if i == 0 else "right", no_wrap=True)
        return table

    def _draw(self) -> None:
        c = self._comparison
        if c is None or not self.is_mounted:
            return
        if self._requests:
            table = self._table(REQUEST_HEADER)
            for r in c.requests:
                cells: list[str | Text] = list(request_change_cells(r))
                cells[0] = Text(str(cells[0]))
                for column, change in zip(REQUEST_CHANGES, (r.p95, r.rps), strict=True):
                    cells[column] = self._change(change)
                table.add_row(*cells)
        else:
            table = self._table(("", "A", "B", "change"))
            for change in c.overall:
                table.add_row(
                    change.label,
                    value_text(change, change.a),
                    value_text(change, change.b),
                    self._change(change),
                )
        self.update(table)
