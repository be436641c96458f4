"""Writing report files: atomically (temp file, fsync, rename), never half a file, and mode
0600 (``mkstemp`` creates it so): a report can carry what a run saw of its target."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO, TypeVar

T = TypeVar("T")


def write_atomic_with(
    path: str | Path, write: Callable[[TextIO], T], newline: str | None = None
) -> T:
    """Run ``write`` on a temp file beside ``path``, fsync it, rename it into place; returns
    what ``write`` returned. On any failure the temp file goes and ``path`` is untouched."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
    try:
        with os.fdopen(fd, "w", newline=newline, encoding="utf-8") as fh:
            written = write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return written


def write_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (``write_atomic_with``)."""
    write_atomic_with(path, lambda fh: fh.write(text))
