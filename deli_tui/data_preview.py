"""A scenario's data file as the scenario form previews it: the names its columns have in
requests (``{{user.name}}``) and its first rows, or why it cannot be read."""

from __future__ import annotations

from rich.text import Text

from engine.collection.datafile import PREVIEW_ROWS, read_data_file
from engine.collection.model import Collection, DataDef
from engine.errors import CollectionError

NO_DATA = "No data file: every user has the same values."


def data_preview(collection: Collection, file: str, name: str) -> Text:
    """The preview of ``file`` (relative to the collection) read ``as`` ``name``."""
    if not file:
        return Text(NO_DATA)
    try:
        table = read_data_file(
            collection.root, DataDef(file), collection.collection_file, PREVIEW_ROWS
        )
    except CollectionError as exc:
        return Text(str(exc.problems[0]), style="bold red")
    columns, rows = table.columns, table.rows
    text = Text()
    text.append("columns: ", style="bold")
    text.append(", ".join("{{" + f"{name or 'data'}.{c}" + "}}" for c in columns))
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    text.append("\n" + "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        text.append("\n" + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    return text
