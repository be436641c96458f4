"""Data rows handed to users: unique rows never shared (between users or workers) and given
back when a user leaves, cycle in turn, random within the file."""

from __future__ import annotations

import random

from engine.load.flow import RowSource
from engine.plan.model import DataRows

ROWS = tuple((f"u{i}",) for i in range(5))


def _data(mode: str) -> DataRows:
    return DataRows("users.csv", "user", mode, (1,), ROWS)  # type: ignore[arg-type]


def test_unique_rows_are_split_between_workers_and_given_back() -> None:
    first, second = (RowSource(_data("unique"), w, 2, random.Random()) for w in (0, 1))
    taken = [first.take(), first.take(), first.take(), first.take()]
    assert taken == [0, 1, 2, None]  # worker 0 owns rows 0-2, worker 1 rows 3-4
    assert [second.take(), second.take(), second.take()] == [3, 4, None]
    first.give(1)
    assert first.take() == 1


def test_cycle_takes_rows_in_turn_each_worker_its_own_stride() -> None:
    first, second = (RowSource(_data("cycle"), w, 2, random.Random()) for w in (0, 1))
    assert [first.take() for _ in range(4)] == [0, 2, 4, 1]
    assert [second.take() for _ in range(3)] == [1, 3, 0]


def test_random_rows_stay_within_the_file() -> None:
    source = RowSource(_data("random"), 0, 1, random.Random(7))
    picked = {source.take() for _ in range(200)}
    assert picked == set(range(5))
