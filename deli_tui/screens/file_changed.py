"""The dialog shown before a save would overwrite a file changed on disk since it was opened."""

from __future__ import annotations

from deli_tui.screens.confirm import Choice, ChoiceScreen


class FileChangedScreen(ChoiceScreen):
    """Dismisses with ``overwrite``, ``reload`` (only when ``can_reload``) or ``cancel``."""

    def __init__(self, name: str, *, can_reload: bool) -> None:
        if can_reload:
            what = (
                "Reload discards your edits here and shows the file; Overwrite replaces the file "
                "with your edits; Cancel keeps both as they are."
            )
            choices: tuple[Choice, ...] = (
                ("Reload", "reload", "warning"),
                ("Overwrite", "overwrite", "error"),
                ("Cancel", "cancel", "default"),
            )
        else:
            what = "Overwrite replaces the file with your edits; Cancel keeps your edits unsaved."
            choices = (("Overwrite", "overwrite", "error"), ("Cancel", "cancel", "default"))
        super().__init__(
            "File changed on disk",
            f"{name} changed on disk since it was opened.\n{what}",
            choices,
            cancel_value="cancel",
        )
