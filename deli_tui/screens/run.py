"""The run dashboard: a live view of one run, from the engine's snapshots only.

``RunScreen.for_plan`` starts an engine process and a run; ``RunScreen.for_attach`` watches a
run served by ``deli-tui run --listen`` and can detach, leaving it going. Every panel takes the
newest ``Snapshot`` and redraws only when what it shows changed.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from deli_tui.commands import RunCommands
from deli_tui.engine_bridge import (
    EngineBridge,
    EngineFailed,
    EngineLost,
    LogArrived,
    RunFinished,
    SnapshotArrived,
)
from deli_tui.run_files import ExportSource, engine_log_path, save_run, shown_path
from deli_tui.screens.error_inspector import ErrorInspector
from deli_tui.screens.export import ExportRequested
from deli_tui.screens.help import HelpKeyFirst
from deli_tui.widgets import (
    ErrorSummary,
    LatencyHistogram,
    P99Chart,
    Percentiles,
    RequestTable,
    RunHeader,
    StatusCodes,
    StressChart,
    ThroughputChart,
    WorkerTable,
)
from deli_tui.widgets.key_footer import KeyFooter
from engine.history.saved_run import SavedRun
from engine.plan.model import RunPlan
from engine.reports.cells import stress_outcome
from engine.run.protocol import QUIT, Adjust, Command, Finished, Snapshot, Start, Stop
from engine.units import format_count, format_elapsed, format_ms, format_rate

if TYPE_CHECKING:
    from engine.run.process import EngineLink

ADJUST_STEP = 0.1  # +/- changes users or rate by 10% (at least 1)
QUIT_SAVE_WAIT_S = 5.0  # closing mid-run: how long to wait for the stopped run's Finished


class RunScreen(HelpKeyFirst, Screen[None]):
    """Live dashboard of a run: header, charts, histogram, percentiles, codes, errors, requests."""

    CSS_PATH = "../run.tcss"
    COMMANDS: ClassVar[set] = {RunCommands}  # type: ignore[type-arg]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "s",
            "stop_run",
            "Stop",
            id="run.stop",
            tooltip="Stop the run (in-flight requests finish)",
        ),
        Binding(
            "plus,equals_sign,up",
            "adjust(1)",
            "More load",
            key_display="+",
            id="run.more",
            tooltip="10% more users (closed model) or a 10% higher rate (open model)",
        ),
        Binding(
            "minus,down",
            "adjust(-1)",
            "Less load",
            key_display="-",
            id="run.less",
            tooltip="10% fewer users or a 10% lower rate",
        ),
        Binding(
            "v",
            "cycle_view",
            "View",
            id="run.view",
            tooltip="In a small terminal: show the histogram, the charts or the request table",
        ),
        Binding(
            "o",
            "cycle_sort",
            "Sort",
            id="run.sort",
            tooltip="Sort the request table by the next column",
        ),
        Binding(
            "h",
            "toggle_histogram",
            "Window/run",
            id="run.histogram",
            tooltip="Histogram of the last window or of the whole run",
        ),
        Binding(
            "f",
            "toggle_freeze",
            "Freeze",
            id="run.freeze",
            tooltip="Hold the display still; the run goes on",
        ),
        Binding(
            "e",
            "inspect_errors",
            "Errors",
            id="run.errors",
            tooltip="The latest failed results, in full",
        ),
        Binding(
            "x",
            "export",
            "Export",
            id="run.export",
            tooltip="Write this run as JSON, HTML, JUnit XML or CSV (after the end)",
        ),
        Binding(
            "w",
            "toggle_workers",
            "Workers",
            id="run.workers",
            tooltip="Show or hide the worker table",
        ),
        Binding(
            "d",
            "detach",
            "Detach",
            id="run.detach",
            tooltip="Leave the run going and close this viewer",
        ),
        Binding(
            "escape", "back", "Back", id="run.back", tooltip="Back to where the run was started"
        ),
    ]
    VIEWS = ("histogram", "charts", "requests")  # one at a time in a small terminal

    # repaint=False: a repaint of the screen redraws every panel; each panel refreshes itself
    # only when what it shows changed (measured: 30 KiB/s at 80x24 with the screen repainted).
    snapshot: reactive[Snapshot | None] = reactive(
        None, always_update=True, init=False, repaint=False
    )
    frozen: reactive[bool] = reactive(False, repaint=False)
    view: reactive[str] = reactive("histogram", repaint=False)

    def __init__(
        self,
        open_link: Callable[[], EngineLink] | None,
        *,
        first: Command | None = None,
        runs_dir: Path | None = None,
        attached: bool = False,
        close_timeout: float = 5.0,
        redact_values: tuple[str, ...] = (),
        plan: RunPlan | None = None,
        saved: SavedRun | None = None,
        spool_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.spool_dir = spool_dir  # the run's raw results on disk, removed when it is left
        self.attached = attached
        self.redact_values = redact_values
        self.runs_dir = runs_dir
        self.plan = plan
        self.saved = saved  # a saved run, shown as it ended (no engine)
        self.bridge = (
            EngineBridge(open_link, self, first=first, close_timeout=close_timeout)
            if open_link is not None
            else None
        )
        self.finished: Finished | None = None
        self.saved_path: Path | None = saved.path if saved is not None else None
        self.lost: str | None = None
        self._adjusted: float | None = None
        self._panels: list[Widget] = []

    @classmethod
    def for_plan(cls, plan: RunPlan, runs_dir: Path | None = None) -> RunScreen:
        """Start an engine process and run ``plan``; the result is saved under ``runs_dir``."""
        from engine.run.process import EngineHandle
        from engine.run.rundir import make_run_dir, run_id

        log_path = engine_log_path(runs_dir)
        spool_dir = None
        if runs_dir is not None and plan.cluster is None:
            try:
                spool_dir = make_run_dir(runs_dir, run_id(plan.scenario_name))
            except OSError:
                spool_dir = None  # the CSV export then says it has the newest results only
            else:
                plan = dataclasses.replace(plan, run_dir=str(spool_dir))
        return cls(
            partial(EngineHandle.start, log_path=log_path),
            first=Start(plan),
            runs_dir=runs_dir,
            redact_values=plan.redact_values,
            plan=plan,
            spool_dir=spool_dir,
        )

    @classmethod
    def for_saved(cls, run: SavedRun) -> RunScreen:
        """The dashboard of a saved run as it ended, rebuilt from its file."""
        return cls(None, saved=run)

    @classmethod
    def for_attach(cls, socket_path: str) -> RunScreen:
        """Watch the run listening on ``socket_path``; ``d`` detaches and leaves it going."""
        from engine.run.attach import AttachHandle

        return cls(partial(AttachHandle.connect, socket_path), attached=True, close_timeout=0.0)

    # --- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield RunHeader(id="run-header")
        yield Static(id="verdict")
        with Horizontal(id="body"):
            with Vertical(id="main"):
                with Horizontal(id="charts"):
                    yield ThroughputChart(id="throughput")
                    yield P99Chart(id="p99-chart")
                yield StressChart(id="stress")
                yield LatencyHistogram(id="histogram")
                yield RequestTable(id="requests")
            with Vertical(id="side"):
                yield Percentiles(id="percentiles")
                yield StatusCodes(id="status-codes")
                yield ErrorSummary(id="errors")
        yield WorkerTable(id="workers")
        yield KeyFooter(compact=False)

    def on_mount(self) -> None:
        self.set_class(True, "-view-histogram")
        # The objects alive now (the app, its screens, this dashboard) stay for the whole run;
        # frozen, the full collections that a live run triggers every ~20 s no longer scan them
        # (measured at 160x48: ~90 ms each, some 15% of the dashboard's CPU). unmount thaws them.
        gc.freeze()
        if self.saved is not None:
            from engine.history.rebuild import finished_of

            self._end(finished_of(self.saved))
            return
        if self.bridge is not None:
            self.run_worker(
                self.bridge.run,
                thread=True,
                name="engine-bridge",
                group="engine",
                exit_on_error=False,
            )

    def on_unmount(self) -> None:
        # Stops a run we own (no orphan engine process) or only detaches a viewer. A run we
        # own that is still going (the app is closing) is stopped and saved, marked "quit".
        bridge = self.bridge
        if bridge is not None:
            if self.finished is None and not self.attached and self.lost is None:
                final = bridge.end_run(wait=QUIT_SAVE_WAIT_S)
                if final is not None:
                    self._save_result(dataclasses.replace(final, reason=QUIT))
            bridge.stop(wait=bridge.close_timeout + 8.0)
        if self.spool_dir is not None:
            from engine.run.rundir import remove_run_dir

            remove_run_dir(self.spool_dir)
        gc.unfreeze()

    # --- messages from the engine -------------------------------------------------------

    def on_snapshot_arrived(self, message: SnapshotArrived) -> None:
        if self.finished is None:
            self.snapshot = message.snapshot

    def on_run_finished(self, message: RunFinished) -> None:
        self._end(message.finished)

    def _end(self, finished: Finished) -> None:
        """The run is over (or a saved one is shown): the final snapshot and the verdict."""
        self.finished = finished
        self.frozen = False
        self._adjusted = None
        self.query_one(RunHeader).set_state(ended=finished.reason, flags=())
        self.query_one(LatencyHistogram).cumulative = True  # the summary shows the whole run
        self.snapshot = finished.snapshot
        if self.saved is None:
            self._save_result(finished)
        self._show_verdict()
        self.refresh_bindings()

    def redacted(self, text: str) -> str:
        """``text`` without the plan's secret values (env file, environment, auth headers)."""
        from engine.redact import redact_text

        return redact_text(text, self.redact_values)

    def on_log_arrived(self, message: LogArrived) -> None:
        if message.log.level == "warning":
            self.notify(self.redacted(message.log.message), severity="warning")
        elif message.log.level == "error":
            self.notify(self.redacted(message.log.message), severity="error")

    def on_engine_failed(self, message: EngineFailed) -> None:
        text = self.redacted(message.error.message)
        self.notify(text, title="Engine error", severity="error", timeout=10)

    def on_engine_lost(self, message: EngineLost) -> None:
        if self.finished is not None:
            return
        self.lost = self.redacted(message.reason)
        verdict = self.query_one("#verdict", Static)
        what = "Run link dropped" if self.attached else "Engine stopped"
        verdict.update(Text(f"{what}: {self.lost}"))
        verdict.set_class(True, "-lost")
        self.refresh_bindings()

    def watch_snapshot(self, snapshot: Snapshot | None) -> None:
        if snapshot is None or self.frozen:
            return
        with self.app.batch_update():
            if self._adjusted is not None:
                self._show_flags()
            self._render_snapshot(snapshot)

    def watch_frozen(self, frozen: bool) -> None:
        self.set_class(frozen, "-frozen")
        self._show_flags()
        if not frozen and self.snapshot is not None:
            self._render_snapshot(self.snapshot)

    def _show_flags(self) -> None:
        """Frozen, and a load change not yet seen in the snapshots, in the header."""
        flags = ["frozen"] if self.frozen else []
        snap = self.snapshot
        if self._adjusted is not None and snap is not None:
            open_model = snap.model == "open"
            now = snap.target_rate if open_model else snap.target_users
            if abs(now - self._adjusted) >= 0.5:
                what = (
                    f"rate → {self._adjusted:.0f}/s"
                    if open_model
                    else f"users → {self._adjusted:.0f}"
                )
                flags.append(what)
        if self.is_mounted:
            self.query_one(RunHeader).set_state(flags=tuple(flags))

    @property
    def compact(self) -> bool:
        """A terminal too small for every panel at once: one view (``v``) beside the numbers."""
        return self.has_class("-narrow") or self.has_class("-short")

    def watch_view(self, view: str) -> None:
        for name in self.VIEWS:
            self.set_class(name == view, f"-view-{name}")
        if self.snapshot is not None:
            self.call_after_refresh(self._render_snapshot, self.snapshot)

    def _render_snapshot(self, snapshot: Snapshot) -> None:
        if not self._panels:
            self._panels = list(
                self.query(
                    "RunHeader, SeriesChart, LatencyHistogram, Percentiles, StatusCodes, "
                    "ErrorSummary, RequestTable, WorkerTable, StressChart"
                )
            )
        self.set_class(snapshot.stress is not None, "-stress")
        for panel in self._panels:
            panel.show(snapshot)  # type: ignore[attr-defined]

    def on_resize(self, event: events.Resize) -> None:
        self.refresh_bindings()  # "v" (view) is only offered in a small terminal
        if self.snapshot is not None:
            self.call_after_refresh(self._render_snapshot, self.snapshot)

    # --- the end of a run ---------------------------------------------------------------

    def _save_result(self, finished: Finished) -> None:
        if self.runs_dir is None or self.attached:
            return
        try:
            self.saved_path = save_run(self.runs_dir, finished, self.plan)
        except Exception as exc:  # a full disk must not take the summary off the screen
            self.notify(f"Could not save the run: {exc}", severity="error", timeout=10)

    def _show_verdict(self) -> None:
        finished = self.finished
        if finished is None:
            return
        s = finished.snapshot
        verdict = finished.verdict
        why = "" if finished.reason == verdict else f" ({finished.reason})"  # not STOPPED (stopped)
        line = (
            f"{verdict.upper()}{why} in {format_elapsed(s.elapsed_s)}: "
            f"{format_count(s.requests)} requests, {format_rate(s.mean_rps)} req/s, "
            f"p99 {format_ms(s.latency.p99_ms)}, errors {s.error_rate:.1%}"
        )
        if s.stress is not None:
            outcome = stress_outcome(s.stress)
            line = f"{outcome} ({finished.reason}, {format_elapsed(s.elapsed_s)})"
        if self.saved is not None and self.saved_path is not None:
            line += f"  from {shown_path(self.saved_path)}"
        elif self.saved_path is not None:
            line += f"  saved {shown_path(self.saved_path)}"
        widget = self.query_one("#verdict", Static)
        widget.update(Text(line))
        for word in ("passed", "failed", "stopped"):
            widget.set_class(verdict == word, f"-{word}")

    # --- keys ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        live = self.finished is None and self.lost is None
        if action == "adjust":  # a stress run's steps set its load
            return live and not (self.snapshot is not None and self.snapshot.stress is not None)
        if action == "stop_run":
            return live
        if action == "detach":
            return self.attached and live
        if action in ("back", "export"):
            return not live
        if action == "cycle_view":
            return self.compact
        # a saved run has one histogram, of the whole run, and nothing live to freeze
        return not (action in ("toggle_freeze", "toggle_histogram") and self.saved is not None)

    def action_export(self) -> None:
        if self.saved is not None:
            source = ExportSource.of_saved(self.saved)
        elif self.finished is not None:
            source = ExportSource.of_finished(self.finished, self.plan, self.saved_path)
        else:
            return
        self.post_message(ExportRequested(source))

    def action_stop_run(self) -> None:
        if self.bridge is not None:
            self.bridge.send(Stop())  # the header shows [stopping], then the end

    def action_adjust(self, direction: int) -> None:
        snap = self.snapshot
        open_model = snap.model == "open" if snap is not None else False
        if self._adjusted is not None:
            current = self._adjusted
        elif snap is not None:
            current = snap.target_rate if open_model else snap.target_users
        else:
            return
        step = max(1.0, round(current * ADJUST_STEP))
        wanted = max(1.0, current + direction * step)
        command = Adjust(rate=wanted) if open_model else Adjust(users=int(wanted))
        if self.bridge is not None and self.bridge.send(command):
            self._adjusted = wanted
            self._show_flags()  # in the header until the snapshots show it

    def action_toggle_histogram(self) -> None:
        histogram = self.query_one(LatencyHistogram)
        histogram.cumulative = not histogram.cumulative

    def action_toggle_freeze(self) -> None:
        self.frozen = not self.frozen

    def action_inspect_errors(self) -> None:
        snap = self.snapshot
        if snap is None:
            self.app.push_screen(ErrorInspector(()))
            return
        self.app.push_screen(ErrorInspector(snap.recent_errors, snap.error_messages))

    def action_cycle_view(self) -> None:
        self.view = self.VIEWS[(self.VIEWS.index(self.view) + 1) % len(self.VIEWS)]

    def action_cycle_sort(self) -> None:
        """Sort by the next column; in a small terminal the first press shows the table."""
        if self.compact and self.view != "requests":
            self.view = "requests"
            return
        self.query_one(RequestTable).cycle_sort()

    def action_toggle_workers(self) -> None:
        self.query_one(WorkerTable).toggle()

    def action_detach(self) -> None:
        if self.bridge is not None:
            self.bridge.stop(wait=2.0)
        self._leave()

    def action_back(self) -> None:
        self._leave()

    def _leave(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        else:
            self.app.exit()
