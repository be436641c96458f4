"""Dynamic values with Postman's names (``{{$guid}}``, ``{{$timestamp}}``...): a new value for
every request that uses one, so imported collections keep working."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime


def _uuid() -> str:
    return str(uuid.uuid4())


def _timestamp() -> str:
    return str(int(time.time()))


def _iso_timestamp() -> str:
    """``2024-05-01T12:00:00.123Z``, as Postman writes it."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _random_int() -> str:
    return str(random.randint(0, 1000))


DYNAMIC_VALUES: dict[str, Callable[[], str]] = {
    "$guid": _uuid,
    "$randomUUID": _uuid,
    "$timestamp": _timestamp,
    "$isoTimestamp": _iso_timestamp,
    "$randomInt": _random_int,
}


def is_dynamic(name: str) -> bool:
    """Whether ``name`` (as written between the braces) is a dynamic value's name."""
    return name.startswith("$")
