"""Write requests and ``collection.yaml`` back to disk, atomically, and only what loads again.

A save changes only what changed: the file's own text is edited in place (``roundtrip``), so
comments, key order, quoting and flow style of everything else stay. A new file, or one that
cannot be edited in place, is written whole by the dumper (its leading comments kept). Every
text is parsed back before it is written (a text that would not load, or would load as
something else, is never written), the file must not have changed on disk since the editor
opened it, and the write goes to a temp file in the same directory, fsynced and renamed over
the old one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import stat
import tempfile
from dataclasses import replace
from pathlib import Path

from engine.collection.dumper import (
    collection_data,
    dump_collection_file,
    dump_request,
    request_data,
)
from engine.collection.loader import COLLECTION_FILE, parse_collection_text, parse_request_text
from engine.collection.model import Collection, RequestDef
from engine.collection.roundtrip import merged_text
from engine.errors import CollectionError


class FileChangedError(CollectionError):
    """The file on disk changed since it was read; saving would lose someone's edit."""


def atomic_write(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so a crash leaves either the old or the new file, whole."""
    path = Path(path)
    try:
        mode: int | None = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def leading_comments(path: Path) -> str:
    """The comment lines at the top of ``path`` (kept across saves), or ""."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    lines = []
    for line in text.splitlines(keepends=True):
        if line.strip() and not line.lstrip().startswith("#"):
            break
        lines.append(line)
    head = "".join(lines)
    if head and not head.endswith("\n"):
        head += "\n"
    return head if head.strip() else ""


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def request_text(path: Path, req: RequestDef) -> str:
    """The text to write for ``req`` at ``path``: the file's text with only the changed values
    changed, else the dumper's. Raises CollectionError when ``req`` would not load back."""
    fresh = leading_comments(path) + dump_request(req)
    expected = parse_request_text(fresh, req.relpath, path)
    old = _read_text(path)
    if old is None:
        return fresh
    try:
        base = parse_request_text(old, req.relpath, path)
        merged = merged_text(old, request_data(base), request_data(req))
        if merged is not None and parse_request_text(merged, req.relpath, path) == expected:
            return merged
    except CollectionError:
        pass
    return fresh


def _settings(collection: Collection) -> dict[str, object]:
    """What ``collection.yaml`` holds: every field but the root and the request files."""
    return {
        f.name: getattr(collection, f.name)
        for f in dataclasses.fields(collection)
        if f.name not in ("root", "requests", "folders")
    }


def collection_text(collection: Collection) -> str:
    """The text to write for ``collection.yaml``: the file's text with only the changed values
    changed, else the dumper's. Raises CollectionError when it would not load back."""
    path = collection.collection_file
    fresh = leading_comments(path) + dump_collection_file(collection)
    expected = _settings(parse_collection_text(fresh, collection.root, path))
    old = _read_text(path)
    if old is None:
        return fresh
    try:
        base = parse_collection_text(old, collection.root, path)
        merged = merged_text(old, collection_data(base), collection_data(collection))
        if merged is not None:
            again = parse_collection_text(merged, collection.root, path)
            if _settings(again) == expected:
                return merged
    except CollectionError:
        pass
    return fresh


def check_writable(collection: Collection) -> None:
    """Raise CollectionError when ``collection`` is opened read-only (a Posting directory)."""
    if collection.read_only:
        raise CollectionError.single(collection.root, None, collection.read_only)


def check_unchanged(path: Path, expected_mtime_ns: int | None) -> None:
    """Raise FileChangedError when ``path`` differs from what the editor read."""
    if expected_mtime_ns is None:
        return
    try:
        current = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise FileChangedError.single(
            path, None, "the file was deleted on disk since it was opened", "save it as a new file"
        ) from None
    if current != expected_mtime_ns:
        raise FileChangedError.single(
            path,
            None,
            "the file changed on disk since it was opened",
            "reload it to see the other change, or save your text under another name",
        )


def save_request(
    collection: Collection, req: RequestDef, *, expected_mtime_ns: int | None = None
) -> int:
    """Write ``req`` to its file (validated, atomic); returns the new mtime_ns."""
    check_writable(collection)
    path = collection.request_path(req)
    text = request_text(path, req)
    parsed = parse_request_text(text, req.relpath, path)
    for other in collection.requests:
        if other.name == req.name and other.relpath != req.relpath:
            raise CollectionError.single(
                path,
                1,
                f"request name {req.name!r} is already used by {other.relpath.as_posix()}",
                "request names must be unique in a collection; pick another name",
            )
    check_unchanged(path, expected_mtime_ns)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text)
    for i, other in enumerate(collection.requests):
        if other.relpath == req.relpath:
            collection.requests[i] = parsed
            break
    else:
        collection.requests.append(parsed)
    _note_folders(collection, req.relpath)
    return path.stat().st_mtime_ns


