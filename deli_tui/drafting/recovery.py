"""Recovery copies of unsaved edits, kept next to the collection under ``.deli/recovery/``.

While an editor is dirty its raw field texts (which may not even be valid yet) are written
here, atomically; a save clears the copy. After a crash the next start finds the copies and
offers them back. Requests live at ``requests/<relpath>``, scenarios at ``scenarios/<name>.yaml``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from engine.collection.saver import atomic_write

RECOVERY_DIR = Path(".deli") / "recovery"
_FORMAT = 1


@dataclass(frozen=True, slots=True)
class RecoveryCopy:
    """One recovered draft: what kind it is, its key (relpath or scenario name), its fields."""

    kind: str  # "request" or "scenario"
    key: str
    fields: dict[str, Any]
    saved_at: float
    path: Path


class RecoveryStore:
    """Reads and writes recovery copies for one collection root."""

    def __init__(self, collection_root: Path) -> None:
        self.root = collection_root / RECOVERY_DIR

    def path_for(self, kind: str, key: str) -> Path:
        if kind == "request":
            return self.root / "requests" / key
        if kind == "scenario":
            return self.root / "scenarios" / f"{_safe_name(key)}.yaml"
        raise ValueError(f"unknown recovery kind {kind!r}")

    def save(self, kind: str, key: str, fields: dict[str, Any]) -> Path:
        """Write the draft ``fields`` (plain strings/bools) for ``key``."""
        path = self.path_for(kind, key)
        doc = {
            "format": _FORMAT,
            "kind": kind,
            "key": key,
            "saved_at": time.time(),
            "fields": fields,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
        return path

    def clear(self, kind: str, key: str) -> None:
        path = self.path_for(kind, key)
        path.unlink(missing_ok=True)
        _prune_empty_dirs(path.parent, self.root)

    def load_all(self) -> list[RecoveryCopy]:
        """Every readable recovery copy; unreadable ones are skipped (never raise)."""
        if not self.root.is_dir():
            return []
        found: list[RecoveryCopy] = []
        for path in sorted(self.root.rglob("*.yaml")):
            copy = _read_copy(path)
            if copy is not None:
                found.append(copy)
        return found


def _read_copy(path: Path) -> RecoveryCopy | None:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
        return None
    fields = doc.get("fields")
    kind, key = doc.get("kind"), doc.get("key")
    if not isinstance(fields, dict) or kind not in ("request", "scenario") or not key:
        return None
    return RecoveryCopy(str(kind), str(key), fields, float(doc.get("saved_at", 0.0)), path)


def _safe_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "_"


def _prune_empty_dirs(start: Path, stop: Path) -> None:
    current = start
    while current != stop and stop in current.parents:
        try:
            current.rmdir()
        except OSError:
            return
        current = current.parent
