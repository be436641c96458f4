"""Plain-text tables for benchmark figures, and the ratio/target verdict beside them."""

from __future__ import annotations

import math
from collections.abc import Sequence


def ratio(ours: float, reference: float) -> float:
    """ours / reference (nan when the reference is zero or missing)."""
    if not reference or math.isnan(reference) or math.isnan(ours):
        return float("nan")
    return ours / reference


def fmt(value: object) -> str:
    """Numbers with thousands separators and sensible precision; text as is."""
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("PASS" if ok else "BELOW TARGET")


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print ``rows`` under ``header`` as aligned columns, with ``title`` above."""
    cells = [[fmt(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    line = "  ".join("-" * w for w in widths)
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print(line)
    for row in cells:
        print(
            "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    print(flush=True)


def print_noise_note(waited_share: float, limit: float = 0.15) -> None:
    """Warn when the engine's worker spent more than ``limit`` of the run waiting for a CPU:
    other processes set the pace then, and throughput ratios say more about the machine."""
    if waited_share > limit:
        print(
            f"NOTE: the worker waited for a CPU {100 * waited_share:.0f}% of the run: the "
            "machine is busy, so these figures are noisy; rerun when it is quiet."
        )
