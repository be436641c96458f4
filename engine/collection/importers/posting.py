"""A Posting directory (``*.posting.yaml`` and its env files) converted into a collection.

The requests are read as ``engine.collection.posting`` reads them to open the directory
as it is; here they are written as collection files in the same folders, with the values of
Posting's env files (``posting.env`` unless others are named) in the collection's env file.
Literal secrets (tokens, passwords, API keys, cookies) go there too, and Basic credentials are
encoded from the env values. Scripts, proxies and digest auth are named as not carried over.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path

from engine.collection.importers.bodies import hide_secret_fields
from engine.collection.importers.writing import (
    CollectionWriter,
    ImportResult,
    hide_header,
    is_secret_field,
)
from engine.collection.posting import (
    POSTING_ENV,
    POSTING_SUFFIX,
    posting_files,
    read_posting_dir,
)
from engine.collection.variables import read_env_file, substitute
from engine.errors import CollectionError

HINT = "give the directory you open with posting --collection DIR"


def _env_files(root: Path, env: Sequence[Path | str]) -> list[Path]:
    if env:
        return [Path(p) for p in env]
    return [root / POSTING_ENV] if (root / POSTING_ENV).is_file() else []


def import_posting(
    source: Path | str, dest: Path | str, *, env: Sequence[Path | str] = ()
) -> ImportResult:
    """Convert the Posting directory ``source`` into the new collection directory ``dest``.

    ``env``: Posting env files to carry over, later ones winning (default: ``posting.env``).
    """
    root, dest = Path(source), Path(dest)
    if not root.is_dir():
        raise CollectionError.single(root, None, "not a directory", HINT)
    if not posting_files(root):
        raise CollectionError.single(root, None, "no *.posting.yaml files here", HINT)
    values: dict[str, str] = {}
    used = _env_files(root, env)
    for path in used:
        values.update(read_env_file(path))
    requests = read_posting_dir(root)
    with CollectionWriter(dest, root.resolve().name) as writer:
        for name, value in values.items():
            writer.env_value(name, value)
        for read in requests:
            req, where = read.request, read.request.relpath.as_posix()
            req.headers = {k: hide_header(k, v, writer.secret) for k, v in req.headers.items()}
            if isinstance(req.body, dict | list):
                req.body = hide_secret_fields(req.body, writer.secret, is_secret_field)
            if read.basic is not None:
                missing: set[str] = set()
                pair = substitute(":".join(read.basic), values, missing)
                if missing:
                    writer.warn(
                        f"{where}: basic auth uses {', '.join(sorted(missing))}, which the env"
                        " files do not define; fill in basic_auth in the env file"
                    )
                    credentials = writer.placeholder("basic_auth", "base64 of user:password")
                else:
                    encoded = base64.b64encode(pair.encode()).decode()
                    credentials = writer.secret("basic_auth", encoded)
                req.headers.setdefault("Authorization", f"Basic {credentials}")
            for part in read.left_out:
                writer.warn(f"{where}: {part} not carried over")
            stem = req.relpath.name[: -len(POSTING_SUFFIX)]
            writer.add(req, req.relpath.parent, stem=stem)
        others = sorted(
            p.name for p in root.glob("*.env") if p.resolve() not in [u.resolve() for u in used]
        )
        if others:
            writer.note(f"env files not carried over: {', '.join(others)} (name them with --env)")
        return writer.finish()
