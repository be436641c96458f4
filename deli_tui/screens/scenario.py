"""The scenario screen: pick or create a scenario, edit its load, preview it, save, run it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Label, OptionList
from textual.widgets.option_list import Option

from deli_tui.data_preview import data_preview
from deli_tui.drafting.conflict import ask_about_conflict
from deli_tui.drafting.drafts import FieldProblem
from deli_tui.drafting.keeper import DraftKeeper
from deli_tui.drafting.recovery import RecoveryStore
from deli_tui.drafting.scenario_draft import ScenarioDraft, draft_from_scenario, scenario_from_draft
from deli_tui.screens.confirm import ChoiceScreen, TextPromptScreen
from deli_tui.screens.help import HelpKeyFirst
from deli_tui.widgets.key_footer import KeyFooter
from deli_tui.widgets.load_preview import LoadPreview
from deli_tui.widgets.scenario_form import ScenarioForm
from deli_tui.widgets.scenario_list import ScenarioList
from engine.collection.model import ScenarioDef
from engine.errors import CollectionError

if TYPE_CHECKING:
    from deli_tui.workspace import Workspace


class ScenarioScreen(HelpKeyFirst, Screen[None]):
    """Scenarios of collection.yaml: list on the left, form and live preview on the right."""

    BINDINGS = [
        Binding(
            "ctrl+s",
            "save",
            "Save",
            id="scenarios.save",
            tooltip="Write the scenario into collection.yaml",
        ),
        Binding(
            "ctrl+r,f5",
            "run",
            "Run scenario",
            id="scenarios.run",
            tooltip="Start a load run of this scenario (unsaved edits included)",
        ),
        Binding(
            "ctrl+n",
            "new",
            "New scenario",
            id="scenarios.new",
            tooltip="Add a scenario; it is saved with ctrl+s",
        ),
        Binding(
            "ctrl+t",
            "focus_list",
            "List",
            id="scenarios.focus_list",
            tooltip="Move to the list of scenarios",
        ),
    ]

    class RunRequested(Message):
        """The user asked to run ``scenario``; ``draft`` is its unsaved version, if edited."""

        def __init__(self, scenario: str, draft: ScenarioDef | None) -> None:
            super().__init__()
            self.scenario = scenario
            self.draft = draft

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(id="scenario-screen")
        self.workspace = workspace
        self.current: str | None = None
        store = RecoveryStore(workspace.root)
        self.keeper = DraftKeeper(self, store, "scenario", ScenarioDraft)
        self.new_scenarios: dict[str, ScenarioDef] = {}
        self._previewed: tuple[str, str] | None = None  # (data file, as) shown in the preview

    @property
    def drafts(self) -> dict[str, ScenarioDraft]:
        """The unsaved drafts by scenario name (new scenarios have one until saved)."""
        return self.keeper.drafts

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="scenario-body"):
            with Vertical(id="scenario-side"):
                yield Label("Scenarios", classes="pane-title")
                yield ScenarioList(id="scenario-list")
            with Vertical(id="scenario-main"):
                yield ScenarioForm(id="scenario-form")
                yield LoadPreview(id="load-preview")
        yield KeyFooter()

    @property
    def form(self) -> ScenarioForm:
        return self.query_one("#scenario-form", ScenarioForm)

    @property
    def preview(self) -> LoadPreview:
        return self.query_one("#load-preview", LoadPreview)

    def on_mount(self) -> None:
        self.sub_title = "Scenarios"
        self.show_collection_name()
        names = self.scenario_names()
        if names:
            self.open_scenario(names[0])
        else:
            self.show_empty()
        self.refresh_list()  # with the open scenario highlighted: Enter then opens its form
        self.query_one("#scenario-list", OptionList).focus()
        self.call_after_refresh(self.offer_recovery)

    def show_collection_name(self) -> None:
        self.title = f"deli-tui: {self.workspace.collection.name}"

    # -- list -----------------------------------------------------------------------------
    def scenario_names(self) -> list[str]:
        return [*self.workspace.collection.scenarios, *self.new_scenarios]

    def base(self, name: str) -> ScenarioDef | None:
        return self.workspace.collection.scenarios.get(name) or self.new_scenarios.get(name)

    def refresh_list(self) -> None:
        option_list = self.query_one("#scenario-list", OptionList)
        option_list.clear_options()
        for name in self.scenario_names():
            mark = " *" if name in self.drafts else ""
            option_list.add_option(Option(f"{name}{mark}", id=name))
        if self.current is not None and self.current in self.scenario_names():
            option_list.highlighted = self.scenario_names().index(self.current)

    @on(OptionList.OptionHighlighted, "#scenario-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        name = event.option.id
        if name is not None and name != self.current:
            self.open_scenario(name)

    @on(OptionList.OptionSelected, "#scenario-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.open_scenario(event.option.id)
            # after the list has finished handling its Enter, or it keeps the focus
            self.call_after_refresh(self.form.query_one("#field-model").focus)

    def open_scenario(self, name: str) -> None:
        base = self.base(name)
        if base is None:
            return
        self.current = name
        self.form.disabled = False
        draft = self.drafts.get(name) or draft_from_scenario(base)
        self.form.load(draft)
        self.form.border_title = self._form_title()
        self.validate(draft)

    def show_empty(self) -> None:
        """No scenario to show: the form is disabled and the preview says how to make one."""
        self.current = None
        self.form.disabled = True
        self.form.border_title = ""
        self.preview.show(None, "users", "No scenario yet: ctrl+n creates one.")

    def _form_title(self) -> str:
        if self.current is None:
            return ""
        return f"scenario {self.current}{' *' if self.current in self.drafts else ''}"

    # -- editing ------------------------------------------------------------------------------
    def validate(self, draft: ScenarioDraft) -> ScenarioDef | None:
        """Show the draft's problems inline and its load in the preview."""
        assert self.current is not None
        base = self.base(self.current)
        assert base is not None
        scenario, problems = scenario_from_draft(draft, base)
        for name in scenario.setup if scenario is not None else ():
            if self.workspace.collection.find_request(name) is None:
                problems.append(FieldProblem("setup", f"no request named {name!r}"))
                scenario = None
        self.form.show_problems(problems)
        self._show_data_preview(draft)
        unit = "users" if draft.model == "closed" else "requests/s"
        if scenario is None:
            self.preview.show(None, unit, "Preview waits for valid values.")
            return None
        from engine.plan.build import profile_from_scenario

        try:
            profile = profile_from_scenario(scenario)
        except (CollectionError, ValueError) as exc:
            self.preview.show(None, unit, f"Cannot plan this load: {exc}")
            return None
        self.preview.show(profile, unit)
        return scenario

    def _show_data_preview(self, draft: ScenarioDraft) -> None:
        """The data file's columns and first rows under its fields (read again only when
        the file or the ``as`` name changed)."""
        key = (draft.data_file.strip(), draft.data_as.strip())
        if key != self._previewed:
            self._previewed = key
            self.form.show_data_preview(data_preview(self.workspace.collection, *key))

    @on(ScenarioForm.Edited)
    def _edited(self, event: ScenarioForm.Edited) -> None:
        if self.current is None:
            return
        draft = self.form.read_draft()  # now: the event may predate the last load
        self.validate(draft)
        base = self.base(self.current)
        saved = draft_from_scenario(base) if base is not None else None
        was_dirty = self.current in self.drafts
        dirty = draft != saved or self.current in self.new_scenarios
        self.keeper.update(self.current, draft if dirty else None)
        if was_dirty != dirty:
            self.refresh_list()
        self.form.border_title = self._form_title()

    # -- recovery ----------------------------------------------------------------------------------
    def on_unmount(self) -> None:
        self.keeper.flush()

    def offer_recovery(self) -> None:
        """After a crash: offer the recovery copies that differ from collection.yaml (a copy
        of a scenario that was never saved is offered as a new one)."""

        def stale(name: str, draft: ScenarioDraft) -> bool:
            base = self.base(name)
            return base is not None and draft == draft_from_scenario(base)

        def restore(found: dict[str, ScenarioDraft]) -> None:
            for name, draft in found.items():
                if self.base(name) is None:
                    self.new_scenarios[name] = ScenarioDef(name=name)
                self.keeper.update(name, draft)
            self.refresh_list()
            if self.current in found or self.current is None:
                self.open_scenario(next(iter(found)) if self.current is None else self.current)

        self.keeper.offer(stale=stale, restore=restore)

    # -- actions ------------------------------------------------------------------------
    def action_focus_list(self) -> None:
        self.query_one("#scenario-list", OptionList).focus()

    def action_new(self) -> None:
        def named(name: str | None) -> None:
            if not name:
                return
            self.new_scenarios[name] = ScenarioDef(name=name)
            self.keeper.update(name, draft_from_scenario(self.new_scenarios[name]))
            self.current = None
            self.refresh_list()
            self.open_scenario(name)
            self.query_one("#scenario-list", OptionList).highlighted = self.scenario_names().index(
                name
            )

        self.app.push_screen(
            TextPromptScreen("New scenario", "Name of the new scenario:", "", self._name_problem),
            named,
        )

    def current_scenario(self) -> ScenarioDef | None:
        """The form's scenario when valid (problems shown inline otherwise)."""
        if self.current is None:
            return None
        scenario = self.validate(self.form.read_draft())
        if scenario is None:
            self.notify("Fix the problems shown under the fields first", severity="error")
        return scenario

    def action_save(self, overwrite: bool = False) -> None:
        from engine.collection.saver import FileChangedError

        scenario = self.current_scenario()
        if scenario is None:
            return
        try:
            self.workspace.save_scenario(scenario, overwrite=overwrite)
        except FileChangedError:
            self._ask_about_conflict(lambda: self.action_save(overwrite=True))
            return
        except (OSError, CollectionError) as exc:
            self.notify(f"Not saved: {exc}", severity="error")
            return
        self.new_scenarios.pop(scenario.name, None)
        self.keeper.take(scenario.name)
        self.refresh_list()
        self.form.border_title = self._form_title()
        self.notify(f"Saved scenario {scenario.name} to collection.yaml")

    def _ask_about_conflict(self, overwrite: Callable[[], None]) -> None:
        ask_about_conflict(self.app, "collection.yaml", overwrite=overwrite)

    # -- rename and delete ---------------------------------------------------------------------
    def _name_problem(self, name: str) -> str | None:
        if name in self.scenario_names():
            return f"a scenario named {name!r} exists already"
        if any(c.isspace() for c in name):
            return "use a name without spaces, e.g. smoke or soak-1h"
        return None

    def action_rename_scenario(self) -> None:
        old = self.current
        if old is None:
            self.notify("No scenario to rename", severity="warning")
            return

        def problem(name: str) -> str | None:
            return None if name == old else self._name_problem(name)

        def named(name: str | None) -> None:
            if name and name != old:
                self.rename_scenario(old, name)

        self.app.push_screen(
            TextPromptScreen("Rename scenario", f"New name for scenario {old}:", old, problem),
            named,
        )

    def rename_scenario(self, old: str, new: str, *, overwrite: bool = False) -> None:
        """Rename ``old`` to ``new``: in collection.yaml when saved there, else in memory.
        Unsaved edits follow the scenario to its new name."""
        from engine.collection.saver import FileChangedError

        if old in self.new_scenarios:
            self.new_scenarios = {
                (new if n == old else n): (dataclasses.replace(s, name=new) if n == old else s)
                for n, s in self.new_scenarios.items()
            }
        else:
            try:
                self.workspace.rename_scenario(old, new, overwrite=overwrite)
            except FileChangedError:
                self._ask_about_conflict(lambda: self.rename_scenario(old, new, overwrite=True))
                return
            except (OSError, CollectionError) as exc:
                self.notify(f"Not renamed: {exc}", severity="error")
                return
        draft = self.keeper.take(old)
        if draft is not None:
            self.keeper.update(new, draft)
        self.current = None
        self.open_scenario(new)
        self.refresh_list()
        saved = "" if new in self.new_scenarios else " in collection.yaml"
        self.notify(f"Renamed scenario {old} to {new}{saved}")

    def action_delete_scenario(self) -> None:
        name = self.current
        if name is None:
            self.notify("No scenario to delete", severity="warning")
            return
        where = "" if name in self.new_scenarios else " from collection.yaml"
        lost = " Its unsaved edits are lost too." if name in self.drafts else ""

        def chosen(answer: str | None) -> None:
            if answer == "delete":
                self.delete_scenario(name)

        self.app.push_screen(
            ChoiceScreen(
                "Delete scenario",
                f"Delete scenario {name}{where}?{lost}",
                (("Delete", "delete", "error"), ("Cancel", "cancel", "default")),
                cancel_value="cancel",
            ),
            chosen,
        )

    def delete_scenario(self, name: str, *, overwrite: bool = False) -> None:
        """Remove ``name`` (from collection.yaml when saved there) with its unsaved edits."""
        from engine.collection.saver import FileChangedError

        names = self.scenario_names()
        if name in self.new_scenarios:
            del self.new_scenarios[name]
        else:
            try:
                self.workspace.delete_scenario(name, overwrite=overwrite)
            except FileChangedError:
                self._ask_about_conflict(lambda: self.delete_scenario(name, overwrite=True))
                return
            except (OSError, CollectionError) as exc:
                self.notify(f"Not deleted: {exc}", severity="error")
                return
        self.keeper.take(name)
        remaining = self.scenario_names()
        if remaining:
            index = min(names.index(name) if name in names else 0, len(remaining) - 1)
            self.current = None
            self.open_scenario(remaining[index])
        else:
            self.show_empty()
        self.refresh_list()
        self.notify(f"Deleted scenario {name}")

    def action_run(self) -> None:
        scenario = self.current_scenario()
        if scenario is None:
            return
        draft = scenario if self.current in self.drafts else None
        self.post_message(self.RunRequested(scenario.name, draft))
