"""A scenario's data file: CSV text with a header row, read whole before a run.

Every problem (missing, empty, not CSV, a row of the wrong width, a bad column name) is a
``CollectionError`` pointing at the file and line, or at the ``data:`` line of
``collection.yaml`` when the file cannot be opened at all.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from engine.collection.model import DataDef
from engine.errors import CollectionError, ProblemList

COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
PREVIEW_ROWS = 5
PREVIEW_BYTES = 64 * 1024
_HINT = "a CSV file: a header row (e.g. name,password), then one row per user"


@dataclass(frozen=True, slots=True)
class DataTable:
    path: Path
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def data_path(root: Path, data: DataDef) -> Path:
    """Where the data file is: relative paths are relative to the collection directory."""
    path = Path(data.file).expanduser()
    return path if path.is_absolute() else root / path


def read_data_file(
    root: Path, data: DataDef, collection_file: Path, max_rows: int | None = None
) -> DataTable:
    """The columns and rows of ``data``'s file (at most ``max_rows``, read from its first
    64 KiB); raises ``CollectionError``."""
    path = data_path(root, data)
    try:
        if max_rows is None:
            raw = path.read_bytes()
        else:  # a preview: the start of the file is enough, up to its last whole line
            with path.open("rb") as handle:
                raw = handle.read(PREVIEW_BYTES + 1)
            if len(raw) > PREVIEW_BYTES:
                raw = raw[: raw.rfind(b"\n", 0, PREVIEW_BYTES) + 1]
    except FileNotFoundError:
        raise CollectionError.single(
            collection_file,
            data.line,
            f"data file {data.file!r} not found (looked for {path})",
            "give a path relative to the collection directory, e.g. data: {file: users.csv}",
        ) from None
    except OSError as exc:
        raise CollectionError.single(
            collection_file,
            data.line,
            f"cannot read data file {data.file!r}: {exc.strerror or exc}",
            "check the path and its permissions",
        ) from None
    if b"\0" in raw:
        raise CollectionError.single(path, None, "not a CSV file (it holds binary data)", _HINT)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CollectionError.single(
            path, None, f"not a CSV text file: not UTF-8 ({exc.reason})", "save it as UTF-8 CSV"
        ) from None
    return parse_data_text(text, path, max_rows)


def parse_data_text(text: str, path: Path, max_rows: int | None = None) -> DataTable:
    """``text`` as CSV with a header row; raises ``CollectionError`` with file:line."""
    if not text.strip():
        raise CollectionError.single(path, 1, "the data file is empty", _HINT)
    problems = ProblemList()
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise CollectionError.single(path, 1, f"not CSV: {exc}", _HINT) from None
    columns = tuple(name.strip() for name in header)
    seen: set[str] = set()
    for name in columns:
        if not COLUMN_NAME.match(name):
            hint = "the first row names the columns: letters, digits, _ and -, e.g. name,password"
            problems.add(path, 1, f"column name {name!r} is not valid", hint)
        elif name in seen:
            problems.add(path, 1, f"column {name!r} appears twice", "rename one")
        seen.add(name)
    rows: list[tuple[str, ...]] = []
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip() and len(columns) > 1):
                continue  # a blank line
            if len(row) != len(columns):
                problems.add(
                    path,
                    reader.line_num,
                    f"row has {len(row)} fields but the header has {len(columns)}",
                    "every row needs one value per column; quote values holding commas",
                )
                if len(problems.problems) >= 10:
                    break
                continue
            rows.append(tuple(row))
            if max_rows is not None and len(rows) >= max_rows:
                break
    except csv.Error as exc:
        problems.add(path, reader.line_num, f"not CSV: {exc}", _HINT)
    problems.raise_if_any()
    if not rows and max_rows != 0:
        raise CollectionError.single(
            path, 2, "the data file has a header but no rows", "add one row per user"
        )
    return DataTable(path, columns, tuple(rows))
