"""Small modal dialogs: a question with a few buttons, and a one-line text prompt."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

Choice = tuple[str, str, str]  # (button label, value returned, button variant)

YES_NO: tuple[Choice, ...] = (("Yes", "yes", "primary"), ("No", "no", "default"))


class ChoiceScreen(ModalScreen[str]):
    """Asks ``question`` and dismisses with the chosen value; escape returns ``cancel_value``."""

    BINDINGS = [
        Binding(
            "escape",
            "cancel",
            "Cancel",
            id="dialog.cancel",
            tooltip="Close the dialog; nothing happens",
        ),
        Binding(
            "left",
            "app.focus_previous",
            "Previous",
            show=False,
            id="dialog.previous",
            tooltip="The button on the left",
        ),
        Binding(
            "right",
            "app.focus_next",
            "Next",
            show=False,
            id="dialog.next",
            tooltip="The button on the right",
        ),
    ]

    def __init__(
        self,
        title: str,
        question: str,
        choices: Sequence[Choice] = YES_NO,
        cancel_value: str = "no",
        focus_value: str | None = None,
    ) -> None:
        super().__init__(classes="dialog")
        self.dialog_title = title
        self.question = question
        self.choices = tuple(choices)
        self.cancel_value = cancel_value
        self.focus_value = focus_value

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog-box"):
            yield Label(self.dialog_title, id="dialog-title")
            yield Static(self.question, id="dialog-question", markup=False)
            with Horizontal(id="dialog-buttons"):
                for label, value, variant in self.choices:
                    yield Button(label, id=f"choice-{value}", variant=variant)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        value = self.focus_value or self.cancel_value
        buttons = list(self.query(Button))
        wanted = [b for b in buttons if b.id == f"choice-{value}"]
        (wanted or buttons)[0].focus()

    @on(Button.Pressed)
    def _chosen(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss((event.button.id or "").removeprefix("choice-"))

    def action_cancel(self) -> None:
        self.dismiss(self.cancel_value)


class TextPromptScreen(ModalScreen[str | None]):
    """Asks for one line of text; enter accepts (when ``validate`` returns no error), escape
    cancels with None. ``validate`` returns an error message or None."""

    BINDINGS = [
        Binding(
            "escape",
            "cancel",
            "Cancel",
            id="prompt.cancel",
            tooltip="Close the prompt; nothing happens",
        )
    ]

    def __init__(
        self,
        title: str,
        prompt: str,
        value: str = "",
        validate: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__(classes="dialog")
        self.dialog_title = title
        self.prompt = prompt
        self.initial = value
        self.validate = validate

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog-box"):
            yield Label(self.dialog_title, id="dialog-title")
            yield Static(self.prompt, id="dialog-question", markup=False)
            yield Input(self.initial, id="prompt-input")
            yield Static("", id="prompt-error", classes="field-error", markup=False)

    def on_mount(self) -> None:
        self.query_one("#prompt-input", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        error = "a value is required" if not value else None
        if error is None and self.validate is not None:
            error = self.validate(value)
        if error:
            self.query_one("#prompt-error", Static).update(error)
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
