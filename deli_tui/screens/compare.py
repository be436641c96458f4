"""The compare screen: two saved runs side by side, the changes coloured better or worse.

Run A is the baseline, run B the one judged against it; ``s`` swaps them. Everything shown
comes from one ``Comparison`` (``engine.history.compare``), the same the ``deli-tui compare``
command prints.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static

from deli_tui.screens.help import HelpKeyFirst
from deli_tui.widgets.change_table import ChangeTable
from deli_tui.widgets.key_footer import KeyFooter
from deli_tui.widgets.overlay_histogram import OverlayHistogram
from engine.history.compare import Comparison, compare_runs
from engine.history.saved_run import SavedRun
from engine.reports.cells import threshold_value
from engine.reports.compare_table import when_text
from engine.run.protocol import ThresholdResult
from engine.units import format_ms


class CompareScreen(HelpKeyFirst, Screen[None]):
    """Run A against run B: who they are, notes, figures, distributions, requests, thresholds."""

    CSS_PATH = "../history.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "swap", "Swap A and B", id="compare.swap", tooltip="Make B the baseline"),
        Binding("escape", "back", "Back", id="compare.back", tooltip="Back to the runs"),
    ]

    def __init__(self, comparison: Comparison) -> None:
        super().__init__(id="compare-screen")
        self.comparison = comparison

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="compare-body"):
            yield Static(id="compare-runs")
            yield Static(id="compare-notes")
            with Horizontal(id="compare-top"):
                yield ChangeTable("Figures: B against A", id="compare-figures")
                yield OverlayHistogram(id="compare-histogram")
            yield ChangeTable("Per request", id="compare-requests")
            yield Static(id="compare-thresholds")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.sub_title = "Compare runs"
        c = self.comparison
        self.title = f"deli-tui: {c.b.collection or c.a.collection}"
        self._show()
        self.query_one("#compare-body").focus()

    def _run_line(self, side: str, run: SavedRun) -> Text:
        theme = self.app.current_theme
        colour = {"PASSED": theme.success, "FAILED": theme.error}.get(run.verdict, theme.warning)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{side} ", style="bold")
        text.append(
            f"{when_text(run.when)}  {run.scenario}  {run.load_text}  {run.duration_s:.1f}s  "
        )
        text.append(run.verdict, style=f"bold {colour}" if colour else "bold")
        text.append(f"  {run.name}", style="dim")
        return text

    def _thresholds(self) -> Text:
        text = Text()
        for side, run in (("A", self.comparison.a), ("B", self.comparison.b)):
            text.append(f"{side} ", style="bold")
            if not run.thresholds:
                text.append("no thresholds")
            for expr, value, passed in run.thresholds:
                mark = "✓" if passed else ("-" if passed is None else "✗")
                shown = threshold_value(ThresholdResult(expr, value, passed))
                text.append(f" {mark} {expr} ({shown}) ")
            text.append("\n")
        text.rstrip()
        return text

    def _show(self) -> None:
        c = self.comparison
        runs = Text("\n").join([self._run_line("A", c.a), self._run_line("B", c.b)])
        self.query_one("#compare-runs", Static).update(runs)
        notes = self.query_one("#compare-notes", Static)
        notes.update(Text("\n".join(f"note: {n}" for n in c.notes)))
        notes.display = bool(c.notes)
        self.query_one("#compare-figures", ChangeTable).show_overall(c)
        self.query_one("#compare-requests", ChangeTable).show_requests(c)
        legend = tuple(
            f"{side} p95 {format_ms(p95) if (p95 := run.latency_ms('p95')) is not None else '-'}"
            + ("" if run.digest() else " (no distribution saved)")
            for side, run in (("A", c.a), ("B", c.b))
        )
        self.query_one("#compare-histogram", OverlayHistogram).show(
            c.a.digest(), c.b.digest(), (legend[0], legend[1])
        )
        thresholds = self.query_one("#compare-thresholds", Static)
        thresholds.border_title = "Thresholds"
        thresholds.update(self._thresholds())

    def action_swap(self) -> None:
        self.comparison = compare_runs(self.comparison.b, self.comparison.a)
        self._show()

    def action_back(self) -> None:
        self.dismiss()
