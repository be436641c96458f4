"""JSON paths as checks and extractions use them: ``$.a.b[0]`` and ``$['a key'][1]``.

Parsed once (cached) into steps; ``walk`` follows the steps through a decoded document.
"""

from __future__ import annotations

import re
from enum import Enum
from functools import lru_cache
from typing import Any

JsonStep = str | int
_STEP = re.compile(
    r"""\.(?P<name>[A-Za-z_$@][\w$@-]*)"""
    r"""|\[(?P<index>-?\d+)\]"""
    r"""|\[(?P<quote>['"])(?P<key>(?:(?!(?P=quote)).)*)(?P=quote)\]"""
)


class JsonNull(Enum):
    """``equals: null`` in a check; ``None`` already means "the path exists"."""

    NULL = "null"

    def __repr__(self) -> str:
        return "null"


class _Absent(Enum):
    ABSENT = "absent"


ABSENT = _Absent.ABSENT  # what ``walk`` returns when the path leads nowhere


@lru_cache(maxsize=512)
def parse_json_path(path: str) -> tuple[JsonStep, ...]:
    """Steps of ``$.a.b[0]`` / ``$['a key'][1]``; raises ValueError naming the bad part."""
    if not isinstance(path, str) or not path.startswith("$"):
        raise ValueError(f"JSON path {path!r} must start with '$', e.g. $.data.items[0].id")
    steps: list[JsonStep] = []
    pos = 1
    while pos < len(path):
        m = _STEP.match(path, pos)
        if m is None:
            raise ValueError(
                f"JSON path {path!r}: cannot read {path[pos:]!r}; use .name, [0] or ['key']"
            )
        if m["name"] is not None:
            steps.append(m["name"])
        elif m["index"] is not None:
            steps.append(int(m["index"]))
        else:
            steps.append(m["key"])
        pos = m.end()
    return tuple(steps)


def walk(doc: Any, steps: tuple[JsonStep, ...]) -> Any:
    """The value at ``steps`` in a decoded JSON document, or ``ABSENT``."""
    node = doc
    for step in steps:
        if isinstance(step, int):
            if not isinstance(node, list) or not -len(node) <= step < len(node):
                return ABSENT
            node = node[step]
        else:
            if not isinstance(node, dict) or step not in node:
                return ABSENT
            node = node[step]
    return node
