"""What a save does when its file changed on disk since it was opened: ask, never overwrite."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from deli_tui.screens.file_changed import FileChangedScreen

if TYPE_CHECKING:
    from textual.app import App


def ask_about_conflict(
    app: App[Any],
    name: str,
    *,
    overwrite: Callable[[], None],
    reload: Callable[[], None] | None = None,
) -> None:
    """Ask what to do about ``name``, changed on disk: ``overwrite`` it with the edits,
    ``reload`` it (when given: the edits here are dropped) or cancel and keep both."""

    def chosen(answer: str | None) -> None:
        if answer == "overwrite":
            overwrite()
        elif answer == "reload" and reload is not None:
            reload()

    app.push_screen(FileChangedScreen(name, can_reload=reload is not None), chosen)
