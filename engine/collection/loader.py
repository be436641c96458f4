"""Load a collection directory: ``collection.yaml`` plus one YAML file per request in folders.

Every problem in every file is collected and raised together as one ``CollectionError``,
each with its file, 1-based line and a hint. A directory without collection.yaml that holds
Posting's ``*.posting.yaml`` files loads as a read-only collection (``collection.posting``).
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.collection.collectionfile import CollectionFile, read_collection_file
from engine.collection.model import Collection, RequestDef
from engine.collection.nodes import did_you_mean
from engine.collection.posting import is_posting_dir, load_posting_collection
from engine.collection.requestfile import URL_HINT, RequestLines, read_request
from engine.errors import CollectionError, Problem, ProblemList

COLLECTION_FILE = "collection.yaml"
REQUEST_SUFFIXES = (".yaml", ".yml")
SKIPPED_DIRS = ("__pycache__", "node_modules")


def find_collection_root(path: Path | str) -> Path | None:
    """The nearest directory at or above ``path`` holding a ``collection.yaml``."""
    here = Path(path).resolve()
    if here.is_file() or not here.exists():
        here = here.parent
    for folder in (here, *here.parents):
        if (folder / COLLECTION_FILE).is_file():
            return folder
    return None


def _read_text(path: Path, problems: ProblemList) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.add(path, None, f"not UTF-8 text ({exc.reason})", "save the file as UTF-8")
    except OSError as exc:
        problems.add(
            path, None, f"cannot read the file: {exc.strerror or exc}", "check its permissions"
        )
    return None


def parse_request_text(text: str, relpath: Path, source: Path | None = None) -> RequestDef:
    """The request in ``text`` (what the editor holds); raises CollectionError with lines."""
    problems = ProblemList()
    req, _ = read_request(
        text, Path(relpath), source if source is not None else Path(relpath), problems
    )
    problems.raise_if_any()
    assert req is not None
    return req


def parse_collection_text(text: str, root: Path, path: Path | None = None) -> Collection:
    """Settings and scenarios in a ``collection.yaml`` text; raises CollectionError."""
    problems = ProblemList()
    parsed = read_collection_file(text, Path(root), path or Path(root) / COLLECTION_FILE, problems)
    problems.raise_if_any()
    return parsed.collection


def _walk_requests(root: Path) -> tuple[list[Path], list[Path]]:
    """Request files and folders under ``root`` (relative, sorted), skipping hidden ones."""
    files: list[Path] = []
    folders: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIPPED_DIRS)
        here = Path(dirpath)
        if here != root:
            folders.append(here.relative_to(root))
        for filename in sorted(filenames):
            if filename.startswith(".") or not filename.endswith(REQUEST_SUFFIXES):
                continue
            if here == root and filename in (COLLECTION_FILE, "collection.yml"):
                continue
            files.append((here / filename).relative_to(root))
    files.sort(key=lambda p: p.parts)
    folders.sort(key=lambda p: p.parts)
    return files, folders


def _check_requests(
    collection: Collection,
    loaded: list[tuple[RequestDef, RequestLines]],
    parsed: CollectionFile,
    problems: ProblemList,
) -> None:
    """Problems across files: duplicate names, relative urls without base_url, bad references."""
    seen: dict[str, RequestDef] = {}
    for req, lines in loaded:
        path = collection.request_path(req)
        first = seen.get(req.name)
        if first is not None:
            problems.add(
                path,
                lines.name or 1,
                f"request name {req.name!r} is already used by {first.relpath.as_posix()}",
                "request names must be unique in a collection; rename one",
            )
        else:
            seen[req.name] = req
        url = req.url
        relative = url and "://" not in url and not url.startswith("{{")
        if relative and not collection.base_url and parsed.base_url_known:
            problems.add(
                path,
                lines.url,
                f"url {url!r} is relative but collection.yaml has no base_url",
                f"add base_url to collection.yaml, or {URL_HINT}",
            )
    choices = [r.name for r in collection.requests]
    for scenario, ref, line in parsed.request_refs:
        if collection.find_request(ref) is None:
            problems.add(
                collection.collection_file,
                line,
                f"scenario {scenario!r} names request {ref!r}, which does not exist",
                did_you_mean(ref, choices) if choices else "the collection has no requests yet",
            )


def load_collection(root: Path | str) -> Collection:
    """The collection at ``root`` (its directory or its collection.yaml); raises CollectionError."""
    collection, problems = load_collection_partial(root)
    if problems:
        raise CollectionError(problems)
    return collection


def load_collection_partial(root: Path | str) -> tuple[Collection, list[Problem]]:
    """What loads, and every problem; files that are not a YAML mapping are left out.

    For an editor that must open a collection with one broken file and show its problems.
    Raises CollectionError only when there is no collection at all.
    """
    root = Path(root)
    if root.name in (COLLECTION_FILE, "collection.yml") and root.is_file():
        root = root.parent
    problems = ProblemList()
    collection_file = root / COLLECTION_FILE
    if not root.exists():
        raise CollectionError.single(root, None, "no such directory", "give a collection directory")
    if not root.is_dir():
        raise CollectionError.single(
            root, None, "not a collection directory", "give the directory holding collection.yaml"
        )
    if not collection_file.is_file() and is_posting_dir(root):
        return load_posting_collection(root), []
    if not collection_file.is_file():
        raise CollectionError.single(
            collection_file,
            None,
            "collection.yaml is missing",
            "create it with at least: name: My API and base_url: http://127.0.0.1:8089",
        )
    text = _read_text(collection_file, problems)
    before = len(problems.problems)
    parsed = read_collection_file(text or "", root, collection_file, problems)
    # with collection.yaml unreadable, its base_url is unknown: that one problem is the one
    # to fix, not a "no base_url" for every request using a relative url
    parsed.base_url_known = len(problems.problems) == before or bool(parsed.collection.base_url)
    collection = parsed.collection
    files, folders = _walk_requests(root)
    collection.folders = folders
    loaded: list[tuple[RequestDef, RequestLines]] = []
    for relpath in files:
        path = root / relpath
        request_text = _read_text(path, problems)
        if request_text is None:
            continue
        req, lines = read_request(request_text, relpath, path, problems)
        if req is not None:
            loaded.append((req, lines))
    collection.requests = [req for req, _ in loaded]
    _check_requests(collection, loaded, parsed, problems)
    return collection, list(problems.problems)
