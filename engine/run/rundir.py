"""Where a run keeps its working files (the raw-result spool), and how they go away.

A run's directory, made by whoever starts the run (the app or ``deli-tui run``):

- a collection's run: ``<collection>/.deli/runs/<run id>/``, beside the saved runs;
- a bare URL with ``--csv`` or ``--json``: ``.deli-run-<run id>/`` in the directory of the
  first of those files (the disk the user chose for the run's output);
- a bare URL without: ``$XDG_CACHE_HOME/deli-tui/runs/<run id>/`` (``~/.cache/...``), not
  the temp directory, which is often memory (tmpfs).

The spool is working data, kept by nobody: it is removed when the run's reports are written
(``--csv`` is how raw results are kept) or its dashboard is closed. A directory holds an
``.deli-run-owner`` file (the pid of the process that made it); a run killed before it could
clean up leaves its directory, and the next run in the same place removes it once that pid
is gone.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from pathlib import Path

OWNER = ".deli-run-owner"
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")
_RUN_DIR = re.compile(r"^(\.deli-run-)?\d{8}T\d{6}Z-")  # what run_id (maybe prefixed) makes


def run_id(scenario: str, when: float | None = None) -> str:
    """``20261204T180700Z-smoke``: the run's start (UTC) and its scenario."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if when is None else when))
    slug = _SLUG.sub("-", scenario).strip("-")[:40] or "run"
    return f"{stamp}-{slug}"


def cache_runs_dir() -> Path:
    """``$XDG_CACHE_HOME/deli-tui/runs`` (``~/.cache/deli-tui/runs``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "deli-tui" / "runs"


def make_run_dir(parent: Path, name: str) -> Path:
    """A new directory ``parent/name`` (``name-2``... if taken), mode 0700, with an owner
    file; runs left behind in ``parent`` by processes that are gone are removed first."""
    parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(parent)
    for n in range(1, 1000):
        path = parent / (name if n == 1 else f"{name}-{n}")
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue
        (path / OWNER).write_text(f"{os.getpid()}\n")
        return path
    raise FileExistsError(f"no free run directory for {name} in {parent}")


def remove_run_dir(path: Path) -> None:
    """Remove a run's working files (only a directory this module made: it has an owner)."""
    if (path / OWNER).is_file():
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(parent: Path) -> list[Path]:
    """Remove the run directories in ``parent`` whose owner process is gone."""
    removed = []
    with contextlib.suppress(OSError):
        for path in parent.iterdir():
            owner = path / OWNER
            if not _RUN_DIR.match(path.name) or not owner.is_file():
                continue
            try:
                pid = int(owner.read_text().strip())
            except (OSError, ValueError):
                continue
            if pid != os.getpid() and not _alive(pid):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed
