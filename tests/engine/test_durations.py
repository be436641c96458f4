"""Durations as users write them in YAML and on the command line."""

from __future__ import annotations

import pytest

from engine.durations import format_duration, parse_duration, parse_think_time


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("10s", 10.0),
        ("1m30s", 90.0),
        ("2h", 7200.0),
        ("250us", 0.00025),
        ("1.5s", 1.5),
        ("10", 10.0),
        (3, 3.0),
        (0.25, 0.25),
        (" 2m ", 120.0),
        ("1h2m3s", 3723.0),
        ("100ms", 0.1),
    ],
)
def test_parse_duration_reads_units_and_bare_seconds(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["10x", "", "ms", "-5s", "1m30", True, None, -1, "1.2.3s"])
def test_parse_duration_rejects_bad_text_with_an_example(text: object) -> None:
    with pytest.raises(ValueError, match=r"is not a duration; use e\.g\. 500ms, 10s, 1m30s"):
        parse_duration(text)  # type: ignore[arg-type]


def test_parse_duration_message_quotes_the_bad_text() -> None:
    with pytest.raises(ValueError) as info:
        parse_duration("10x")
    assert str(info.value) == "'10x' is not a duration; use e.g. 500ms, 10s, 1m30s"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (90.0, "1m30s"),
        (0.5, "500ms"),
        (10.0, "10s"),
        (2.5, "2.5s"),
        (0.00025, "250us"),
        (3600.0, "1h"),
        (0.0, "0s"),
        (3723.0, "1h2m3s"),
    ],
)
def test_format_duration_is_compact(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize("seconds", [0.1, 0.5, 1.0, 2.5, 59.0, 60.0, 90.0, 3600.0, 0.00025])
def test_format_then_parse_gives_the_same_seconds(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)


def test_think_time_is_fixed_or_a_range() -> None:
    assert parse_think_time("100ms") == (0.1, 0.1)
    assert parse_think_time("100ms..300ms") == (0.1, 0.3)
    assert parse_think_time("0s") == (0.0, 0.0)
    assert parse_think_time(1) == (1.0, 1.0)


@pytest.mark.parametrize("text", ["300ms..100ms", "fast", "1x..2s", "..1s"])
def test_think_time_rejects_bad_ranges(text: str) -> None:
    with pytest.raises(ValueError, match="think time"):
        parse_think_time(text)
