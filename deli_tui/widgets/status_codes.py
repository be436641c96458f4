"""HTTP status code distribution, coloured by class (2xx, 3xx, 4xx, 5xx)."""

from __future__ import annotations

from rich.text import Text

from deli_tui.widgets.snapshot_text import SnapshotText
from engine.run.protocol import Snapshot
from engine.units import format_count


class StatusCodes(SnapshotText):
    """One line per status code: count, share of responses and a small bar."""

    DEFAULT_CSS = """
    StatusCodes > .status-codes--2xx { color: $success; }
    StatusCodes > .status-codes--3xx { color: $primary; }
    StatusCodes > .status-codes--4xx { color: $warning; }
    StatusCodes > .status-codes--5xx { color: $error; }
    StatusCodes > .status-codes--none { color: $text-muted; }
    """
    COMPONENT_CLASSES = {
        "status-codes--2xx",
        "status-codes--3xx",
        "status-codes--4xx",
        "status-codes--5xx",
        "status-codes--none",
    }
    BAR_W = 10

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("Status codes", id=id, classes=classes)

    def build(self, snapshot: Snapshot) -> Text:
        codes = sorted(snapshot.status_codes)
        text = Text(no_wrap=True, overflow="ellipsis")
        if not codes:
            text.append("no responses yet", self._styles.component("status-codes--none"))
            return text
        total = sum(n for _, n in codes) or 1
        for k, (code, count) in enumerate(codes):
            if k:
                text.append("\n")
            family = f"{code // 100}xx" if 200 <= code < 600 else "none"
            style = self._styles.component(f"status-codes--{family}")
            share = count / total
            bar = "█" * max(1, round(share * self.BAR_W))
            text.append(f"{code:>3} ", style)
            text.append(f"{format_count(count):>6} {share:6.1%} ")
            text.append(bar, style)
        return text
