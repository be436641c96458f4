"""A run's files from the app: the finished run saved in ``.deli/runs/``, and a run (just
finished or saved) exported as a report: JSON, HTML, JUnit XML or CSV.

No Textual here: the dashboard saves through ``save_run``; the export dialog asks for a
format and a file, and the app calls ``export_run``. CSV needs the raw results, which only
the run just finished holds.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from engine.history.rebuild import finished_of
from engine.history.saved_run import SavedRun
from engine.plan.model import RunPlan
from engine.run.protocol import Finished


def engine_log_path(runs_dir: Path | None) -> str:
    """Where the engine's own stdout/stderr go while the app owns the terminal: a stray
    warning or traceback from a worker would otherwise draw over the screen."""
    if runs_dir is not None:
        runs_dir.parent.mkdir(parents=True, exist_ok=True)
        return str(runs_dir.parent / "engine.log")
    return str(Path(tempfile.gettempdir()) / f"deli-tui-engine-{os.getuid()}.log")


def shown_path(path: Path) -> str:
    """``path`` relative to the working directory when it is under it (shorter on screen)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def run_file_name(scenario: str, when: float | None = None) -> str:
    """``<UTC timestamp>-<scenario>.json``, safe as a file name."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(when))
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", scenario).strip("-") or "run"
    return f"{stamp}-{safe}.json"


def save_run(runs_dir: Path, finished: Finished, plan: RunPlan | None) -> Path:
    """Write the finished run into ``runs_dir`` as its JSON report; returns the file. A run
    saved within the same second as another of its scenario gets a ``-2`` suffix."""
    from engine.reports.json_report import write_json

    runs_dir.mkdir(parents=True, exist_ok=True)
    path = runs_dir / run_file_name(finished.snapshot.scenario)
    stem, n = path.stem, 2
    while path.exists():
        path = runs_dir / f"{stem}-{n}.json"
        n += 1
    if plan is not None:
        write_json(path, plan, finished)
    else:
        write_json(path, finished.snapshot, finished)
    return path


Kind = Literal["json", "html", "junit", "csv"]
FORMATS: dict[Kind, tuple[str, str]] = {
    "json": ("JSON", ".json"),
    "html": ("HTML", ".html"),
    "junit": ("JUnit XML", ".xml"),
    "csv": ("CSV", ".csv"),
}


@dataclass(frozen=True, slots=True)
class ExportSource:
    """A run to export: its ``Finished`` (final snapshot, verdict), the saved JSON file when
    there is one, and for the run just finished its plan (request names, secrets)."""

    finished: Finished
    stem: str  # the file name the exports take, without extension
    saved: Path | None = None
    plan: RunPlan | None = None
    window_s: float = 0.5

    @classmethod
    def of_saved(cls, run: SavedRun) -> ExportSource:
        series = run.data.get("series")
        window_s = series.get("window_s", 0.5) if isinstance(series, dict) else 0.5
        stem = run.path.stem if run.path is not None else "run"
        return cls(finished_of(run), stem, run.path, None, float(window_s or 0.5))

    @classmethod
    def of_finished(
        cls, finished: Finished, plan: RunPlan | None, saved: Path | None
    ) -> ExportSource:
        stem = saved.stem if saved is not None else f"{finished.snapshot.scenario or 'run'}"
        return cls(finished, stem, saved, plan, plan.window_s if plan is not None else 0.5)


def unavailable(source: ExportSource, kind: Kind) -> str | None:
    """Why ``kind`` cannot be written for this run, or None when it can."""
    if kind == "csv" and (source.plan is None or not source.finished.results):
        return (
            "CSV holds every raw result, and only the run just finished has them in memory; "
            "a saved run keeps its summary and distribution"
        )
    return None


def default_path(source: ExportSource, kind: Kind, folder: Path) -> Path:
    return folder / f"{source.stem}{FORMATS[kind][1]}"


def export_run(source: ExportSource, kind: Kind, path: Path) -> int:
    """Write the report; returns the bytes written. Raises ``OSError`` or ``ValueError``."""
    reason = unavailable(source, kind)
    if reason is not None:
        raise ValueError(reason)
    f = source.finished
    if kind == "json":
        from engine.reports.files import write_atomic

        if source.saved is not None and source.saved.resolve() != path.resolve():
            write_atomic(path, source.saved.read_text(encoding="utf-8"))
        elif source.saved is None:
            from engine.reports.json_report import write_json

            if source.plan is not None:
                write_json(path, source.plan, f)
            else:
                write_json(path, f.snapshot, f.passed, f.reason)
    elif kind == "html":
        from engine.reports.files import write_atomic
        from engine.reports.html_report import html_report

        write_atomic(path, html_report(f.snapshot, f.passed, f.reason, source.window_s))
    elif kind == "junit":
        from engine.reports.junit_report import write_junit

        write_junit(path, f.snapshot, f.passed, f.reason)
    else:
        from engine.reports.csv_report import write_run_csv

        assert source.plan is not None
        write_run_csv(path, source.plan, f)  # every result, from the run's spool
    return path.stat().st_size
