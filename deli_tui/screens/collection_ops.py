"""New, duplicate, rename, move and delete of requests and folders, asked through dialogs.

Each operation goes through the engine's saver, then the collection is reloaded from disk so
the tree shows what the files say. Unsaved drafts follow a renamed or moved request.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deli_tui.screens.confirm import ChoiceScreen, TextPromptScreen
from deli_tui.widgets.collection_tree import TreeEntry
from engine.errors import CollectionError

if TYPE_CHECKING:
    from deli_tui.screens.collection import CollectionScreen

_FOLDER_NAME = re.compile(r"^[\w.-]+(/[\w.-]+)*$")


def file_stem_for(name: str) -> str:
    """A file name for a request called ``name``: ``List users`` -> ``list_users``."""
    stem = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return stem or "request"


def folder_name_problem(text: str) -> str | None:
    if text.startswith(".") or ".." in text.split("/") or not _FOLDER_NAME.match(text):
        return "use letters, digits, '-', '_' and '/' between folder names"
    return None


class CollectionOps:
    """The tree commands of one collection screen."""

    def __init__(self, screen: CollectionScreen) -> None:
        self.screen = screen

    @property
    def workspace(self) -> Any:
        return self.screen.workspace

    def run(self, command: str, entry: TreeEntry | None) -> None:
        handler = getattr(self, f"do_{command}", None)
        if handler is not None:
            handler(entry)

    @staticmethod
    def _folder_of(entry: TreeEntry | None) -> Path:
        if entry is None:
            return Path()
        return entry.relpath if entry.kind == "folder" else entry.relpath.parent

    def _request_of(self, entry: TreeEntry | None) -> Any:
        if entry is None or entry.kind != "request":
            self.screen.notify("Select a request first", severity="warning")
            return None
        return self.workspace.request(entry.relpath)

    def _apply(self, what: str, action: Any, select: Path | None = None) -> Any:
        """Run ``action()``, reload from disk, redraw the tree; report problems."""
        try:
            result = action()
        except (OSError, CollectionError, ValueError) as exc:
            self.screen.notify(f"Could not {what}: {exc}", severity="error")
            return None
        self._reload()
        relpath = getattr(result, "relpath", None)
        self.screen.refresh_tree(select=relpath or select)
        return result

    def _open(self, relpath: Path | None) -> None:
        """Show ``relpath`` (or what is current, if it still exists) in the editor."""
        target = relpath or self.screen.current
        if target is not None and self.workspace.request(target) is not None:
            self.screen.open_request(target)

    def _reload(self) -> None:
        """Reload from disk, keeping the open-time mtimes of dirty requests (so a file changed
        by someone else is still caught at save)."""
        kept = {k: v for k, v in self.workspace.mtimes.items() if k in self.screen.drafts}
        try:
            self.workspace.load()
        except CollectionError as exc:
            self.screen.notify(f"The collection no longer loads: {exc}", severity="error")
            return
        self.workspace.mtimes.update(kept)

    def _move_draft(self, old: Path, new: Path) -> None:
        draft = self.screen.drafts.pop(old.as_posix(), None)
        self.screen.recovery.clear("request", old.as_posix())
        self.screen._recovery_written.pop(old.as_posix(), None)
        if self.screen.current == old:
            self.screen.current = new
        if draft is not None:
            self.screen.set_draft(new, draft)

    def _ask(self, title: str, prompt: str, value: str, then: Any, validate: Any = None) -> None:
        self.screen.app.push_screen(TextPromptScreen(title, prompt, value, validate), then)

    # -- commands (named do_<tree command>) ------------------------------------------
    def do_new_request(self, entry: TreeEntry | None) -> None:
        from engine.collection.saver import create_request

        folder = self._folder_of(entry)
        where = "the collection root" if folder == Path() else folder.as_posix()

        def named(name: str | None) -> None:
            if name:
                relpath = folder / f"{file_stem_for(name)}.yaml"
                collection = self.workspace.collection
                new = self._apply(
                    "create the request", lambda: create_request(collection, relpath, name)
                )
                self._open(getattr(new, "relpath", None))

        self._ask("New request", f"Name of the new request in {where}:", "", named)

    def do_new_folder(self, entry: TreeEntry | None) -> None:
        from engine.collection.saver import create_folder

        parent = self._folder_of(entry)
        prefix = f"{parent.as_posix()}/" if parent != Path() else ""

        def named(name: str | None) -> None:
            if name:
                path = Path(name)
                self._apply(
                    "create the folder",
                    lambda: create_folder(self.workspace.collection, path),
                    select=path,
                )

        self._ask(
            "New folder",
            "Folder path, relative to the collection:",
            prefix,
            named,
            folder_name_problem,
        )

    def do_duplicate(self, entry: TreeEntry | None) -> None:
        from engine.collection.saver import duplicate_request

        req = self._request_of(entry)
        if req is not None:
            new = self._apply(
                "duplicate", lambda: duplicate_request(self.workspace.collection, req)
            )
            self._open(getattr(new, "relpath", None))

    def do_rename(self, entry: TreeEntry | None) -> None:
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
            new = self._apply(
                "rename", lambda: rename_request(self.workspace.collection, req, name)
            )
            if new is not None:
                self._move_draft(req.relpath, new.relpath)
                self._open(new.relpath)

        self._ask("Rename request", f"New name for {req.name}:", req.name, named)

    def do_move(self, entry: TreeEntry | None) -> None:
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
            new = self._apply("move", lambda: move_request(self.workspace.collection, req, target))
            if new is not None:
                self._move_draft(req.relpath, new.relpath)
                self._open(new.relpath)

        current = req.relpath.parent.as_posix()
        self._ask(
            "Move request",
            f"Move {req.name} to folder ('.' for the root):",
            "." if current == "." else current,
            named,
            lambda t: None if t.strip("/") in ("", ".") else folder_name_problem(t.strip("/")),
        )

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
            self.screen.notify("A folder cannot move into itself", severity="error")
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

        self._apply("move the folder", move_all, select=new)
        for before, after in moves:
            self._move_draft(before, after)
        self._open(None)

    def do_delete(self, entry: TreeEntry | None) -> None:
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
            if entry.kind == "folder":
                action: Any = lambda: delete_folder(collection, entry.relpath, confirm=True)  # noqa: E731
            else:
                req = self.workspace.request(entry.relpath)
                action = lambda: delete_request(collection, req)  # noqa: E731
            removed = [
                k
                for k in self.screen.drafts
                if Path(k) == entry.relpath or entry.relpath in Path(k).parents
            ]
            self._apply("delete", action, select=entry.relpath.parent)
            for key in removed:
                self.screen.drafts.pop(key, None)
                self.screen.recovery.clear("request", key)
            if (
                self.screen.current is not None
                and self.workspace.request(self.screen.current) is None
            ):
                self.screen.current = None
                self.screen.editor.disabled = True

        self.screen.app.push_screen(
            ChoiceScreen("Delete", question, cancel_value="no", focus_value="no"), chosen
        )
