"""The help screen: every key of every screen, generated from the bindings themselves."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from deli_tui.widgets.key_footer import KeyFooter, key_label

HelpSection = tuple[str, Sequence[BindingType]]

INTRO = (
    "deli-tui: keep requests as YAML files, edit them here, send one, or run a scenario "
    "and watch its latency live. Everything works from the keyboard: ^ means ctrl (^s is "
    "ctrl+s); ^p opens the command palette with every action and a jump to any request, "
    "scenario or past run; tab / shift+tab move focus."
)


def key_rows(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    """(keys, description) for each binding that has a description, keys joined by ' / '."""
    rows: list[tuple[str, str]] = []
    for binding in Binding.make_bindings(bindings):
        if not binding.description:
            continue
        keys = key_label(binding)
        if (keys, binding.description) in rows:
            continue
        if rows and rows[-1][1] == binding.description:
            if keys not in rows[-1][0].split(" / "):
                rows[-1] = (f"{rows[-1][0]} / {keys}", binding.description)
        else:
            rows.append((keys, binding.description))
    return rows


FOOTER_FIRST = ("app.help", "app.requests", "app.scenarios", "app.runs")


class HelpKeyFirst(Screen):  # type: ignore[type-arg]
    """A screen whose footer starts with F1 Help and the screen keys (F2, F3), so that a narrow
    terminal cuts off the last context keys (all listed by F1) and never the way to them."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        found = super().active_bindings
        rank = {binding_id: n for n, binding_id in enumerate(FOOTER_FIRST)}
        first = sorted(
            (key for key, active in found.items() if active.binding.id in rank),
            key=lambda key: rank[found[key].binding.id or ""],
        )
        return {**{key: found[key] for key in first}, **found}


class HelpScreen(ModalScreen[None]):
    """Lists the keys per screen; escape, q or F1 closes it."""

    BINDINGS = [
        Binding(
            "escape,q,f1",
            "close",
            "Close help",
            id="help.close",
            tooltip="Back to the screen you were on",
        ),
    ]

    def __init__(self, sections: Sequence[HelpSection]) -> None:
        super().__init__(id="help-screen")
        self.sections = list(sections)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Label("Keys", id="help-title")
            yield Static(INTRO, id="help-intro", markup=False)
            for title, bindings in self.sections:
                rows = key_rows(bindings)
                if not rows:
                    continue
                table = Table(title=title, title_justify="left", expand=True, box=None)
                table.add_column("key", style="bold", no_wrap=True, ratio=1)
                table.add_column("action", ratio=4)
                tooltips = {
                    b.description: b.tooltip for b in Binding.make_bindings(bindings) if b.tooltip
                }
                for keys, description in rows:
                    action = Text(description)
                    if tooltips.get(description):
                        action.append(f"  {tooltips[description]}", style="dim")
                    table.add_row(Text(keys), action)
                yield Static(table, classes="help-section")
        yield KeyFooter(compact=False)

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
