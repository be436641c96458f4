"""Read py-spy's raw (collapsed-stack) output and say where a worker's CPU time goes.

Each line is ``frame;frame;...;frame COUNT`` with frames like ``func (path/file.py:LINE)``.
Self time is charged to the innermost frame, inclusive time to every distinct function on
the stack. Percentages are of the samples in which the process was running Python. Waiting is
left out: with ``--native`` py-spy samples idle threads too (the pipe sender blocked on its
queue, the loop blocked in ``epoll_pwait``), and those stacks are not CPU.
Run alone: ``python benchmarks/profile_summary.py PROFILE.txt [TOP]``.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

_IDLE_STACK = ("SimpleQueue_get", "PipeSender._run")  # a thread blocked on its queue
_IDLE_LEAF = ("epoll_pwait", "epoll_wait")  # the loop waiting for I/O
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def _function(frame: str) -> str:
    """``file.py:func`` with the path shortened to the package-relative part."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match.group("file")
    for marker in ("site-packages/", "/main/", "python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{match.group('func')}"


def summarize(path: Path) -> tuple[int, Counter[str], Counter[str]]:
    """(total samples, self samples per function, inclusive samples per function)."""
    total = 0
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        if any(mark in stack for mark in _IDLE_STACK):
            continue
        frames = [_function(f) for f in stack.split(";") if f]
        if not frames or frames[-1].startswith(_IDLE_LEAF) or ":epoll_" in frames[-1]:
            continue
        total += count
        own[frames[-1]] += count
        for func in set(frames):
            inclusive[func] += count
    return total, own, inclusive


def by_package(own: Counter[str]) -> Counter[str]:
    """Self samples grouped by package (``engine/transport``, ``h2``, ``hpack``, ``libc``...)."""
    grouped: Counter[str] = Counter()
    for func, count in own.items():
        where = func.split(":", 1)[0]
        parts = where.split("/")
        if parts[0] == "engine" and len(parts) > 2:
            key = "/".join(parts[:2])
        elif len(parts) > 1:
            key = parts[0]
        else:
            key = where.split(".", 1)[0]  # a module or a native library
        grouped[key] += count
    return grouped


def print_summary(path: Path, top: int = 15, title: str = "") -> None:
    """Print self time by package, then the ``top`` functions by self and inclusive time."""
    total, own, inclusive = summarize(path)
    if not total:
        print(f"{path}: no samples")
        return
    print(f"\nprofile {title or path.name}: {total} samples")
    packages = by_package(own).most_common(12)
    print("  self % by package: " + ", ".join(f"{k} {100.0 * v / total:.1f}" for k, v in packages))
    print(f"  {'self %':>7}  function")
    for func, count in own.most_common(top):
        print(f"  {100.0 * count / total:7.1f}  {func}")
    print(f"  {'incl %':>7}  function (engine/ and deli_tui/ only)")
    shown = 0
    for func, count in inclusive.most_common():
        if func.startswith(("engine/", "deli_tui/")):
            print(f"  {100.0 * count / total:7.1f}  {func}")
            shown += 1
            if shown == top:
                break


if __name__ == "__main__":
    print_summary(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 15)
