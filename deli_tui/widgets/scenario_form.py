"""The scenario form: load model, profile, durations, workers, thresholds and flow (setup,
data file with a preview of its first rows, cookies) of one scenario.

Fields that do not apply to the chosen model/profile are hidden. Every change posts
``Edited`` with the draft; ``show_problems`` puts each message under its own field.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Checkbox, Input, Label, Select, Static, TextArea

from deli_tui.drafting.drafts import FieldProblem
from deli_tui.drafting.loading import DraftLoading
from deli_tui.drafting.scenario_draft import MODELS, PROFILES, ScenarioDraft
from engine.collection.model import DATA_MODES

# (field, label, placeholder); rendered as Input rows.
_INPUTS: tuple[tuple[str, str, str], ...] = (
    ("users", "users", "virtual users, e.g. 10"),
    ("rate", "rate (req/s)", "arrivals per second, e.g. 100"),
    ("duration", "duration", "e.g. 30s, 2m"),
    ("ramp_up", "ramp-up", "e.g. 10s (0s: none)"),
    ("spike_to", "spike to", "peak users or req/s"),
    ("spike_duration", "spike length", "e.g. 5s"),
    ("stages", "stages", "10s:10, 30s:50, 10s:0"),
    ("think_time", "think time", "100ms or 100ms..300ms"),
    ("iterations", "iterations", "per user; empty: until the end"),
    ("workers", "workers", "processes, e.g. 1"),
    ("timeout", "timeout", "empty: collection default"),
    ("cluster", "cluster", "empty: this machine; auto, local, HOST:PORT, ray://HOST:PORT"),
)
# A flow's fields, after the thresholds: rendered as Input rows too.
_FLOW_INPUTS: tuple[tuple[str, str, str], ...] = (
    ("setup", "setup", "requests each user sends once, first, e.g. Login"),
    ("data_file", "data file", "users.csv: header row, a row per user; empty: none"),
    ("data_as", "data as", "user: the columns are {{user.<column>}}"),
)
_FLOW_FIELDS = {"setup", "data_file", "data_as", "data_mode", "data_preview", "cookies"}


def visible_fields(model: str, profile: str) -> set[str]:
    """The fields that mean something for this model and profile."""
    shown = {
        "model",
        "profile",
        "think_time",
        "workers",
        "http2",
        "timeout",
        "thresholds",
        "cluster",
        *_FLOW_FIELDS,
    }
    shown.add("users" if model == "closed" else "rate")
    if model == "closed":
        shown.add("iterations")
    if profile == "stages":
        shown.add("stages")
    else:
        shown.update({"duration", "ramp_up"})
    if profile == "spike":
        shown.update({"spike_to", "spike_duration"})
    return shown


class ScenarioForm(DraftLoading, VerticalScroll, can_focus=False):
    """Edits a ``ScenarioDraft``."""

    class Edited(Message):
        def __init__(self, draft: ScenarioDraft) -> None:
            super().__init__()
            self.draft = draft

    def _row(self, name: str, label: str, *widgets: object) -> ComposeResult:
        with Vertical(classes="form-field", id=f"row-{name}"):
            with Horizontal(classes="form-row"):
                yield Label(label, classes="form-label")
                yield from widgets  # type: ignore[misc]
            yield Static("", classes="field-error", id=f"error-{name}", markup=False)

    def compose(self) -> ComposeResult:
        yield from self._row(
            "model",
            "model",
            Select(
                [("closed (users)", "closed"), ("open (rate)", "open")],
                value="closed",
                allow_blank=False,
                compact=True,
                id="field-model",
            ),
        )
        yield from self._row(
            "profile",
            "profile",
            Select(
                [(p, p) for p in PROFILES],
                value="constant",
                allow_blank=False,
                compact=True,
                id="field-profile",
            ),
        )
        for name, label, placeholder in _INPUTS:
            yield from self._row(
                name, label, Input(placeholder=placeholder, compact=True, id=f"field-{name}")
            )
            if name == "stages":  # the load, then what it must meet: in view at 80x24
                yield from self._row(
                    "thresholds",
                    "thresholds",
                    TextArea(
                        id="field-thresholds",
                        tab_behavior="focus",
                        soft_wrap=False,
                        placeholder="one per line: p95 < 300ms, error_rate < 1%",
                    ),
                )
        http2 = Checkbox("offer HTTP/2 (h2 over TLS)", compact=True, id="field-http2")
        yield from self._row("http2", "HTTP/2", http2)
        for name, label, placeholder in _FLOW_INPUTS:
            yield from self._row(
                name, label, Input(placeholder=placeholder, compact=True, id=f"field-{name}")
            )
        yield from self._row(
            "data_mode",
            "data mode",
            Select(
                [("unique (a row per user)", "unique"), ("cycle", "cycle"), ("random", "random")],
                value="cycle",
                allow_blank=False,
                compact=True,
                id="field-data_mode",
            ),
        )
        with Vertical(classes="form-field", id="row-data_preview"):
            yield Static("", id="data-preview", markup=False)
        cookies = Checkbox("keep cookies per user", compact=True, id="field-cookies")
        yield from self._row("cookies", "cookies", cookies)

    def show_data_preview(self, text: Text | str) -> None:
        """What the data file holds (its columns and first rows), or why it cannot be read."""
        self.query_one("#data-preview", Static).update(text)

    @property
    def data_preview_text(self) -> str:
        content = self.query_one("#data-preview", Static).content
        return content.plain if isinstance(content, Text) else str(content)

    def load(self, draft: ScenarioDraft) -> None:
        self._start_loading()
        try:
            model = draft.model if draft.model in MODELS else "closed"
            profile = draft.profile if draft.profile in PROFILES else "constant"
            self.query_one("#field-model", Select).value = model
            self.query_one("#field-profile", Select).value = profile
            for name, _, _ in (*_INPUTS, *_FLOW_INPUTS):
                self.query_one(f"#field-{name}", Input).value = getattr(draft, name)
            self.query_one("#field-http2", Checkbox).value = draft.http2
            self.query_one("#field-cookies", Checkbox).value = draft.cookies
            mode = draft.data_mode if draft.data_mode in DATA_MODES else "cycle"
            self.query_one("#field-data_mode", Select).value = mode
            self.query_one("#field-thresholds", TextArea).load_text(draft.thresholds)
            self._show_rows(model, profile)
        finally:
            self.call_after_refresh(self._loaded)
        self.show_problems([])

    def read_draft(self) -> ScenarioDraft:
        fields = (*_INPUTS, *_FLOW_INPUTS)
        values = {name: self.query_one(f"#field-{name}", Input).value for name, _, _ in fields}
        return ScenarioDraft(
            model=str(self.query_one("#field-model", Select).value),
            profile=str(self.query_one("#field-profile", Select).value),
            http2=self.query_one("#field-http2", Checkbox).value,
            thresholds=self.query_one("#field-thresholds", TextArea).text,
            data_mode=str(self.query_one("#field-data_mode", Select).value),
            cookies=self.query_one("#field-cookies", Checkbox).value,
            **values,  # type: ignore[arg-type]
        )

    def _show_rows(self, model: str, profile: str) -> None:
        shown = visible_fields(model, profile)
        for row in self.query(".form-field"):
            row.display = (row.id or "").removeprefix("row-") in shown

    def show_problems(self, problems: Iterable[FieldProblem]) -> None:
        by_field: dict[str, list[str]] = {}
        for p in problems:
            by_field.setdefault(p.field, []).append(p.message)
        for error in self.query(".field-error"):
            name = (error.id or "").removeprefix("error-")
            messages = by_field.get(name, [])
            assert isinstance(error, Static)
            error.update("\n".join(messages))
            error.set_class(bool(messages), "-visible")
            for widget in self.query(f"#field-{name}"):
                widget.set_class(bool(messages), "field-invalid")

    def problem_text(self, name: str) -> str:
        """The inline message under field ``name`` ('' when it is fine)."""
        return str(self.query_one(f"#error-{name}", Static).content)

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Checkbox.Changed)
    @on(Select.Changed)
    def _field_changed(self, event: Message) -> None:
        event.stop()
        draft = self.read_draft()
        self._show_rows(draft.model, draft.profile)
        if self._user_edited:
            self.post_message(self.Edited(draft))
