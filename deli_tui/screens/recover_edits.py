"""The dialog offering back the unsaved edits an earlier session left as recovery copies."""

from __future__ import annotations

from collections.abc import Iterable

from deli_tui.screens.confirm import ChoiceScreen


class RecoverEditsScreen(ChoiceScreen):
    """Lists what has recovery copies; dismisses with ``restore``, ``discard`` or ``later``
    (escape: ask again at the next start)."""

    def __init__(self, kind: str, keys: Iterable[str]) -> None:
        names = "\n".join(f"  {key}" for key in sorted(keys))
        super().__init__(
            "Recover unsaved edits",
            f"Unsaved {kind} edits from an earlier session were kept for:\n{names}\n\n"
            "Restore them as unsaved edits, or discard them?",
            (("Restore", "restore", "primary"), ("Discard", "discard", "error")),
            cancel_value="later",
        )
