"""The unsaved drafts of one editor screen, copied to ``.deli/recovery/`` so a crash loses nothing.

A screen keeps its drafts here by key (a request's path, a scenario's name). Once edits pause
for ``RECOVERY_DELAY_S`` the copies on disk are brought in line with the drafts, and once more
when the screen closes; at the next start the copies left behind are offered back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from deli_tui.drafting.drafts import FormDraft
from deli_tui.drafting.recovery import RecoveryStore
from deli_tui.screens.recover_edits import RecoverEditsScreen

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.timer import Timer

RECOVERY_DELAY_S = 0.5

D = TypeVar("D", bound=FormDraft)


class DraftKeeper(Generic[D]):
    """The drafts of one kind (``request`` or ``scenario``) that ``screen`` edits, and their
    recovery copies in ``store``. ``screen`` gives the timer, the notices and the dialog."""

    def __init__(
        self, screen: Screen[Any], store: RecoveryStore, kind: str, draft_type: type[D]
    ) -> None:
        self.drafts: dict[str, D] = {}
        self.written: dict[str, dict[str, Any]] = {}  # what each copy on disk holds
        self._screen = screen
        self._store = store
        self._kind = kind
        self._draft_type = draft_type
        self._timer: Timer | None = None

    def update(self, key: str, draft: D | None) -> None:
        """``draft`` is the unsaved version of ``key``; None: ``key`` matches its file again."""
        if draft is None:
            self.drafts.pop(key, None)
        else:
            self.drafts[key] = draft
        self._schedule()

    def take(self, key: str) -> D | None:
        """Remove the draft of ``key`` and its copy now (saved, deleted, or moved elsewhere)."""
        self._store.clear(self._kind, key)
        self.written.pop(key, None)
        return self.drafts.pop(key, None)

    # -- recovery copies ------------------------------------------------------------------
    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self._screen.set_timer(RECOVERY_DELAY_S, self.write)

    def flush(self) -> None:
        """Write what is pending (the screen closes: quitting must not lose the last edits)."""
        if self._timer is not None:
            self._timer.stop()
            self.write()

    def write(self) -> None:
        """Bring the copies on disk in line with the drafts (atomic writes)."""
        self._timer = None
        for key, draft in self.drafts.items():
            fields = draft.as_dict()
            if self.written.get(key) != fields:
                try:
                    self._store.save(self._kind, key, fields)
                except OSError as exc:
                    message = f"Could not write a recovery copy: {exc}"
                    self._screen.notify(message, severity="warning")
                    return
                self.written[key] = fields
        for key in [k for k in self.written if k not in self.drafts]:
            self._store.clear(self._kind, key)
            del self.written[key]

    def offer(
        self, *, stale: Callable[[str, D], bool], restore: Callable[[dict[str, D]], None]
    ) -> None:
        """Offer back the copies an earlier session left: ``stale(key, draft)`` says a copy is
        not worth offering (it matches its file, or the file is gone) and it is removed;
        ``restore`` gets the drafts the user chose to restore."""
        found: dict[str, D] = {}
        for copy in self._store.load_all():
            if copy.kind != self._kind:
                continue
            draft = self._draft_type.from_dict(copy.fields)
            if stale(copy.key, draft):
                self._store.clear(self._kind, copy.key)
            else:
                found[copy.key] = draft
        if not found:
            return

        def chosen(answer: str | None) -> None:
            if answer == "restore":
                for key, draft in found.items():
                    self.written[key] = draft.as_dict()
                restore(found)
            elif answer == "discard":
                for key in found:
                    self._store.clear(self._kind, key)

        self._screen.app.push_screen(RecoverEditsScreen(self._kind, found), chosen)
