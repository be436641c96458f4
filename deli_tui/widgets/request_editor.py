"""The request editor: method, URL, headers, params, body, checks, extractions, name,
description and options of one request.

It edits a ``RequestDraft`` (the raw texts) and reports every change with ``Edited``; the
screen decides what is dirty, validates and saves. Problems are shown inline by field.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import (
    Checkbox,
    Input,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)

from deli_tui.drafting.drafts import BODY_KINDS, FieldProblem, RequestDraft
from deli_tui.drafting.extract_text import EXTRACT_HINT
from deli_tui.drafting.loading import DraftLoading
from engine.collection.model import HTTP_METHODS

_TEXT_FIELDS = ("headers", "params", "body", "checks", "extract")
_INPUT_FIELDS = ("url", "name", "description", "timeout", "weight")
_LANGUAGES = {"json": "json", "yaml": "yaml"}
_FIELD_TAB = {
    "headers": "tab-headers",
    "params": "tab-params",
    "body": "tab-body",
    "body_kind": "tab-body",
    "checks": "tab-checks",
    "name": "tab-options",
    "description": "tab-options",
    "extract": "tab-extract",
    "timeout": "tab-options",
    "weight": "tab-options",
    "insecure": "tab-options",
}
CHECKS_HINT = "One per line: status: 200, 201 | body_contains: text | json: $.id == 42 | json: $.id"


def set_text_language(area: TextArea, language: str | None) -> None:
    """Highlight as ``language`` when its grammar is installed; plain text otherwise."""
    try:
        area.language = language
    except Exception:  # textual raises LanguageDoesNotExist without tree-sitter grammars
        area.language = None


class RequestEditor(DraftLoading, Vertical):
    """Edits one request's draft. Empty (disabled) until ``load`` is called."""

    class Edited(Message):
        """Any field changed; ``draft`` is the editor's current content."""

        def __init__(self, draft: RequestDraft) -> None:
            super().__init__()
            self.draft = draft

    def compose(self) -> ComposeResult:
        with Horizontal(id="request-line"):
            yield Select(
                [(m, m) for m in HTTP_METHODS],
                value="GET",
                allow_blank=False,
                compact=True,
                id="field-method",
            )
            yield Input(
                placeholder="URL or /path (base_url is prefixed)", compact=True, id="field-url"
            )
        yield Static("", id="request-problems", markup=False)
        with TabbedContent(id="request-tabs"):
            with TabPane("Headers", id="tab-headers"):
                yield TextArea(
                    id="field-headers",
                    tab_behavior="focus",
                    soft_wrap=False,
                    placeholder="Name: value, one per line (collection headers apply too)",
                )
            with TabPane("Params", id="tab-params"):
                yield TextArea(
                    id="field-params",
                    tab_behavior="focus",
                    soft_wrap=False,
                    placeholder="name: value, one per line (added to the query string)",
                )
            with TabPane("Body", id="tab-body"):
                yield Select(
                    [(k, k) for k in BODY_KINDS],
                    value="none",
                    allow_blank=False,
                    compact=True,
                    id="field-body_kind",
                )
                yield TextArea(
                    id="field-body",
                    tab_behavior="focus",
                    show_line_numbers=True,
                    placeholder="json: text sent as is; yaml: a mapping sent as JSON; text: raw",
                )
            with TabPane("Checks", id="tab-checks"):
                yield Static(CHECKS_HINT, classes="hint", markup=False)
                yield TextArea(
                    id="field-checks",
                    tab_behavior="focus",
                    soft_wrap=False,
                    placeholder="status: 200",
                )
            with TabPane("Extract", id="tab-extract"):
                yield Static(EXTRACT_HINT, classes="hint", markup=False)
                yield TextArea(
                    id="field-extract",
                    tab_behavior="focus",
                    soft_wrap=False,
                    placeholder="token: json $.token (usable as {{token}} in later requests)",
                )
            with TabPane("Details", id="tab-options"), Vertical(id="request-options"):
                with Horizontal(classes="form-row"):
                    yield Label("name", classes="form-label")
                    yield Input(
                        placeholder="unique in the collection", compact=True, id="field-name"
                    )
                with Horizontal(classes="form-row"):
                    yield Label("description", classes="form-label")
                    yield Input(placeholder="what it is for", compact=True, id="field-description")
                with Horizontal(classes="form-row"):
                    yield Label("timeout", classes="form-label")
                    yield Input(placeholder="collection default", compact=True, id="field-timeout")
                with Horizontal(classes="form-row"):
                    yield Label("weight", classes="form-label")
                    yield Input(compact=True, id="field-weight")
                with Horizontal(classes="form-row"):
                    yield Label("insecure TLS", classes="form-label")
                    yield Checkbox("skip certificate checks", compact=True, id="field-insecure")

    def load(self, draft: RequestDraft) -> None:
        """Show ``draft`` in the fields (posts no ``Edited`` of its own making)."""
        self._start_loading()
        try:
            method = self.query_one("#field-method", Select)
            options = list(HTTP_METHODS)
            if draft.method not in options:
                options.append(draft.method)
            method.set_options([(m, m) for m in options])
            method.value = draft.method
            for name in _INPUT_FIELDS:
                self.query_one(f"#field-{name}", Input).value = getattr(draft, name) or ""
            self.query_one("#field-insecure", Checkbox).value = draft.insecure
            kind = draft.body_kind if draft.body_kind in BODY_KINDS else "text"
            self.query_one("#field-body_kind", Select).value = kind
            for name in _TEXT_FIELDS:
                area = self.query_one(f"#field-{name}", TextArea)
                area.load_text(getattr(draft, name))
            set_text_language(self.query_one("#field-body", TextArea), _LANGUAGES.get(kind))
        finally:
            self.call_after_refresh(self._loaded)
        self.show_problems([])

    def clear(self) -> None:
        """Show no request: empty fields, nothing to edit."""
        self.load(RequestDraft(name=""))
        self.disabled = True

    def read_draft(self) -> RequestDraft:
        method = self.query_one("#field-method", Select).value
        kind = self.query_one("#field-body_kind", Select).value
        inputs = {name: self.query_one(f"#field-{name}", Input).value for name in _INPUT_FIELDS}
        return RequestDraft(
            method=str(method) if method is not Select.NULL else "",
            headers=self.query_one("#field-headers", TextArea).text,
            params=self.query_one("#field-params", TextArea).text,
            body_kind=str(kind) if kind is not Select.NULL else "none",
            body=self.query_one("#field-body", TextArea).text,
            checks=self.query_one("#field-checks", TextArea).text,
            insecure=self.query_one("#field-insecure", Checkbox).value,
            extract=self.query_one("#field-extract", TextArea).text,
            **inputs,
        )

    def show_problems(self, problems: Iterable[FieldProblem]) -> None:
        """List ``problems`` under the URL line and mark their fields invalid."""
        problems = list(problems)
        bad = {p.field for p in problems}
        for widget in self.query(".field-invalid"):
            widget.remove_class("field-invalid")
        for name in bad:
            for widget in self.query(f"#field-{name}"):
                widget.add_class("field-invalid")
        box = self.query_one("#request-problems", Static)
        box.update("\n".join(str(p) for p in problems))
        box.set_class(bool(problems), "-visible")
        if problems:
            tab = _FIELD_TAB.get(problems[0].field)
            if tab is not None:
                self.query_one("#request-tabs", TabbedContent).active = tab

    def focus_field(self, name: str) -> None:
        tab = _FIELD_TAB.get(name)
        if tab is not None:
            self.query_one("#request-tabs", TabbedContent).active = tab
        widget: Widget = self.query_one(f"#field-{name}")
        widget.focus()

    def _edited(self) -> None:
        if self._user_edited:
            self.post_message(self.Edited(self.read_draft()))

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Checkbox.Changed)
    def _field_changed(self, event: Message) -> None:
        event.stop()
        self._edited()

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "field-body_kind":
            kind = str(event.value)
            set_text_language(self.query_one("#field-body", TextArea), _LANGUAGES.get(kind))
        self._edited()
