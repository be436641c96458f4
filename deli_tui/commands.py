"""The command palette's entries: every bound action, a jump to any request or scenario by
name, and the commands that have no key (a new collection). Each entry has a description.

The providers read what to list from the app and call back into it; they open nothing on
their own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode
from textual.widget import Widget

if TYPE_CHECKING:
    from pathlib import Path

    from deli_tui.workspace import Workspace
    from engine.history.saved_run import SavedRun


@dataclass(frozen=True, slots=True)
class Command:
    """One palette entry: what it says, what it does, and a line saying what that is."""

    name: str
    run: Callable[[], Any]
    description: str


class Jumps(Protocol):
    """What the palette needs from the app to jump somewhere."""

    workspace: Workspace

    def open_request(self, relpath: Path) -> None: ...

    def open_scenario(self, name: str) -> None: ...

    def action_new_collection(self) -> None: ...

    def open_saved_run(self, run: SavedRun) -> None: ...


class ListedCommands(Provider):
    """A provider of a list of ``Command``: discovery shows them all, search matches names."""

    def commands(self) -> list[Command]:
        raise NotImplementedError

    async def discover(self) -> Hits:
        for command in self.commands():
            yield DiscoveryHit(command.name, command.run, help=command.description)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self.commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(command.name), command.run, help=command.description
                )


class KeyActions(ListedCommands):
    """Every bound action of the app, the current screen and its widgets, as palette entries."""

    def _nodes(self) -> Iterator[DOMNode]:
        yield self.app
        screen = self.screen
        if type(screen).COMMANDS:  # the screen lists its own actions (the run dashboard)
            return
        yield screen
        for widget in screen.walk_children(Widget):
            if type(widget).__module__.startswith("deli_tui.") and widget.BINDINGS:
                yield widget

    def commands(self) -> list[Command]:
        found: list[Command] = []
        seen: set[tuple[int, str]] = set()
        for node in self._nodes():
            for bindings in node._bindings.key_to_bindings.values():
                for binding in bindings:
                    if not binding.description or (id(node), binding.action) in seen:
                        continue
                    seen.add((id(node), binding.action))
                    if self.app._check_action_state(binding.action, node) is False:
                        continue
                    keys = self.app.get_key_display(binding)
                    run = partial(self.app.run_action, binding.action, node)
                    what = binding.tooltip or binding.description
                    found.append(Command(binding.description, run, f"{what} ({keys})"))
        return found

    def _commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        """(name, callback, description) of each entry (what the tests read)."""
        return [(c.name, c.run, c.description) for c in self.commands()]


class RunCommands(ListedCommands):
    """The run dashboard's keys that apply now (the palette there lists only these)."""

    def commands(self) -> list[Command]:
        screen = self.screen
        found = []
        for binding in screen.BINDINGS:
            if not isinstance(binding, Binding) or not binding.description:
                continue
            if screen.check_action(binding.action.split("(")[0], ()) is not True:
                continue
            what = binding.tooltip or binding.description
            found.append(
                Command(
                    f"Run: {binding.description}",
                    partial(screen.run_action, binding.action),
                    f"{what} ({self.app.get_key_display(binding)})",
                )
            )
        return found

    def _commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        return [(c.name, c.run, c.description) for c in self.commands()]


class JumpTo(ListedCommands):
    """Every request, scenario and saved run of the open collection by name: typing ``smoke``
    finds the scenario smoke (and its runs), ``get user`` the request; choosing one opens it.
    The saved runs are read once, when the palette opens."""

    async def startup(self) -> None:
        from engine.history.saved_run import discover_runs

        app: Jumps = self.app  # type: ignore[assignment]
        self._runs = await asyncio.to_thread(discover_runs, app.workspace.runs_dir)

    def _run_commands(self) -> list[Command]:
        app: Jumps = self.app  # type: ignore[assignment]
        found = []
        for run in getattr(self, "_runs", []):
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.when)) if run.when else "?"
            found.append(
                Command(
                    f"Run: {run.scenario} {when}",
                    partial(app.open_saved_run, run),
                    f"{run.requests} requests, {run.rps:.0f} req/s, {run.reason} ({run.name})",
                )
            )
        return found

    def commands(self) -> list[Command]:
        app: Jumps = self.app  # type: ignore[assignment]
        collection = app.workspace.collection
        found = [
            Command(
                f"Request: {req.name}",
                partial(app.open_request, req.relpath),
                f"{req.method} {req.url} ({req.relpath.as_posix()})",
            )
            for req in collection.requests
        ]
        for name, scenario in collection.scenarios.items():
            load = f"{scenario.users} users" if scenario.model == "closed" else "rate"
            if scenario.model == "open":
                load = f"{scenario.rate:g} req/s"
            found.append(
                Command(
                    f"Scenario: {name}",
                    partial(app.open_scenario, name),
                    f"{scenario.model} model, {scenario.profile}, {load}",
                )
            )
        return found + self._run_commands()

    async def search(self, query: str) -> Hits:
        """As every list, and an entry whose name is the query itself comes first: ``smoke``
        then Enter opens the scenario smoke, not the Smoke check command that also matches."""
        matcher = self.matcher(query)
        wanted = query.strip().casefold()
        for command in self.commands():
            score = matcher.match(command.name)
            if score > 0:
                if command.name.partition(": ")[2].casefold() == wanted:
                    score += 1.0  # above any fuzzy match, which scores at most 1
                yield Hit(
                    score, matcher.highlight(command.name), command.run, help=command.description
                )


class CollectionCommands(ListedCommands):
    """Commands on collections that have no key of their own."""

    def commands(self) -> list[Command]:
        app: Jumps = self.app  # type: ignore[assignment]
        return [
            Command(
                "New collection",
                app.action_new_collection,
                "Create a collection in a new directory (a smoke scenario, a request), open it",
            )
        ]
