"""The export dialog: pick a report format and the file to write; the app writes it."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, RadioButton, RadioSet, Static

from deli_tui.run_files import FORMATS, ExportSource, Kind, default_path, unavailable

Chosen = tuple[Kind, Path]


class ExportRequested(Message):
    """A screen asks for ``source`` to be exported (the app opens the export dialog)."""

    def __init__(self, source: ExportSource) -> None:
        super().__init__()
        self.source = source


class ExportScreen(ModalScreen[Chosen | None]):
    """Dismisses with (format, path), or None on escape."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "cancel", "Cancel", id="export.cancel", tooltip="Close; nothing is written"
        ),
    ]

    def __init__(self, source: ExportSource, folder: Path) -> None:
        super().__init__(classes="dialog", id="export-dialog")
        self.source = source
        self.folder = folder
        self.kind: Kind = "html"
        self._edited = False

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog-box"):
            yield Label(f"Export {self.source.stem}", id="dialog-title")
            with RadioSet(id="export-format"):
                for kind, (label, _) in FORMATS.items():
                    yield RadioButton(label, value=kind == self.kind, id=f"format-{kind}")
            yield Static("File (enter writes it):", classes="hint")
            yield Input(str(default_path(self.source, self.kind, self.folder)), id="export-path")
            yield Static("", id="export-error", classes="field-error", markup=False)

    def on_mount(self) -> None:
        self.query_one("#export-format", RadioSet).focus()

    @on(RadioSet.Changed, "#export-format")
    def _format(self, event: RadioSet.Changed) -> None:
        self.kind = (event.pressed.id or "format-html").removeprefix("format-")  # type: ignore[assignment]
        path_input = self.query_one("#export-path", Input)
        current = Path(path_input.value)
        if self._edited:
            path_input.value = str(current.with_suffix(FORMATS[self.kind][1]))
        else:
            path_input.value = str(default_path(self.source, self.kind, self.folder))
        self.query_one("#export-error", Static).update(unavailable(self.source, self.kind) or "")

    @on(Input.Changed, "#export-path")
    def _typed(self, event: Input.Changed) -> None:
        self._edited = event.value != str(default_path(self.source, self.kind, self.folder))

    @on(Input.Submitted, "#export-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        error = unavailable(self.source, self.kind)
        path = Path(event.value.strip()).expanduser()
        if error is None and not event.value.strip():
            error = "a file name is required"
        elif error is None and not path.resolve().parent.is_dir():
            error = f"{path.parent} is not a folder"
        if error:
            self.query_one("#export-error", Static).update(error)
            return
        self.dismiss((self.kind, path))

    def action_cancel(self) -> None:
        self.dismiss(None)
