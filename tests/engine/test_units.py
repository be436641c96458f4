"""Numbers as people read them: three significant digits, never a rounding into '1000us'."""

from __future__ import annotations

import pytest

from engine.units import format_ms


@pytest.mark.parametrize(
    ("ms", "shown"),
    [
        (0.0, "0"),
        (0.85, "850us"),
        (0.9994, "999us"),
        (0.9996, "1.00ms"),
        (4.561, "4.56ms"),
        (9.996, "10.0ms"),
        (99.96, "100ms"),
        (999.6, "1.00s"),
        (1500.0, "1.50s"),
        (99_960.0, "100s"),
    ],
)
def test_latencies_keep_three_digits_across_unit_edges(ms: float, shown: str) -> None:
    assert format_ms(ms) == shown
