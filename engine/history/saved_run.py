"""A saved run (the JSON report) read back: its summary figures, when it ran, how it ended.

Reading is forgiving by design: a run saved by an older or newer version of deli-tui lacks
or adds keys, and every figure here falls back to "not known" rather than failing. Only a
file that is not a run at all (not JSON, or no ``version`` key) is refused.
"""

from __future__ import annotations

import calendar
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_STAMP = re.compile(r"(\d{8}T\d{6}Z)")
# A run file is a few hundred KiB at most; anything far larger is not one.
MAX_RUN_FILE_BYTES = 64 * 1024 * 1024


class RunFileError(ValueError):
    """A file that cannot be read as a saved run; the message says which and why."""

    def __init__(self, path: Path | None, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path is not None else message)


def _number(value: object, default: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return float(value)


def _parse_time(text: object) -> float | None:
    """Epoch seconds from ``2024-05-01T12:00:00Z`` or a file name's ``20240501T120000Z``."""
    if not isinstance(text, str):
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y%m%dT%H%M%SZ"):
        try:
            return float(calendar.timegm(time.strptime(text, fmt)))
        except ValueError:
            continue
    return None


@dataclass(frozen=True, slots=True)
class SavedRun:
    """One saved run: the JSON document as written, where it came from, and when it ended."""

    data: Mapping[str, Any]
    path: Path | None = None
    when: float = 0.0  # epoch seconds the run ended (0 when unknown)

    # --- what every list and table shows ---------------------------------------------------

    @property
    def name(self) -> str:
        """How the run is called on screen: its file name, or "run" for an unnamed one."""
        return self.path.name if self.path is not None else "run"

    @property
    def scenario(self) -> str:
        return str(self.data.get("scenario") or "")

    @property
    def collection(self) -> str:
        return str(self.data.get("collection") or "")

    @property
    def target(self) -> str:
        return str(self.data.get("target") or "")

    @property
    def model(self) -> str:
        return str(self.data.get("model") or "closed")

    @property
    def reason(self) -> str:
        return str(self.data.get("reason") or "")

    @property
    def requests(self) -> int:
        return int(_number(self.data.get("requests")))

    @property
    def rps(self) -> float:
        return _number(self.data.get("rps"))

    @property
    def error_rate(self) -> float:
        return _number(self.data.get("error_rate"))

    @property
    def duration_s(self) -> float:
        return _number(self.data.get("duration_s"))

    def latency_ms(self, key: str) -> float | None:
        """A figure of the run's latency (``p95``, ``max``...) in ms; None when not saved."""
        latency = self.data.get("latency_ms")
        if not isinstance(latency, Mapping) or key not in latency:
            return None
        return _number(latency[key])

    @property
    def load(self) -> Mapping[str, Any]:
        load = self.data.get("load")
        return load if isinstance(load, Mapping) else {}

    @property
    def load_text(self) -> str:
        """``10 users`` or ``200/s``; ``stress 10-500 users`` for a stress run; ``?`` unknown."""
        stress = self.data.get("stress")
        if isinstance(stress, Mapping) and stress.get("steps"):
            loads = [_number(s.get("load")) for s in stress["steps"] if isinstance(s, Mapping)]
            unit = "/s" if stress.get("over") == "rate" else " users"
            return f"stress {min(loads):g}-{max(loads):g}{unit}"
        peak = self.load.get("peak")
        if peak is None:
            return "?"
        over = self.load.get("over", "rate" if self.model == "open" else "users")
        return f"{_number(peak):g}/s" if over == "rate" else f"{_number(peak):g} users"

    @property
    def passed(self) -> bool:
        return self.data.get("passed") is True

    @property
    def ended_early(self) -> str | None:
        """ "stopped" or "quit" when the run did not reach its end, else None."""
        ended = self.data.get("ended")
        if ended in ("stopped", "quit"):
            return str(ended)
        reason = self.reason.lower()
        for word in ("quit", "stopped"):
            if reason.startswith(word):
                return word
        return None

    @property
    def verdict(self) -> str:
        """PASSED, FAILED, STOPPED or QUIT: the word the lists show. The run's own verdict
        when it saved one (a run that failed a threshold before it was stopped is FAILED);
        for older runs, how it ended and whether it passed."""
        saved = self.data.get("verdict")
        if saved == "failed":
            return "FAILED"
        early = self.ended_early
        if early is not None:
            return early.upper()
        return "PASSED" if saved == "passed" or self.passed else "FAILED"

    @property
    def thresholds(self) -> list[tuple[str, float | None, bool | None]]:
        """(expression, measured value, passed) as saved."""
        out: list[tuple[str, float | None, bool | None]] = []
        for t in self.data.get("thresholds") or ():
            if not isinstance(t, Mapping) or not isinstance(t.get("expr"), str):
                continue
            value = t.get("value")
            passed = t.get("passed")
            out.append(
                (
                    t["expr"],
                    _number(value) if isinstance(value, int | float) else None,
                    passed if isinstance(passed, bool) else None,
                )
            )
        return out

    @property
    def request_names(self) -> list[str]:
        per_request = self.data.get("per_request")
        return list(per_request) if isinstance(per_request, Mapping) else []

    def request(self, name: str) -> Mapping[str, Any]:
        per_request = self.data.get("per_request")
        if isinstance(per_request, Mapping) and isinstance(per_request.get(name), Mapping):
            return per_request[name]  # type: ignore[no-any-return]
        return {}

    def digest(self, request: str | None = None) -> list[tuple[float, float]]:
        """The saved t-digest centroids ``(mean_ms, weight)`` of the run (or of one request);
        empty when the run saved none."""
        saved = self.data.get("latency_digest_ms")
        if not isinstance(saved, Mapping):
            return []
        if request is None:
            raw = saved.get("all")
        else:
            per_request = saved.get("per_request")
            raw = per_request.get(request) if isinstance(per_request, Mapping) else None
        out = []
        for pair in raw or ():
            if isinstance(pair, list | tuple) and len(pair) == 2:
                mean, weight = _number(pair[0], -1.0), _number(pair[1], -1.0)
                if mean >= 0 and weight > 0:
                    out.append((mean, weight))
        return sorted(out)


def run_from_data(data: object, path: Path | None = None, mtime: float | None = None) -> SavedRun:
    """A ``SavedRun`` from a parsed JSON document; ``RunFileError`` when it is not a run."""
    if not isinstance(data, Mapping) or "version" not in data:
        raise RunFileError(path, "not a saved deli-tui run (no 'version' key)")
    when = _parse_time(data.get("finished_at"))
    if when is None and path is not None:
        stamp = _STAMP.search(path.name)
        when = _parse_time(stamp.group(1)) if stamp else None
    if when is None:
        when = mtime or 0.0
    return SavedRun(data=data, path=path, when=when)


def read_run(path: Path) -> SavedRun:
    """Read one saved run. Raises ``RunFileError`` (not readable, not JSON, not a run)."""
    try:
        size = path.stat().st_size
        if size > MAX_RUN_FILE_BYTES:
            raise RunFileError(path, f"{size} bytes is too large for a saved run")
        text = path.read_text(encoding="utf-8")
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise RunFileError(path, f"cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise RunFileError(path, "not a text file") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise RunFileError(path, f"not JSON: {exc}") from None
    return run_from_data(data, path, mtime)


def discover_runs(runs_dir: Path, *, depth: int = 2) -> list[SavedRun]:
    """Every saved run under ``runs_dir`` (files ``*.json`` up to ``depth`` folders down),
    newest first. Other files, folders and JSON that is not a run are passed over."""
    found: list[SavedRun] = []
    if not runs_dir.is_dir():
        return found
    patterns = ["*.json", *("/".join(["*"] * level + ["*.json"]) for level in range(1, depth))]
    seen: set[Path] = set()
    for pattern in patterns:
        for path in runs_dir.glob(pattern):
            if path in seen or path.name.startswith(".") or not path.is_file():
                continue
            seen.add(path)
            try:
                found.append(read_run(path))
            except RunFileError:
                continue
    found.sort(key=lambda run: (run.when, run.name), reverse=True)
    return found