def save_collection_file(collection: Collection, *, expected_mtime_ns: int | None = None) -> int:
    """Write ``collection.yaml`` (validated, atomic); returns the new mtime_ns."""
    check_writable(collection)
    path = collection.collection_file
    text = collection_text(collection)
    for scenario in collection.scenarios.values():
        for key, refs in (("requests", scenario.requests), ("setup", scenario.setup)):
            for ref in refs:
                if collection.find_request(ref) is None:
                    raise CollectionError.single(
                        path,
                        None,
                        f"scenario {scenario.name!r} names request {ref!r}, which does not exist",
                        f"remove it from the scenario's {key}",
                    )
    check_unchanged(path, expected_mtime_ns)
    atomic_write(path, text)
    return path.stat().st_mtime_ns


def _note_folders(collection: Collection, relpath: Path, *, is_folder: bool = False) -> None:
    """Add the folders holding ``relpath`` (and itself, if it is a folder) to the tree."""
    folders = list(Path(relpath).parents)[:-1]
    if is_folder:
        folders.insert(0, Path(relpath))
    for parent in reversed(folders):
        if parent not in collection.folders:
            collection.folders.append(parent)
    collection.folders.sort(key=lambda p: p.parts)


# --- tree operations for the editor ---------------------------------------------------------


def _relpath(collection: Collection, relpath: Path | str, *, request: bool) -> Path:
    """A path inside the collection; request files get a ``.yaml`` suffix if they have none."""
    rel = Path(relpath)
    bad = rel.is_absolute() or any(part in ("..", "") or part.startswith(".") for part in rel.parts)
    if bad or not rel.parts:
        raise CollectionError.single(
            collection.root / rel,
            None,
            f"{str(relpath)!r} is not a path inside the collection",
            "use a relative path such as users/get_user.yaml, without '..' or hidden names",
        )
    if request and rel.suffix not in (".yaml", ".yml"):
        rel = rel.with_name(rel.name + ".yaml")
    if request and rel.as_posix() in (COLLECTION_FILE, "collection.yml"):
        raise CollectionError.single(
            collection.root / rel, None, "that name is reserved", "pick another file name"
        )
    return rel


def rename_references(collection: Collection, renames: dict[str, str | None]) -> None:
    """Rewrite scenario request references, old -> new name or path (None removes one);
    saves collection.yaml if one changed."""
    changed = False
    for scenario in collection.scenarios.values():
        for key in ("requests", "setup"):
            refs: list[str] = []
            for ref in getattr(scenario, key):
                if ref in renames:
                    changed = True
                    new = renames[ref]
                    if new is not None:
                        refs.append(new)
                else:
                    refs.append(ref)
            setattr(scenario, key, refs)
    if changed:
        save_collection_file(collection)


def _refs_for(req: RequestDef, new: RequestDef | None) -> dict[str, str | None]:
    return {
        req.name: new.name if new else None,
        req.relpath.as_posix(): new.relpath.as_posix() if new else None,
    }


def create_request(collection: Collection, relpath: Path | str, name: str) -> RequestDef:
    """A new GET request file at ``relpath`` named ``name``."""
    check_writable(collection)
    rel = _relpath(collection, relpath, request=True)
    if collection.request_path(RequestDef(relpath=rel, name=name)).exists():
        raise CollectionError.single(
            collection.root / rel, None, "a file with this name exists", "pick another file name"
        )
    url = "/" if collection.base_url else "http://127.0.0.1:8089/"
    req = RequestDef(relpath=rel, name=name, url=url)
    save_request(collection, req)
    return collection.requests[-1]


