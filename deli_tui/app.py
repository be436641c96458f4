"""The deli-tui application: two modes (requests, scenarios), global keys, command palette.

Kept thin on purpose: screens own their work; the app only switches between them (and
between collections), starts runs (asking once before the first one that targets a host off
this machine), opens the settings dialog and quits.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from deli_tui.commands import CollectionCommands, JumpTo, KeyActions
from deli_tui.run_files import export_run
from deli_tui.screens.collection import CollectionScreen
from deli_tui.screens.compare import CompareScreen
from deli_tui.screens.confirm import ChoiceScreen, TextPromptScreen
from deli_tui.screens.export import Chosen, ExportRequested, ExportScreen
from deli_tui.screens.help import HelpScreen, HelpSection
from deli_tui.screens.run import RunScreen
from deli_tui.screens.runs import RunsScreen
from deli_tui.screens.scenario import ScenarioScreen
from deli_tui.screens.session_variables import SessionVariablesScreen
from deli_tui.screens.settings import SettingsScreen
from deli_tui.screens.smoke import SmokeScreen
from deli_tui.widgets.collection_tree import CollectionTree
from deli_tui.widgets.key_footer import key_label
from deli_tui.widgets.scenario_list import ScenarioList
from deli_tui.workspace import Workspace, non_local_hosts
from engine.collection.model import ScenarioDef
from engine.errors import CollectionError
from engine.history.compare import compare_runs
from engine.history.saved_run import SavedRun
from engine.plan.model import RunPlan
from engine.units import format_bytes


class DeliApp(App[int]):
    """The full-screen app on one collection directory."""

    CSS_PATH = "app.tcss"
    TITLE = "deli-tui"
    COMMANDS: ClassVar[set] = App.COMMANDS | {  # type: ignore[type-arg]
        KeyActions,
        JumpTo,
        CollectionCommands,
    }
    MODES_SHOWN = ("requests", "scenarios", "runs")
    _SCREENS = Binding.Group("screens", compact=False)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+q",
            "quit",
            "Quit",
            priority=True,
            id="app.quit",
            tooltip="Quit from anywhere; a running load stops first",
        ),
        Binding("f1,question_mark", "help", "Help", id="app.help", tooltip="Every key, per screen"),
        Binding(
            "f2",
            "switch_mode('requests')",
            "Requests",
            id="app.requests",
            group=_SCREENS,
            tooltip="The requests: tree, editor, send",
        ),
        Binding(
            "f3",
            "switch_mode('scenarios')",
            "Scenarios",
            id="app.scenarios",
            group=_SCREENS,
            tooltip="The load scenarios: edit, preview, run",
        ),
        Binding(
            "f7",
            "switch_mode('runs')",
            "Runs",
            id="app.runs",
            group=_SCREENS,
            tooltip="The runs saved in .deli/runs: open, compare, export",
        ),
        Binding(
            "f8",
            "settings",
            "Settings",
            id="app.settings",
            tooltip="The collection's name, base_url, variables, headers, timeout, env file",
        ),
        Binding(
            "f9",
            "smoke",
            "Smoke check",
            id="app.smoke",
            tooltip="Send each request (or the scenario shown) once and show every check",
        ),
    ]

    def __init__(self, workspace: Workspace, *, run_scenario: str | None = None) -> None:
        super().__init__()
        self.workspace = workspace
        self.run_scenario = run_scenario
        self.remote_confirmed = False
        self.editors: list[CollectionScreen | ScenarioScreen] = []

    def _make_screen(self, cls: type[CollectionScreen | ScenarioScreen]) -> Any:
        screen = cls(self.workspace)
        self.editors.append(screen)
        return screen

    def unsaved_edits(self) -> list[str]:
        """What would be left unsaved: request paths and scenario names with drafts."""
        return [name for screen in self.editors for name in sorted(screen.drafts)]

    def _add_modes(self) -> None:
        self.add_mode("requests", partial(self._make_screen, CollectionScreen))
        self.add_mode("scenarios", partial(self._make_screen, ScenarioScreen))
        self.add_mode(
            "runs",
            lambda: RunsScreen(self.workspace.runs_dir, self.workspace.collection.name),
        )

    def on_mount(self) -> None:
        self._add_modes()
        self.switch_mode("requests")
        if self.run_scenario is not None:
            self.call_after_refresh(self.start_run, self.run_scenario)

    # -- jumps (the command palette) and collections ----------------------------------------
    def _editor(self, kind: type[Any]) -> Any:
        return next(screen for screen in self.editors if isinstance(screen, kind))

    async def open_request(self, relpath: Path) -> None:
        """Show the requests screen with ``relpath`` selected."""
        await self.switch_mode("requests")
        screen: CollectionScreen = self._editor(CollectionScreen)
        screen.request_tree.move_to(relpath)
        screen.request_tree.focus()

    async def open_scenario(self, name: str) -> None:
        """Show the scenarios screen with ``name`` open."""
        await self.switch_mode("scenarios")
        screen: ScenarioScreen = self._editor(ScenarioScreen)
        screen.open_scenario(name)
        screen.refresh_list()

    def action_new_collection(self) -> None:
        """Ask for a directory, create a collection there and open it."""
        from engine.collection.scaffold import create_collection

        def created(path: str | None) -> None:
            if not path:
                return
            try:
                collection = create_collection(Path(path).expanduser())
            except (OSError, CollectionError) as exc:
                self.notify(f"No collection created: {exc}", severity="error", timeout=10)
                return
            self.open_collection(collection.root)

        default = self.workspace.root.parent / "new-collection"
        prompt = "Directory of the new collection (made if missing):"
        self.push_screen(TextPromptScreen("New collection", prompt, str(default)), created)

    def open_collection(self, root: Path) -> None:
        """Show the collection at ``root`` instead of this one (asking first when there are
        unsaved edits: they stay as recovery copies, offered when this one opens again)."""
        try:
            workspace = open_workspace(root, None, None)
        except CollectionError as exc:
            self.notify(f"Cannot open {root}: {exc}", severity="error", timeout=10)
            return
        unsaved = self.unsaved_edits()
        if not unsaved:
            self.run_worker(self._switch_to(workspace), exclusive=True, group="collection")
            return

        def chosen(answer: str | None) -> None:
            if answer == "open":
                self.run_worker(self._switch_to(workspace), exclusive=True, group="collection")

        listed = ", ".join(unsaved[:5]) + (" ..." if len(unsaved) > 5 else "")
        question = (
            f"Unsaved edits: {listed}.\nThey are kept as recovery copies and offered when this "
            f"collection opens again. Open {workspace.collection.name} now?"
        )
        choices = (("Open", "open", "warning"), ("Stay", "stay", "primary"))
        self.push_screen(
            ChoiceScreen("Open another collection?", question, choices, cancel_value="stay"),
            chosen,
        )

    async def _switch_to(self, workspace: Workspace) -> None:
        """Replace the screens of every mode with new ones on ``workspace``."""
        self.add_mode("opening", Screen)
        await self.switch_mode("opening")
        for mode in self.MODES_SHOWN:
            await self.remove_mode(mode)
        self.editors.clear()
        self.workspace = workspace
        self.remote_confirmed = False
        self._add_modes()
        await self.switch_mode("requests")
        await self.remove_mode("opening")
        self.notify(f"Opened {workspace.collection.name} ({workspace.root})")

    def action_settings(self) -> None:
        """The collection settings dialog; once saved, the screens show the new name."""
        from deli_tui.drafting.settings_draft import draft_from_collection

        collection = self.workspace.collection
        draft = draft_from_collection(collection)

        def closed(saved: bool | None) -> None:
            if saved:
                for screen in self.editors:
                    screen.show_collection_name()
                self.notify("Saved the settings to collection.yaml")

        self.push_screen(SettingsScreen(collection, draft, self.workspace.save_settings), closed)

    def get_key_display(self, binding: Binding) -> str:
        return key_label(binding)

    @classmethod
    def help_sections(cls) -> list[HelpSection]:
        return [
            (
                "Everywhere",
                [
                    *cls.BINDINGS,
                    Binding(
                        "ctrl+p",
                        "",
                        "Command palette",
                        id="app.palette",
                        tooltip="Every action, and a jump to any request, scenario or run",
                    ),
                ],
            ),
            ("Requests screen", CollectionScreen.BINDINGS),
            ("Request tree (when focused)", CollectionTree.BINDINGS),
            ("Scenarios screen", ScenarioScreen.BINDINGS),
            ("Scenario list (when focused)", ScenarioList.BINDINGS),
            ("Run dashboard", RunScreen.BINDINGS),
            ("Session variables (F6 on the requests screen)", SessionVariablesScreen.BINDINGS),
            ("Runs screen", RunsScreen.BINDINGS),
            ("Compare screen", CompareScreen.BINDINGS),
            ("Collection settings (F8)", SettingsScreen.BINDINGS),
            ("Smoke check (F9)", SmokeScreen.BINDINGS),
            (
                "Dialogs",
                [*ChoiceScreen.BINDINGS, *TextPromptScreen.BINDINGS, *ExportScreen.BINDINGS],
            ),
        ]

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.help_sections()))

    async def action_quit(self) -> None:
        """Quit from anywhere; a running load stops as its screen unmounts. With unsaved
        edits, ask first (they stay as recovery copies either way); ctrl+q again quits."""
        unsaved = self.unsaved_edits()
        if not unsaved or (isinstance(self.screen, ChoiceScreen) and self.screen.id == "quit"):
            self.exit(0)
            return
        listed = ", ".join(unsaved[:5]) + (" ..." if len(unsaved) > 5 else "")
        question = (
            f"Unsaved edits: {listed}.\nThey are kept as recovery copies and offered at the "
            "next start. Quit now?"
        )
        dialog = ChoiceScreen(
            "Quit with unsaved edits?",
            question,
            (("Quit", "quit", "warning"), ("Stay", "stay", "primary")),
            cancel_value="stay",
        )
        dialog.id = "quit"
        self.push_screen(dialog, lambda answer: self.exit(0) if answer == "quit" else None)

    def on_scenario_screen_run_requested(self, message: ScenarioScreen.RunRequested) -> None:
        self.start_run(message.scenario, message.draft)

    def start_run(self, scenario_name: str | None, draft: ScenarioDef | None = None) -> None:
        """Build the plan and open the run dashboard; asks first if a target is not local."""
        try:
            plan = self.workspace.plan_for(scenario_name, draft)
        except CollectionError as exc:
            self.notify(f"Cannot run: {exc}", severity="error", timeout=10)
            return
        remote = non_local_hosts(plan)
        if remote and not self.remote_confirmed:
            question = (
                f"This run sends load to {', '.join(remote)}, which is not this machine.\n"
                "Only load-test servers you own or may test. Run it?"
            )

            def chosen(answer: str | None) -> None:
                if answer == "yes":
                    self.remote_confirmed = True
                    self._open_run(plan)

            self.push_screen(
                ChoiceScreen(
                    "Load a remote host?",
                    question,
                    (("Run", "yes", "warning"), ("Cancel", "no", "default")),
                    cancel_value="no",
                ),
                chosen,
            )
            return
        self._open_run(plan)

    def action_smoke(self) -> None:
        """Send each request once: the scenario shown on the scenarios screen (its flow
        included), or else every request of the collection."""
        screen = self.screen
        scenario = screen.current if isinstance(screen, ScenarioScreen) else None
        try:
            plans = self.workspace.smoke_plans(scenario)
        except CollectionError as exc:
            self.notify(f"Cannot check: {exc}", severity="error", timeout=10)
            return
        what = f"scenario {scenario}" if scenario else "every request"
        self.push_screen(SmokeScreen(plans, what))

    def _open_run(self, plan: RunPlan) -> None:
        self.push_screen(RunScreen.for_plan(plan, runs_dir=self.workspace.runs_dir))

    def on_runs_screen_open_run(self, message: RunsScreen.OpenRun) -> None:
        self.open_saved_run(message.run)

    def open_saved_run(self, run: SavedRun) -> None:
        """A saved run's dashboard as it ended (from the runs screen or the palette)."""
        self.push_screen(RunScreen.for_saved(run))

    def on_runs_screen_compare_runs(self, message: RunsScreen.CompareRuns) -> None:
        self.push_screen(CompareScreen(compare_runs(message.a, message.b)))

    def on_export_requested(self, message: ExportRequested) -> None:
        """Ask for a format and a file, then write the report."""
        source = message.source

        def write(choice: Chosen | None) -> None:
            if choice is None:
                return
            kind, path = choice
            try:
                size = export_run(source, kind, path)
            except (OSError, ValueError) as exc:
                self.notify(f"Export failed: {exc}", severity="error", timeout=10)
                return
            self.notify(f"Wrote {path} ({format_bytes(size)})", timeout=6)

        self.push_screen(ExportScreen(source, Path.cwd()), write)


def open_workspace(root: Path, env_file: Path | None, base_url: str | None) -> Workspace:
    """Load the collection at ``root`` (raises ``CollectionError`` with file:line problems)."""
    workspace = Workspace(root, env_file=env_file, base_url_override=base_url)
    workspace.load()
    return workspace
