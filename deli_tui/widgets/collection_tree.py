"""The tree of folders and requests of a collection, with a dirty marker per request."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from engine.collection.model import Collection, RequestDef


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """What a tree node stands for: a folder or a request file, by path relative to the root."""

    kind: str  # "folder" or "request"
    relpath: Path


class CollectionTree(Tree[TreeEntry]):
    """Folders and requests. Letter keys ask the screen to act on the node under the cursor."""

    ICON_NODE = "+ "
    ICON_NODE_EXPANDED = "- "

    _EDIT = Binding.Group("edit tree", compact=False)
    BINDINGS = [
        Binding(
            "n",
            "command('new_request')",
            "New request",
            id="tree.new_request",
            group=_EDIT,
            tooltip="A new GET request file in this folder",
        ),
        Binding(
            "f",
            "command('new_folder')",
            "New folder",
            id="tree.new_folder",
            group=_EDIT,
            tooltip="A new folder under this one",
        ),
        Binding(
            "d",
            "command('duplicate')",
            "Duplicate",
            id="tree.duplicate",
            group=_EDIT,
            tooltip="A copy of the request beside it",
        ),
        Binding(
            "r",
            "command('rename')",
            "Rename",
            id="tree.rename",
            group=_EDIT,
            tooltip="Rename the request (scenarios follow) or the folder",
        ),
        Binding(
            "m",
            "command('move')",
            "Move",
            id="tree.move",
            group=_EDIT,
            tooltip="Move the request or folder to another folder",
        ),
        Binding(
            "delete,x",
            "command('delete')",
            "Delete",
            id="tree.delete",
            group=_EDIT,
            tooltip="Delete the file or folder (asks first)",
        ),
    ]

    class Command(Message):
        """The user asked for ``command`` on ``entry`` (None: the collection root)."""

        def __init__(self, command: str, entry: TreeEntry | None) -> None:
            super().__init__()
            self.command = command
            self.entry = entry

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("collection", data=TreeEntry("folder", Path()), id=id)
        self.show_root = False
        self.guide_depth = 2
        self._dirty: set[str] = set()
        self._requests: dict[str, RequestDef] = {}

    def show_collection(
        self, collection: Collection, dirty: set[str], select: Path | None = None
    ) -> None:
        """Rebuild from ``collection``, keeping expanded folders and moving the cursor to
        ``select`` (a request or folder relpath) when given."""
        expanded = {
            n.data.relpath for n in self._all_nodes() if n.data and n.is_expanded and n.children
        }
        self._dirty = set(dirty)
        self._requests = {r.relpath.as_posix(): r for r in collection.requests}
        self.clear()
        self.root.label = Text(collection.name)
        folders: dict[Path, TreeNode[TreeEntry]] = {Path(): self.root}
        all_folders = set(collection.folders)
        for req in collection.requests:
            all_folders.update(p for p in req.relpath.parents if p != Path("."))
        for folder in sorted(all_folders, key=lambda p: p.parts):
            parent = folders.get(folder.parent, self.root)
            node = parent.add(f"{folder.name}/", data=TreeEntry("folder", folder))
            if folder in expanded or not expanded:
                node.expand()
            folders[folder] = node
        for req in sorted(collection.requests, key=lambda r: r.relpath.parts):
            parent = folders.get(req.relpath.parent, self.root)
            parent.add_leaf(self._request_label(req), data=TreeEntry("request", req.relpath))
        self.root.expand()
        if select is not None:
            self.call_after_refresh(self.move_to, select)

    def move_to(self, relpath: Path) -> None:
        for node in self._all_nodes():
            if node.data is not None and node.data.relpath == relpath:
                parent = node.parent
                while parent is not None:
                    parent.expand()
                    parent = parent.parent
                self.call_after_refresh(self._move_cursor_to, node)
                return

    def _move_cursor_to(self, node: TreeNode[TreeEntry]) -> None:
        self.move_cursor(node)

    def set_dirty(self, relpath: Path, dirty: bool) -> None:
        key = relpath.as_posix()
        if (key in self._dirty) == dirty:
            return
        if dirty:
            self._dirty.add(key)
        else:
            self._dirty.discard(key)
        req = self._requests.get(key)
        for node in self._all_nodes():
            if req is not None and node.data == TreeEntry("request", relpath):
                node.set_label(self._request_label(req))

    def _request_label(self, req: RequestDef) -> Text:
        text = Text()
        text.append(f"{req.method:<6} ", style="bold")
        text.append(req.name)
        if req.relpath.as_posix() in self._dirty:
            text.append(" *", style="bold")
        return text

    def _all_nodes(self) -> list[TreeNode[TreeEntry]]:
        found: list[TreeNode[TreeEntry]] = []
        stack = [self.root]
        while stack:
            node = stack.pop()
            found.append(node)
            stack.extend(node.children)
        return found

    def first_request(self) -> Path | None:
        """The topmost request as the tree shows it (folders first, depth first)."""
        stack = list(reversed(self.root.children))
        while stack:
            node = stack.pop()
            if node.data is not None and node.data.kind == "request":
                return node.data.relpath
            stack.extend(reversed(node.children))
        return None

    def selected_entry(self) -> TreeEntry | None:
        node = self.cursor_node
        return node.data if node is not None else None

    def action_command(self, command: str) -> None:
        entry = self.selected_entry()
        if entry is not None and entry.relpath == Path():
            entry = None
        self.post_message(self.Command(command, entry))