def rename_request(
    collection: Collection, req: RequestDef, new_name: str, *, expected_mtime_ns: int | None = None
) -> RequestDef:
    """Give ``req`` a new name (the file stays); scenarios that named it follow."""
    new = replace(req, name=new_name)
    save_request(collection, new, expected_mtime_ns=expected_mtime_ns)
    saved = collection.find_request(new.relpath.as_posix())
    assert saved is not None
    rename_references(collection, {req.name: new_name})
    return saved


def move_request(collection: Collection, req: RequestDef, new_relpath: Path | str) -> RequestDef:
    """Move the request file (text kept byte for byte) to a path or into a folder."""
    check_writable(collection)
    text = str(new_relpath)
    into_folder = text in ("", ".") or text.endswith("/") or (collection.root / text).is_dir()
    if text in ("", "."):
        rel = Path(req.relpath.name)
    elif into_folder:
        rel = _relpath(collection, text, request=False) / req.relpath.name
    else:
        rel = _relpath(collection, text, request=True)
    source, dest = collection.request_path(req), collection.root / rel
    if rel == req.relpath:
        return req
    if dest.exists():
        raise CollectionError.single(dest, None, "a file with this name exists", "pick another")
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.rename(source, dest)
    moved = replace(req, relpath=rel)
    collection.requests = [
        moved if r is req or r.relpath == req.relpath else r for r in collection.requests
    ]
    _note_folders(collection, rel)
    rename_references(collection, {req.relpath.as_posix(): rel.as_posix()})
    return moved


def duplicate_request(collection: Collection, req: RequestDef) -> RequestDef:
    """A copy beside the original, named ``<name> copy`` in ``<stem>_copy.yaml``."""
    names = {r.name for r in collection.requests}
    name, n = f"{req.name} copy", 2
    while name in names:
        name, n = f"{req.name} copy {n}", n + 1
    stem, suffix = req.relpath.stem, req.relpath.suffix
    rel, n = req.relpath.with_name(f"{stem}_copy{suffix}"), 2
    while (collection.root / rel).exists():
        rel, n = req.relpath.with_name(f"{stem}_copy{n}{suffix}"), n + 1
    save_request(collection, replace(req, relpath=rel, name=name))
    return collection.requests[-1]


def delete_request(collection: Collection, req: RequestDef) -> None:
    """Delete the request file; scenarios stop naming it."""
    check_writable(collection)
    path = collection.request_path(req)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    collection.requests = [r for r in collection.requests if r.relpath != req.relpath]
    rename_references(collection, _refs_for(req, None))


def create_folder(collection: Collection, relpath: Path | str) -> Path:
    """Make a folder (and its parents) in the collection; returns its relative path."""
    check_writable(collection)
    rel = _relpath(collection, relpath, request=False)
    (collection.root / rel).mkdir(parents=True, exist_ok=True)
    _note_folders(collection, rel, is_folder=True)
    return rel


def delete_folder(collection: Collection, relpath: Path | str, *, confirm: bool = False) -> None:
    """Delete a folder; one that holds anything is only deleted with ``confirm=True``."""
    check_writable(collection)
    rel = _relpath(collection, relpath, request=False)
    path = collection.root / rel
    if not path.is_dir():
        raise CollectionError.single(path, None, "no such folder", "refresh the collection")
    inside = [r for r in collection.requests if rel in r.relpath.parents]
    if any(path.iterdir()) and not confirm:
        raise CollectionError.single(
            path,
            None,
            f"folder {rel.as_posix()!r} is not empty ({len(inside)} requests)",
            "confirm to delete the folder and everything in it",
        )
    shutil.rmtree(path)
    collection.requests = [r for r in collection.requests if r not in inside]
    collection.folders = [f for f in collection.folders if f != rel and rel not in f.parents]
    renames: dict[str, str | None] = {}
    for req in inside:
        renames.update(_refs_for(req, None))
    rename_references(collection, renames)
