"""The runs screen: the collection's saved runs, newest first, to open, compare or export.

Reads ``.deli/runs/`` each time it is shown (a run just finished appears at once). It posts
``OpenRun``, ``CompareRuns`` and ``ExportRequested``; the app opens the screens and writes
the files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Label, Select, Static

from deli_tui.run_files import ExportSource
from deli_tui.screens.export import ExportRequested
from deli_tui.screens.help import HelpKeyFirst
from deli_tui.widgets.key_footer import KeyFooter
from engine.history.saved_run import SavedRun, discover_runs
from engine.reports.compare_table import when_text
from engine.units import format_ms, format_rate

ALL = "__all__"
COLUMNS = ("", "when", "scenario", "load", "req/s", "p95", "p99", "errors", "verdict")


def pair_to_compare(
    runs: list[SavedRun], marked: list[SavedRun], cursor: SavedRun | None
) -> tuple[SavedRun, SavedRun] | None:
    """Which two runs ``c`` compares, the older first (the baseline): the two marked; one
    marked and the run under the cursor; or the run under the cursor and the run of its
    scenario before it. None when there is no second run."""
    chosen = list(marked[-2:])
    if len(chosen) < 2 and cursor is not None and cursor not in chosen:
        chosen.append(cursor)
    if len(chosen) == 1:
        run = chosen[0]
        older = [r for r in runs if r.when < run.when or (r.when == run.when and r.name < run.name)]
        previous = next((r for r in older if r.scenario == run.scenario), None)
        if previous is None:
            return None
        chosen.append(previous)
    if len(chosen) < 2:
        return None
    a, b = sorted(chosen, key=lambda r: (r.when, r.name))
    return a, b


class RunsScreen(HelpKeyFirst, Screen[None]):
    """Saved runs in a table; a filter by scenario above it."""

    CSS_PATH = "../history.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "open_run",
            "Open run",
            id="runs.open",
            tooltip="The run's dashboard as it ended",
        ),
        Binding(
            "space",
            "mark",
            "Mark for compare",
            id="runs.mark",
            tooltip="Mark (or unmark) the run for c",
        ),
        Binding(
            "c", "compare", "Compare", id="runs.compare", tooltip="The two marked runs side by side"
        ),
        Binding(
            "x",
            "export",
            "Export",
            id="runs.export",
            tooltip="Write the run as JSON, HTML or JUnit XML",
        ),
        Binding(
            "slash",
            "filter",
            "Filter by scenario",
            key_display="/",
            id="runs.filter",
            tooltip="Show one scenario's runs",
        ),
        Binding("r", "reload", "Reload", id="runs.reload", tooltip="Read .deli/runs again"),
    ]

    class OpenRun(Message):
        """Show this saved run's dashboard as it ended."""

        def __init__(self, run: SavedRun) -> None:
            super().__init__()
            self.run = run

    class CompareRuns(Message):
        """Compare run ``b`` against the baseline ``a``."""

        def __init__(self, a: SavedRun, b: SavedRun) -> None:
            super().__init__()
            self.a = a
            self.b = b

    def __init__(self, runs_dir: Path, collection_name: str) -> None:
        super().__init__(id="runs-screen")
        self.runs_dir = runs_dir
        self.collection_name = collection_name
        self.runs: list[SavedRun] = []
        self.shown: list[SavedRun] = []
        self.marked: list[SavedRun] = []
        self.scenario: str = ALL

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="runs-filter-row"):
            yield Label("Scenario", classes="form-label")
            yield Select[str]([("All scenarios", ALL)], allow_blank=False, id="runs-scenario")
            yield Static("", id="runs-count")
        yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="runs-hint")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.sub_title = "Runs"
        self.title = f"deli-tui: {self.collection_name}"
        table = self.query_one("#runs-table", DataTable)
        for name in COLUMNS:
            table.add_column(name, key=name or "mark")
        self.reload()
        table.focus()

    def on_screen_resume(self) -> None:
        self.reload()

    # --- data ------------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the runs folder again, keeping the filter, the marks and the cursor's run."""
        cursor = self.current
        self.runs = discover_runs(self.runs_dir)
        paths = {r.path for r in self.runs}
        self.marked = [
            r for r in self.runs if r.path in {m.path for m in self.marked} and r.path in paths
        ]
        scenarios = sorted({r.scenario for r in self.runs})
        if self.scenario != ALL and self.scenario not in scenarios:
            self.scenario = ALL
        select = self.query_one("#runs-scenario", Select)
        with self.prevent(Select.Changed):
            select.set_options([("All scenarios", ALL), *((s or "(none)", s) for s in scenarios)])
            select.value = self.scenario
        self._fill(cursor)

    @property
    def current(self) -> SavedRun | None:
        """The run under the cursor."""
        table = self.query_one("#runs-table", DataTable)
        if not self.shown or table.cursor_row < 0 or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    def _verdict(self, run: SavedRun) -> Text:
        theme = self.app.current_theme
        colour = {"PASSED": theme.success, "FAILED": theme.error}.get(run.verdict, theme.warning)
        return Text(run.verdict, style=f"bold {colour}" if colour else "bold")

    def _row(self, run: SavedRun) -> tuple[str | Text, ...]:
        p95, p99 = run.latency_ms("p95"), run.latency_ms("p99")
        marked = "●" if any(m.path == run.path for m in self.marked) else ""
        return (
            marked,
            when_text(run.when),
            Text(run.scenario or "-"),
            run.load_text,
            format_rate(run.rps),
            format_ms(p95) if p95 is not None else "-",
            format_ms(p99) if p99 is not None else "-",
            f"{run.error_rate * 100:.2f}%",
            self._verdict(run),
        )

    def _fill(self, keep: SavedRun | None = None) -> None:
        table = self.query_one("#runs-table", DataTable)
        self.shown = [r for r in self.runs if self.scenario == ALL or r.scenario == self.scenario]
        table.clear()
        for run in self.shown:
            table.add_row(*self._row(run))
        if keep is not None:
            for i, run in enumerate(self.shown):
                if run.path == keep.path:
                    table.move_cursor(row=i)
                    break
        total = len(self.runs)
        count = (
            f"{len(self.shown)} of {total} runs" if len(self.shown) != total else f"{total} runs"
        )
        self.query_one("#runs-count", Static).update(count)
        hint = self.query_one("#runs-hint", Static)
        if not self.runs:
            hint.update(
                f"No saved runs yet in {self.runs_dir}. "
                "Run a scenario (F3, ctrl+r): its result is saved here."
            )
        elif self.marked:
            names = ", ".join(when_text(m.when) for m in self.marked)
            hint.update(f"Marked: {names}. c compares.")
        else:
            hint.update(
                "enter opens a run; space marks runs, c compares (one run: with the one before it)"
            )

    # --- keys --------------------------------------------------------------------------------

    @on(Select.Changed, "#runs-scenario")
    def _filtered(self, event: Select.Changed) -> None:
        self.scenario = str(event.value)
        self._fill(self.current)

    @on(DataTable.RowSelected, "#runs-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_run()

    def _with_current(self, then: Callable[[SavedRun], object]) -> None:
        run = self.current
        if run is None:
            self.notify("No run selected", severity="warning", timeout=3)
            return
        then(run)

    def action_open_run(self) -> None:
        self._with_current(lambda run: self.post_message(self.OpenRun(run)))

    def action_export(self) -> None:
        self._with_current(
            lambda run: self.post_message(ExportRequested(ExportSource.of_saved(run)))
        )

    def action_mark(self) -> None:
        run = self.current
        if run is None:
            return
        if any(m.path == run.path for m in self.marked):
            self.marked = [m for m in self.marked if m.path != run.path]
        else:
            self.marked = [*self.marked, run][-2:]
        table = self.query_one("#runs-table", DataTable)
        row = table.cursor_row
        self._fill(run)
        table.move_cursor(row=min(row + 1, len(self.shown) - 1))

    def action_compare(self) -> None:
        pair = pair_to_compare(self.runs, self.marked, self.current)
        if pair is None:
            self.notify(
                "Mark two runs with space (or pick a run that has an earlier one of its scenario)",
                severity="warning",
                timeout=5,
            )
            return
        self.post_message(self.CompareRuns(*pair))

    def action_filter(self) -> None:
        self.query_one("#runs-scenario", Select).focus()

    def action_reload(self) -> None:
        self.reload()
        self.notify(f"{len(self.runs)} runs", timeout=1.5)
