"""The collection settings dialog: name, base_url, variables, default headers, timeout and env
file, validated as typed and saved into ``collection.yaml`` like every other edit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from deli_tui.drafting.settings_draft import SettingsDraft, settings_from_draft
from deli_tui.widgets.key_footer import KeyFooter
from engine.collection.model import Collection

# (field, label, placeholder); Input rows.
_INPUTS = (
    ("name", "name", "shown in titles and reports"),
    ("base_url", "base_url", "e.g. http://{{host}}:8089; request paths are added to it"),
    ("timeout", "timeout", "per request, unless a request says otherwise, e.g. 10s"),
    ("env_file", "env file", "KEY=value lines beside collection.yaml, kept out of git"),
)
# (field, label, placeholder); TextArea rows.
_TEXTS = (
    ("variables", "variables", "name: value, one per line; {{name}} in requests"),
    ("headers", "headers", "Name: value, one per line; sent with every request"),
)

Save = Callable[[dict[str, Any], bool], None]
"""Write the settings (``overwrite``: even if collection.yaml changed on disk); raises
``FileChangedError`` or ``CollectionError``, which the dialog shows."""


class SettingsScreen(ModalScreen[bool]):
    """Edits the collection's settings; dismissed with True once saved, False if cancelled."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="settings.save", tooltip="Write collection.yaml"),
        Binding(
            "escape", "cancel", "Cancel", id="settings.cancel", tooltip="Close; nothing is saved"
        ),
    ]

    def __init__(self, collection: Collection, draft: SettingsDraft, save: Save) -> None:
        super().__init__(classes="dialog", id="settings-screen")
        self.collection = collection
        self.draft = draft
        self._save = save

    def compose(self) -> ComposeResult:
        with Vertical(id="settings-box"):
            yield Label("Collection settings", id="dialog-title")
            with VerticalScroll(id="settings-form"):
                for name, label, placeholder in _INPUTS:
                    yield from self._row(
                        name,
                        label,
                        Input(
                            getattr(self.draft, name),
                            placeholder=placeholder,
                            compact=True,
                            id=f"field-{name}",
                        ),
                    )
                for name, label, placeholder in _TEXTS:
                    area = TextArea(
                        getattr(self.draft, name),
                        id=f"field-{name}",
                        tab_behavior="focus",
                        soft_wrap=False,
                        placeholder=placeholder,
                    )
                    yield from self._row(name, label, area, tall=True)
            yield Static("", id="settings-problem", classes="field-error", markup=False)
            with Horizontal(id="dialog-buttons"):
                yield Button("Save", id="settings-save", variant="primary")
                yield Button("Cancel", id="settings-cancel")
        yield KeyFooter(compact=True)

    def _row(self, name: str, label: str, widget: object, *, tall: bool = False) -> ComposeResult:
        with Vertical(classes="form-field", id=f"row-{name}"):
            with Horizontal(classes="form-row -tall" if tall else "form-row"):
                yield Label(label, classes="form-label")
                yield widget  # type: ignore[misc]
            yield Static("", classes="field-error", id=f"error-{name}", markup=False)

    def on_mount(self) -> None:
        self.query_one("#field-name", Input).focus()

    def read_draft(self) -> SettingsDraft:
        values = {name: self.query_one(f"#field-{name}", Input).value for name, _, _ in _INPUTS}
        texts = {name: self.query_one(f"#field-{name}", TextArea).text for name, _, _ in _TEXTS}
        return SettingsDraft(**values, **texts)

    def show_problems(self, problems: list[Any]) -> None:
        by_field: dict[str, list[str]] = {}
        for problem in problems:
            by_field.setdefault(problem.field, []).append(problem.message)
        for error in self.query(".field-error"):
            name = (error.id or "").removeprefix("error-")
            if not error.id or not error.id.startswith("error-"):
                continue
            messages = by_field.get(name, [])
            assert isinstance(error, Static)
            error.update("\n".join(messages))
            error.set_class(bool(messages), "-visible")

    @on(Input.Changed)
    @on(TextArea.Changed)
    def _changed(self) -> None:
        _, problems = settings_from_draft(self.read_draft(), self.collection)
        self.show_problems(problems)

    @on(Button.Pressed, "#settings-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#settings-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_save(self, overwrite: bool = False) -> None:
        from engine.collection.saver import FileChangedError
        from engine.errors import CollectionError

        values, problems = settings_from_draft(self.read_draft(), self.collection)
        self.show_problems(problems)
        summary = self.query_one("#settings-problem", Static)
        if values is None:
            summary.update(f"Not saved: {len(problems)} problem(s), see above")
            summary.set_class(True, "-visible")
            return
        try:
            self._save(values, overwrite)
        except FileChangedError:
            from deli_tui.drafting.conflict import ask_about_conflict

            ask_about_conflict(
                self.app, "collection.yaml", overwrite=lambda: self.action_save(True)
            )
            return
        except (OSError, CollectionError) as exc:
            summary.update(f"Not saved: {exc}")
            summary.set_class(True, "-visible")
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
