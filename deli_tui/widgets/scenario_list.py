"""The list of scenarios on the scenarios screen; its letter keys act on the highlighted one."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import OptionList


class ScenarioList(OptionList):
    """Scenario names (``*``: unsaved edits). ``r`` renames and ``x``/delete deletes the
    highlighted scenario; the screen does the work (prompt, confirm, save)."""

    _EDIT = Binding.Group("edit scenarios", compact=False)
    BINDINGS = [
        Binding(
            "r",
            "screen.rename_scenario",
            "Rename",
            id="scenarios.rename",
            group=_EDIT,
            tooltip="Rename the scenario in collection.yaml",
        ),
        Binding(
            "delete,x",
            "screen.delete_scenario",
            "Delete",
            id="scenarios.delete",
            group=_EDIT,
            tooltip="Delete the scenario from collection.yaml (asks first)",
        ),
    ]
