"""Error classes with their counts and the latest message of each (from the engine's ring)."""

from __future__ import annotations

from rich.text import Text

from deli_tui.widgets.snapshot_text import SnapshotText
from engine.results import ERROR_CLASSES
from engine.run.protocol import ErrorSample, Snapshot
from engine.units import format_count


def latest_by_class(samples: tuple[ErrorSample, ...]) -> dict[str, ErrorSample]:
    """The most recent sample of each error class (samples come oldest first)."""
    latest: dict[str, ErrorSample] = {}
    for sample in samples:
        latest[sample.error_class] = sample
    return latest


class ErrorSummary(SnapshotText):
    """Counts per error class in report order, each with its latest message."""

    DEFAULT_CSS = """
    ErrorSummary > .error-summary--class { color: $error; }
    ErrorSummary > .error-summary--ok { color: $success; }
    ErrorSummary > .error-summary--message { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"error-summary--class", "error-summary--ok", "error-summary--message"}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("Errors", id=id, classes=classes)

    def build(self, snapshot: Snapshot) -> Text:
        subtitle = "e: inspect" if snapshot.recent_errors else ""
        if subtitle != self.border_subtitle:
            self.border_subtitle = subtitle
        counts = dict(snapshot.errors)
        text = Text(no_wrap=True, overflow="ellipsis")
        if not counts:
            text.append("no errors", self._styles.component("error-summary--ok"))
            return text
        order = [c for c in ERROR_CLASSES if c in counts] + sorted(
            c for c in counts if c not in ERROR_CLASSES
        )
        latest = latest_by_class(snapshot.recent_errors)
        klass = self._styles.component("error-summary--class")
        muted = self._styles.component("error-summary--message")
        share_of = snapshot.requests or 1
        for k, name in enumerate(order):
            if k:
                text.append("\n")
            text.append(f"{name:<11}", klass)
            text.append(f"{format_count(counts[name]):>6} {counts[name] / share_of:6.1%}")
            sample = latest.get(name)
            if sample is not None:
                text.append(f"  {sample.request}: {sample.message}", muted)
        return text
