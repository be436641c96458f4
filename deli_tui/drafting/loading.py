"""For a form that edits a draft: tell the user's edits from the field changes ``load`` makes."""

from __future__ import annotations


class DraftLoading:
    """Mixed into a form widget so that ``Edited`` is posted for the user's edits only, not for
    the field changes that showing a draft with ``load`` makes."""

    _loading = False
    _has_draft = False

    def _start_loading(self) -> None:
        self._loading = True
        self._has_draft = True

    def _loaded(self) -> None:
        self._loading = False

    @property
    def _user_edited(self) -> bool:
        """A change now comes from the user: a draft is shown and no ``load`` is under way."""
        return self._has_draft and not self._loading
