"""The collection screen: the tree of requests, the editor of the selected one, its response.

The editor and the response pane always belong to the selected request: each request keeps
its own newest response (labelled with its name and the time it was sent), and with no
request selected both say so. Edits live in drafts (one per request) until ctrl+s; a dirty
draft is marked in the tree and copied to ``.deli/recovery/`` so a crash loses nothing. Saves
go through the engine's saver only after the draft converts cleanly and the result parses
back; a file changed on disk since it was opened is never overwritten without asking.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Header, Tree

from deli_tui.collection_ops import CollectionOps, TreeChange
from deli_tui.drafting.conflict import ask_about_conflict
from deli_tui.drafting.drafts import (
    FieldProblem,
    RequestDraft,
    draft_from_request,
    request_from_draft,
    same_request_text,
)
from deli_tui.drafting.keeper import DraftKeeper
from deli_tui.drafting.recovery import RecoveryStore
from deli_tui.exchange import Exchange, exchange_from_result, sending
from deli_tui.screens.help import HelpKeyFirst
from deli_tui.screens.session_variables import SessionVariablesScreen
from deli_tui.widgets.collection_tree import CollectionTree, TreeEntry
from deli_tui.widgets.key_footer import KeyFooter
from deli_tui.widgets.request_editor import RequestEditor
from deli_tui.widgets.response_view import NO_REQUEST, ResponseView
from engine.errors import CollectionError

if TYPE_CHECKING:
    from deli_tui.workspace import Workspace
    from engine.collection.model import RequestDef
    from engine.plan.model import PreparedRequest


class CollectionScreen(HelpKeyFirst, Screen[None]):
    """Browse, edit, save and send the requests of the open collection."""

    _FOCUS = Binding.Group("focus", compact=False)
    BINDINGS = [
        Binding(
            "ctrl+s",
            "save",
            "Save",
            id="requests.save",
            tooltip="Write the request to its file, if it loads back",
        ),
        Binding(
            "ctrl+r",
            "send",
            "Send",
            id="requests.send",
            tooltip="Send the request once and show the response",
        ),
        Binding(
            "ctrl+t",
            "focus_tree",
            "Focus tree",
            id="requests.focus_tree",
            group=_FOCUS,
            tooltip="Move to the tree of requests",
        ),
        Binding(
            "ctrl+e",
            "focus_editor",
            "Focus editor",
            id="requests.focus_editor",
            group=_FOCUS,
            tooltip="Move to the URL of the request",
        ),
        Binding(
            "ctrl+l",
            "revert",
            "Revert",
            id="requests.revert",
            tooltip="Drop the unsaved edits; show the file as it is",
        ),
        Binding(
            "ctrl+o",
            "show_as_sent",
            "As sent",
            id="requests.as_sent",
            tooltip="The request as it will be sent: variables resolved, secrets masked",
        ),
        Binding(
            "f4",
            "toggle_http2",
            "HTTP/2 on/off",
            id="requests.http2",
            tooltip="Send offers HTTP/2 (h2 over TLS) or HTTP/1.1",
        ),
        Binding(
            "f6",
            "session_variables",
            "Session variables",
            id="requests.session",
            tooltip="The values extracted by single sends, used by the next ones",
        ),
    ]
    PREVIEW_DELAY_S = 0.3

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(id="collection-screen")
        self.workspace = workspace
        self.current: Path | None = None
        self.keeper = DraftKeeper(self, RecoveryStore(workspace.root), "request", RequestDraft)
        self.ops = CollectionOps(
            workspace,
            unsaved=self.drafts,
            ask=lambda dialog, then: self.app.push_screen(dialog, then),
            notify=self.notify,
            changed=self.show_tree_change,
        )
        self.send_http2 = False  # Send offers HTTP/2 (ALPN h2 over TLS) when on
        self.exchanges: dict[str, Exchange] = {}  # the newest exchange of each request path
        self._preview_timer: Any = None

    # -- layout -------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="collection-body"):
            yield CollectionTree(id="tree")
            with Vertical(id="request-pane"):
                yield RequestEditor(id="editor")
                yield ResponseView(id="response")
        yield KeyFooter()

    @property
    def request_tree(self) -> CollectionTree:
        return self.query_one("#tree", CollectionTree)

    @property
    def editor(self) -> RequestEditor:
        return self.query_one("#editor", RequestEditor)

    @property
    def response(self) -> ResponseView:
        return self.query_one("#response", ResponseView)

    @property
    def drafts(self) -> dict[str, RequestDraft]:
        """The unsaved drafts by request path (``users/get.yaml``)."""
        return self.keeper.drafts

    def on_mount(self) -> None:
        self.sub_title = "Requests"
        self.response.show_protocol(self.send_http2)
        self.refresh_tree()
        self.request_tree.focus()
        self.show_nothing()
        first = self.request_tree.first_request()
        if first is not None:
            self.open_request(first)
            self.request_tree.move_to(first)
        self.call_after_refresh(self.offer_recovery)

    def refresh_tree(self, select: Path | None = None) -> None:
        self.request_tree.show_collection(self.workspace.collection, set(self.drafts), select)
        self.show_collection_name()

    def show_collection_name(self) -> None:
        """The collection's name in the title, with * while there are unsaved edits."""
        name = self.workspace.collection.name
        dirty = " *" if self.drafts else ""
        self.title = f"deli-tui: {name}{dirty}"

    # -- drafts and dirty state ------------------------------------------------------------
    def saved_draft(self, relpath: Path) -> RequestDraft | None:
        req = self.workspace.request(relpath)
        return draft_from_request(req) if req is not None else None

    def is_dirty(self, relpath: Path) -> bool:
        return relpath.as_posix() in self.drafts

    def open_request(self, relpath: Path) -> None:
        """Show ``relpath`` in the editor (its unsaved draft when there is one) and its own
        newest response."""
        saved = self.saved_draft(relpath)
        if saved is None:
            return
        self.current = relpath
        self.editor.disabled = False
        draft = self.drafts.get(relpath.as_posix(), saved)
        if draft.name is None:  # a recovery copy from before names were editable
            draft = dataclasses.replace(draft, name=saved.name, description=saved.description)
        self.editor.load(draft)
        self.editor.border_title = self._editor_title()
        self.show_response()
        self.update_preview()

    def show_nothing(self) -> None:
        """No request selected: the editor and the response say so."""
        self.current = None
        self.editor.clear()
        self.editor.border_title = "no request selected"
        self.response.show_exchange(None, None)
        self.response.show_request("")

    def show_response(self) -> None:
        """The current request's newest exchange in the response pane."""
        if self.current is None:
            self.response.show_exchange(None, None)
            return
        req = self.workspace.request(self.current)
        name = req.name if req is not None else self.current.as_posix()
        self.response.show_exchange(self.exchanges.get(self.current.as_posix()), name)

    def has_request(self, doing: str) -> bool:
        """Whether a request is selected; if not, say why ``doing`` did nothing."""
        if self.current is not None and self.workspace.request(self.current) is not None:
            return True
        self.notify(f"Nothing to {doing}: {NO_REQUEST}", severity="warning")
        return False

    def _editor_title(self) -> str:
        if self.current is None:
            return ""
        mark = " *" if self.is_dirty(self.current) else ""
        return f"{self.current.as_posix()}{mark}"

    def set_draft(self, relpath: Path, draft: RequestDraft | None) -> None:
        """Record ``draft`` for ``relpath`` (None or equal to the file: clean)."""
        key = relpath.as_posix()
        saved = self.saved_draft(relpath)
        dirty = draft is not None and saved is not None and not same_request_text(draft, saved)
        self.keeper.update(key, draft if dirty else None)
        self.request_tree.set_dirty(relpath, dirty)
        if relpath == self.current:
            self.editor.border_title = self._editor_title()
        self.show_collection_name()

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[TreeEntry]) -> None:
        entry = event.node.data
        if entry is not None and entry.kind == "request" and entry.relpath != self.current:
            self.open_request(entry.relpath)

    @on(Tree.NodeSelected)
    def _selected(self, event: Tree.NodeSelected[TreeEntry]) -> None:
        entry = event.node.data
        if entry is not None and entry.kind == "request":
            self.open_request(entry.relpath)
            self.editor.focus_field("url")

    @on(RequestEditor.Edited)
    def _edited(self, event: RequestEditor.Edited) -> None:
        if self.current is not None:
            # Read the fields now: the event may have been posted before the last load.
            self.set_draft(self.current, self.editor.read_draft())
            if self._preview_timer is not None:
                self._preview_timer.stop()
            self._preview_timer = self.set_timer(self.PREVIEW_DELAY_S, self.update_preview)

    # -- the request as it will be sent --------------------------------------------------------
    def update_preview(self) -> None:
        """The current draft as it will be sent (variables resolved, secrets masked)."""
        self._preview_timer = None
        base = self.workspace.request(self.current) if self.current is not None else None
        if base is None:
            self.response.show_request("")
            return
        req, problems = request_from_draft(self.editor.read_draft(), base)
        try:
            text = self.workspace.as_sent(req) if req is not None else ""
        except CollectionError as exc:
            text, problems = "", [FieldProblem("url", p.message) for p in exc.problems]
        lines = "\n".join(str(p) for p in problems)
        self.response.show_request(text or f"Cannot build this request yet:\n{lines}")

    def action_show_as_sent(self) -> None:
        if self.has_request("show"):
            self.update_preview()
            self.response.open_request_tab()

    # -- recovery copies --------------------------------------------------------------------
    def on_unmount(self) -> None:
        self.keeper.flush()

    def offer_recovery(self) -> None:
        """After a crash: offer the recovery copies that differ from their files."""

        def stale(key: str, draft: RequestDraft) -> bool:
            saved = self.saved_draft(Path(key))
            return saved is None or same_request_text(draft, saved)

        def restore(found: dict[str, RequestDraft]) -> None:
            for key, draft in found.items():
                self.set_draft(Path(key), draft)
            if self.current is not None and self.current.as_posix() in found:
                self.editor.load(found[self.current.as_posix()])
            self.notify(f"Restored unsaved edits of {len(found)} request(s); ctrl+s saves.")

        self.keeper.offer(stale=stale, restore=restore)

    # -- save -------------------------------------------------------------------------------
    def validate_current(self) -> tuple[Any, list[FieldProblem]]:
        """The current draft as a RequestDef, or the problems that stop it."""
        assert self.current is not None
        base = self.workspace.request(self.current)
        if base is None:
            return None, [FieldProblem("file", "this request no longer exists on disk")]
        req, problems = request_from_draft(self.editor.read_draft(), base)
        if req is None:
            return None, problems
        from engine.collection.loader import parse_request_text
        from engine.collection.saver import dump_request

        try:
            parse_request_text(dump_request(req), req.relpath)
        except CollectionError as exc:
            return None, [FieldProblem("file", p.message) for p in exc.problems]
        return req, []

    def action_save(self) -> None:
        if not self.has_request("save"):
            return
        req, problems = self.validate_current()
        self.editor.show_problems(problems)
        if req is None:
            self.notify(
                f"Not saved: {len(problems)} problem(s), see above the tabs", severity="error"
            )
            return
        self.write_request(req, overwrite=False)

    def write_request(self, req: Any, *, overwrite: bool) -> None:
        from engine.collection.saver import FileChangedError

        try:
            self.workspace.save_request(req, overwrite=overwrite)
        except FileChangedError:
            ask_about_conflict(
                self.app,
                req.relpath.as_posix(),
                overwrite=lambda: self.write_request(req, overwrite=True),
                reload=lambda: self.reload_from_disk(req.relpath),
            )
            return
        except (OSError, CollectionError) as exc:
            self.notify(f"Not saved: {exc}", severity="error")
            return
        self.set_draft(req.relpath, None)
        self.keeper.take(req.relpath.as_posix())
        self.refresh_tree(select=req.relpath)
        self.show_response()
        self.notify(f"Saved {req.relpath.as_posix()}")

    def reload_from_disk(self, relpath: Path) -> None:
        try:
            self.workspace.read_request_from_disk(relpath)
        except (OSError, CollectionError) as exc:
            self.notify(f"Cannot reload {relpath.as_posix()}: {exc}", severity="error")
            return
        self.set_draft(relpath, None)
        self.refresh_tree(select=relpath)
        if relpath == self.current:
            self.open_request(relpath)

    def action_revert(self) -> None:
        if self.has_request("revert") and self.current is not None:
            self.reload_from_disk(self.current)

    # -- send ---------------------------------------------------------------------------------
    def action_send(self) -> None:
        if not self.has_request("send"):
            return
        assert self.current is not None
        base = self.workspace.request(self.current)
        assert base is not None
        req, problems = request_from_draft(self.editor.read_draft(), base)
        self.editor.show_problems(problems)
        if req is None:
            self.notify("Not sent: fix the problems shown first", severity="error")
            return
        try:
            prepared, _ = self.workspace.prepare_single(req)
        except CollectionError as exc:
            self.editor.show_problems(
                [
                    FieldProblem("url", f"{p.message} ({p.hint})" if p.hint else p.message)
                    for p in exc.problems
                ]
            )
            return
        key = self.current.as_posix()
        self.exchanges[key] = sending(req.name, prepared)
        self.show_response()
        self.send_request(key, req, prepared, http2=self.send_http2)

    @work(exclusive=True, group="send")
    async def send_request(
        self, key: str, req: RequestDef, prepared: PreparedRequest, *, http2: bool = False
    ) -> None:
        """Send in a worker; the screen stays responsive and a newer send replaces it. The
        response is kept for request ``key`` and shown if that request is still selected;
        ``req``'s extractions set the session's variables. ``http2`` offers HTTP/2; the
        response shows the version the server agreed to."""
        from engine.transport.single import send_single

        sent_at = time.time()
        result = await send_single(prepared, http2=http2)
        exchange = exchange_from_result(req.name, prepared, result, sent_at)
        if req.extract and not result.error_class:
            found = self.workspace.session.apply(req, exchange.body, list(exchange.headers))
            exchange = dataclasses.replace(exchange, extracted=tuple(found))
        self.exchanges[key] = exchange
        if self.current is not None and self.current.as_posix() == key:
            self.show_response()

    def action_session_variables(self) -> None:
        """Show the session's variables (what single sends extracted); clear some or all."""

        def closed(values: dict[str, str] | None) -> None:
            if values is not None:
                self.workspace.session.values = values
                self.notify(f"Session variables: {len(values)} left", timeout=2)

        self.app.push_screen(SessionVariablesScreen(self.workspace.session.values), closed)

    def action_toggle_http2(self) -> None:
        self.send_http2 = not self.send_http2
        self.response.show_protocol(self.send_http2)
        what = "HTTP/2 (h2 offered over TLS)" if self.send_http2 else "HTTP/1.1"
        self.notify(f"Send uses {what}", timeout=2)

    # -- focus and tree commands -----------------------------------------------------------------
    def action_focus_tree(self) -> None:
        self.request_tree.focus()

    def action_focus_editor(self) -> None:
        if self.has_request("edit"):
            self.editor.focus_field("url")

    @on(CollectionTree.Command)
    def _tree_command(self, event: CollectionTree.Command) -> None:
        self.ops.run(event.command, event.entry)

    def show_tree_change(self, change: TreeChange) -> None:
        """Show what a tree operation did on disk: drafts of deleted requests go, drafts of
        moved ones follow them, the tree is redrawn and the editor shows what still exists."""
        if change.deleted is not None:
            gone = change.deleted
            for key in [k for k in self.drafts if Path(k) == gone or gone in Path(k).parents]:
                self.keeper.take(key)
            for key in [k for k in self.exchanges if Path(k) == gone or gone in Path(k).parents]:
                del self.exchanges[key]
        self.refresh_tree(select=change.select)
        for old, new in change.moved:
            self._move_draft(old, new)
        if self.current is not None and self.workspace.request(self.current) is None:
            self.show_nothing()
        target = change.show or (self.current if change.moved else None)
        if target is not None:
            self.open_request(target)

    def _move_draft(self, old: Path, new: Path) -> None:
        exchange = self.exchanges.pop(old.as_posix(), None)
        if exchange is not None:
            self.exchanges[new.as_posix()] = exchange
        draft = self.keeper.take(old.as_posix())
        if self.current == old:
            self.current = new
        if draft is not None:
            self.set_draft(new, draft)
