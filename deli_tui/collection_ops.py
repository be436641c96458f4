"""New, duplicate, rename, move and delete of requests and folders, asked through dialogs.

Each operation goes through the engine's saver, then the collection is reloaded from disk.
The operations know the workspace and the keys of the unsaved drafts; they report what
changed on disk as one ``TreeChange`` to a callback, and the screen shows it (the tree
redrawn, drafts following a renamed or moved request, the editor on the new file).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from deli_tui.screens.confirm import ChoiceScreen, TextPromptScreen
from deli_tui.widgets.collection_tree import TreeEntry
from engine.errors import CollectionError

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel
    from textual.screen import Screen

    from deli_tui.workspace import Workspace
    from engine.collection.model import RequestDef

T = TypeVar("T")

_FOLDER_NAME = re.compile(r"^[\w.-]+(/[\w.-]+)*$")

Ask = Callable[["Screen[Any]", Callable[[str | None], None]], object]
"""Show a dialog and call back with its answer (``App.push_screen``)."""


class Notify(Protocol):
    """Tell the user something (``Screen.notify``)."""

    def __call__(self, message: str, *, severity: SeverityLevel = "information") -> None: ...


@dataclass(frozen=True, slots=True)
class TreeChange:
    """What one operation changed on disk, for the screen to show."""

    select: Path | None = None  # the tree node to put the cursor on
    show: Path | None = None  # the request to show in the editor (None: the current one)
    moved: tuple[tuple[Path, Path], ...] = ()  # requests now at a new path: (old, new)
    deleted: Path | None = None  # a request or folder gone, with everything under it


def file_stem_for(name: str) -> str:
    """A file name for a request called ``name``: ``List users`` -> ``list_users``."""
    stem = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return stem or "request"


def folder_name_problem(text: str) -> str | None:
    if text.startswith(".") or ".." in text.split("/") or not _FOLDER_NAME.match(text):
        return "use letters, digits, '-', '_' and '/' between folder names"
    return None


def _folder_of(entry: TreeEntry | None) -> Path:
    if entry is None:
        return Path()
    return entry.relpath if entry.kind == "folder" else entry.relpath.parent


class CollectionOps:
    """The tree commands on one workspace. ``unsaved`` holds the keys (relpaths) of the
    requests with unsaved drafts; ``changed`` receives what each operation did on disk."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        unsaved: Collection[str],
        ask: Ask,
        notify: Notify,
        changed: Callable[[TreeChange], None],
    ) -> None:
        self.workspace = workspace
        self._unsaved = unsaved
        self._ask_with = ask
        self._notify = notify
        self._changed = changed
        self._commands: dict[str, Callable[[TreeEntry | None], None]] = {
            "new_request": self.new_request,
            "new_folder": self.new_folder,
            "duplicate": self.duplicate,
            "rename": self.rename,
            "move": self.move,
            "delete": self.delete,
        }

    def run(self, command: str, entry: TreeEntry | None) -> None:
        """Do the tree command ``command`` (a ``CollectionTree.Command``) on ``entry``."""
        operation = self._commands.get(command)
        if operation is not None:
            operation(entry)

    def _request_of(self, entry: TreeEntry | None) -> RequestDef | None:
        if entry is None or entry.kind != "request":
            self._notify("Select a request first", severity="warning")
            return None
        return self.workspace.request(entry.relpath)

    def _apply(self, what: str, action: Callable[[], T]) -> T | None:
        """Run ``action()`` and reload from disk; None (and the problem shown) if it failed."""
        try:
            result = action()
        except (OSError, CollectionError, ValueError) as exc:
            self._notify(f"Could not {what}: {exc}", severity="error")
            return None
        self._reload()
        return result

    def _reload(self) -> None:
        """Reload from disk, keeping the open-time mtimes of requests with unsaved drafts (so
        a file changed by someone else is still caught at save)."""
        kept = {k: v for k, v in self.workspace.mtimes.items() if k in self._unsaved}
        try:
            self.workspace.load()
        except CollectionError as exc:
            self._notify(f"The collection no longer loads: {exc}", severity="error")
            return
        self.workspace.mtimes.update(kept)

    def _ask(
        self,
        title: str,
        prompt: str,
        value: str,
        then: Callable[[str | None], None],
        validate: Callable[[str], str | None] | None = None,
    ) -> None:
        self._ask_with(TextPromptScreen(title, prompt, value, validate), then)

    # -- the commands ---------------------------------------------------------------------
    def new_request(self, entry: TreeEntry | None) -> None:
        from engine.collection.saver import create_request

        folder = _folder_of(entry)
        where = "the collection root" if folder == Path() else folder.as_posix()

        def named(name: str | None) -> None:
            if name:
                relpath = folder / f"{file_stem_for(name)}.yaml"
                collection = self.workspace.collection
                new = self._apply(
                    "create the request", lambda: create_request(collection, relpath, name)
                )
                if new is not None:
                    self._changed(TreeChange(select=new.relpath, show=new.relpath))

        self._ask("New request", f"Name of the new request in {where}:", "", named)

    def new_folder(self, entry: TreeEntry | None) -> None:
        from engine.collection.saver import create_folder

        parent = _folder_of(entry)
        prefix = f"{parent.as_posix()}/" if parent != Path() else ""

        def named(name: str | None) -> None:
            if name:
                path = Path(name)
                collection = self.workspace.collection
                created = self._apply("create the folder", lambda: create_folder(collection, path))
                if created is not None:
                    self._changed(TreeChange(select=path))

        self._ask(
            "New folder",
            "Folder path, relative to the collection:",
            prefix,
            named,
            folder_name_problem,
        )

    def duplicate(self, entry: TreeEntry | None) -> None:
        from engine.collection.saver import duplicate_request

        req = self._request_of(entry)
        if req is not None:
            collection = self.workspace.collection
            new = self._apply("duplicate", lambda: duplicate_request(collection, req))
            if new is not None:
                self._changed(TreeChange(select=new.relpath, show=new.relpath))

    def rename(self, entry: TreeEntry | None) -> None:
        from engine.collection.saver import rename_request

        if entry is not None and entry.kind == "folder":
            self._ask_folder_path(entry.relpath, "Rename folder")
            return
        req = self._request_of(entry)
        if req is None:
            return

        def named(name: str | None) -> None:
            if not name or name == req.name:
                return
            collection = self.workspace.collection
            new = self._apply("rename", lambda: rename_request(collection, req, name))
            if new is not None:
                self._moved(req.relpath, new.relpath)

        self._ask("Rename request", f"New name for {req.name}:", req.name, named)

    def move(self, entry: TreeEntry | None) -> None:
        from engine.collection.saver import move_request

        if entry is not None and entry.kind == "folder":
            self._ask_folder_path(entry.relpath, "Move folder")
            return
        req = self._request_of(entry)
        if req is None:
            return

        def named(folder: str | None) -> None:
            if folder is None:
                return
            cleaned = folder.strip().strip("/")
            target = "." if cleaned in ("", ".") else f"{cleaned}/"
            collection = self.workspace.collection
            new = self._apply("move", lambda: move_request(collection, req, target))
            if new is not None:
                self._moved(req.relpath, new.relpath)

        current = req.relpath.parent.as_posix()
        self._ask(
            "Move request",
            f"Move {req.name} to folder ('.' for the root):",
            "." if current == "." else current,
            named,
            lambda t: None if t.strip("/") in ("", ".") else folder_name_problem(t.strip("/")),
        )

    def _moved(self, old: Path, new: Path) -> None:
        self._changed(TreeChange(select=new, show=new, moved=((old, new),)))

    def _ask_folder_path(self, folder: Path, title: str) -> None:
        def named(text: str | None) -> None:
            if text and Path(text.strip("/")) != folder:
                self.move_folder(folder, Path(text.strip("/")))

        self._ask(
            title,
            f"New path of the folder {folder.as_posix()} (its requests move with it):",
            folder.as_posix(),
            named,
            lambda t: folder_name_problem(t.strip("/")),
        )

    def move_folder(self, old: Path, new: Path) -> None:
        """Move every request of ``old`` under ``new`` through the saver (scenario references
        follow), then remove ``old`` if nothing else is left in it."""
        from engine.collection.saver import create_folder, delete_folder, move_request

        collection = self.workspace.collection
        if new == old or old in new.parents:
            self._notify("A folder cannot move into itself", severity="error")
            return
        inside = [r for r in collection.requests if old in r.relpath.parents]
        moves: list[tuple[Path, Path]] = []

        def move_all() -> Path:
            create_folder(collection, new)
            for req in inside:
                target = new / req.relpath.relative_to(old)
                moved = move_request(collection, req, target.as_posix())
                moves.append((req.relpath, moved.relpath))
            if not any(p.is_file() for p in (collection.root / old).rglob("*")):
                delete_folder(collection, old, confirm=True)
            return new

        if self._apply("move the folder", move_all) is None:
            if not moves:
                return
            self._reload()  # some requests moved before the failure: show where they are
        self._changed(TreeChange(select=new, moved=tuple(moves)))

    def delete(self, entry: TreeEntry | None) -> None:
        from engine.collection.saver import delete_folder, delete_request

        if entry is None:
            return
        if entry.kind == "folder":
            question = f"Delete the folder {entry.relpath.as_posix()} and every request in it?"
        else:
            question = f"Delete the request file {entry.relpath.as_posix()}?"

        def chosen(answer: str | None) -> None:
            if answer != "yes":
                return
            collection = self.workspace.collection
            req = self.workspace.request(entry.relpath)

            def remove() -> Path:
                if entry.kind == "folder":
                    delete_folder(collection, entry.relpath, confirm=True)
                elif req is not None:
                    delete_request(collection, req)
                return entry.relpath

            if self._apply("delete", remove) is not None:
                self._changed(TreeChange(select=entry.relpath.parent, deleted=entry.relpath))

        self._ask_with(
            ChoiceScreen("Delete", question, cancel_value="no", focus_value="no"), chosen
        )
