"""Write a new version of a file's data into its YAML text, changing only what changed.

The text is loaded as a ruamel.yaml round-trip document (comments, key order, quoting and
flow style kept). ``merged_text`` then compares two plain-data views of the file: ``base``
(what the file says now, as the dumper writes it) and ``new`` (what it should say). A value
equal in both keeps its node untouched, however it is written; a changed value is replaced
(in the old value's quoting and flow style), a removed key is deleted, a new key is inserted
after its predecessor in ``new``. The dumper's view decides what a field is, so fields added
to the model and the dumper later merge without this module knowing them.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)
from ruamel.yaml.tokens import CommentToken

from engine.jsonpath import JsonNull

_ABSENT: Any = object()
_WIDE = 4096  # never fold a long line the user wrote on one line
# (mapping indent, sequence indent, dash offset) as people write YAML; the one that gives the
# file back unchanged is used for the whole file.
_INDENTS = ((2, 4, 2), (2, 2, 0), (4, 6, 4), (4, 4, 2), (4, 4, 0), (3, 5, 3), (3, 3, 0))


def _yaml(indent: tuple[int, int, int], explicit_start: bool) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = _WIDE
    yaml.explicit_start = explicit_start
    mapping, sequence, offset = indent
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _dump(yaml: YAML, doc: Any) -> str:
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def _starts_explicitly(text: str) -> bool:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return stripped.startswith("---")
    return False


def load_document(text: str) -> tuple[YAML, CommentedMap] | None:
    """The round-trip document of ``text`` and the emitter that writes it back as it was
    (or as close as one indentation style gets); None when it is not a YAML mapping."""
    explicit = _starts_explicitly(text)
    best: tuple[int, YAML, CommentedMap] | None = None
    for indent in _INDENTS:
        yaml = _yaml(indent, explicit)
        try:
            doc = yaml.load(text)
        except YAMLError:
            return None
        if not isinstance(doc, CommentedMap):
            return None
        again = _dump(yaml, doc)
        if again == text:
            return yaml, doc
        lines = set(text.splitlines())
        differing = sum(1 for line in again.splitlines() if line not in lines)
        if best is None or differing < best[0]:
            best = (differing, yaml, doc)
    assert best is not None
    return best[1], best[2]


def merged_text(text: str, base: dict[str, Any], new: dict[str, Any]) -> str | None:
    """``text`` with the differences between ``base`` and ``new`` applied; None when ``text``
    is not a YAML mapping that can be edited in place."""
    loaded = load_document(text)
    if loaded is None:
        return None
    yaml, doc = loaded
    merge_map(doc, base, new)
    return _dump(yaml, doc)


# --- the merge ------------------------------------------------------------------------------


def merge_map(doc: CommentedMap, base: dict[str, Any], new: dict[str, Any]) -> None:
    """Bring ``doc`` from ``base`` to ``new``, touching only the keys whose values differ."""
    renamed = _renames(doc, base, new)
    for old_key, new_key in renamed.items():
        _rename_key(doc, old_key, new_key)
    for key in [k for k in doc if k in base and k not in new and k not in renamed]:
        _delete_key(doc, key)
    order = list(new)
    for index, key in enumerate(order):
        before = base.get(key, _ABSENT)
        if key in renamed.values():
            before = base[next(old for old, n in renamed.items() if n == key)]
        _merge_value(doc, key, before, new[key], order[:index])


def _renames(doc: CommentedMap, base: dict[str, Any], new: dict[str, Any]) -> dict[str, str]:
    """Keys that only changed name (a renamed scenario): same value, same place in the order."""
    gone = [k for k in base if k not in new and k in doc]
    added = [k for k in new if k not in base and k not in doc]
    renames: dict[str, str] = {}
    for old_key in gone:
        for new_key in added:
            same_place = list(base).index(old_key) == list(new).index(new_key)
            if same_place and base[old_key] == new[new_key] and new_key not in renames.values():
                renames[old_key] = new_key
                break
    return renames


def _merge_value(
    doc: CommentedMap, key: str, before: Any, after: Any, predecessors: list[str]
) -> None:
    if before == after and before is not _ABSENT:
        return
    if key not in doc:
        _insert_key(doc, key, _styled(after, None), predecessors)
        return
    current = doc[key]
    if _shared(current):  # an anchored node: editing it in place would change its aliases too
        _replace_value(doc, key, after)
        return
    if isinstance(after, dict) and isinstance(before, dict) and isinstance(current, CommentedMap):
        merge_map(current, before, after)
        return
    if (
        isinstance(after, list)
        and isinstance(before, list)
        and isinstance(current, CommentedSeq)
        and len(after) == len(before) == len(current)
    ):
        for i, (was, now) in enumerate(zip(before, after, strict=True)):
            if was == now:
                continue
            item = current[i]
            if isinstance(now, dict) and isinstance(was, dict) and isinstance(item, CommentedMap):
                merge_map(item, was, now)
            else:
                current[i] = _styled(now, item)
                _keep_comment_gap(current, i, item, current[i])
        return
    _replace_value(doc, key, after)


def _shared(node: Any) -> bool:
    """Whether ``node`` carries an anchor (``&name``), so aliases elsewhere point at it."""
    anchor = getattr(node, "anchor", None)
    return anchor is not None and anchor.value is not None


def _styled(value: Any, template: Any) -> Any:
    """``value`` as a round-trip node written the way ``template`` (the old node) was."""
    if isinstance(value, JsonNull):
        return None
    if isinstance(value, dict):
        node = CommentedMap()
        for k, v in value.items():
            node[k] = _styled(v, template.get(k) if isinstance(template, CommentedMap) else None)
        if isinstance(template, CommentedMap) and template.fa.flow_style():
            node.fa.set_flow_style()
        return node
    if isinstance(value, list):
        seq = CommentedSeq()
        first = template[0] if isinstance(template, CommentedSeq) and len(template) else None
        seq.extend(_styled(v, first) for v in value)
        if isinstance(template, CommentedSeq) and template.fa.flow_style():
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, str):
        if "\n" in value:
            return LiteralScalarString(value)
        if isinstance(template, DoubleQuotedScalarString | SingleQuotedScalarString):
            return type(template)(value)
    return value


# --- keys and the comments after them -------------------------------------------------------
#
# ruamel keeps the comment lines and blank lines that follow an entry on that entry (for a
# block collection: on its last entry, deepest first). A key inserted after the last one, or
# the last one deleted, moves them along so they stay where they were in the text.


def _holder(container: CommentedMap | CommentedSeq, key: Any) -> tuple[Any, Any, int]:
    """Where the comment after ``container[key]`` is kept: (container, key, slot)."""
    value = container[key]
    if isinstance(value, CommentedMap | CommentedSeq) and len(value) and not value.fa.flow_style():
        last = list(value)[-1] if isinstance(value, CommentedMap) else len(value) - 1
        return _holder(value, last)
    return container, key, 2 if isinstance(container, CommentedMap) else 0


def _take_trailing(container: CommentedMap | CommentedSeq, key: Any) -> str:
    """Remove and return the lines after entry ``key`` (its end-of-line comment stays)."""
    owner, owner_key, slot = _holder(container, key)
    entry = owner.ca.items.get(owner_key)
    if not entry or entry[slot] is None:
        return ""
    value: str = entry[slot].value
    eol, _, rest = value.partition("\n")
    if eol.strip():
        entry[slot].value = eol + "\n"
    else:
        entry[slot] = None
    return rest


def _put_trailing(container: CommentedMap | CommentedSeq, key: Any, rest: str) -> None:
    """Put ``rest`` (lines taken by ``_take_trailing``) after entry ``key``."""
    if not rest:
        return
    owner, owner_key, slot = _holder(container, key)
    entry = owner.ca.items.setdefault(owner_key, [None, None, None, None])
    token = entry[slot]
    if token is None:
        entry[slot] = CommentToken("\n" + rest, CommentMark(0), None)
    else:
        eol, _, old_rest = token.value.partition("\n")
        token.value = f"{eol}\n{old_rest}{rest}"


def _rest_after(container: CommentedMap | CommentedSeq, key: Any) -> str:
    """The lines after entry ``key`` (without its end-of-line comment), left in place."""
    owner, owner_key, slot = _holder(container, key)
    entry = owner.ca.items.get(owner_key)
    if not entry or entry[slot] is None:
        return ""
    return str(entry[slot].value).partition("\n")[2]


def _insert_key(doc: CommentedMap, key: str, value: Any, predecessors: list[str]) -> None:
    keys = list(doc)
    after = next((k for k in reversed(predecessors) if k in doc), None)
    position = keys.index(after) + 1 if after is not None else 0
    at_end = bool(keys) and position == len(keys)
    # Entries kept apart by blank lines (scenarios often are): the new one is set apart too.
    apart = at_end and len(keys) > 1 and _rest_after(doc, keys[-2]).startswith("\n")
    trailing = _take_trailing(doc, keys[-1]) if at_end else ""
    doc.insert(position, key, value)
    if apart:
        _put_trailing(doc, keys[-1], "\n")
    _put_trailing(doc, key, trailing)


def _delete_key(doc: CommentedMap, key: str) -> None:
    keys = list(doc)
    trailing = _take_trailing(doc, key)
    index = keys.index(key)
    del doc[key]
    doc.ca.items.pop(key, None)
    if index > 0:
        _put_trailing(doc, keys[index - 1], trailing)


def _replace_value(doc: CommentedMap, key: str, value: Any) -> None:
    old = doc[key]
    collection = isinstance(old, CommentedMap | CommentedSeq) and not old.fa.flow_style()
    trailing = _take_trailing(doc, key) if collection else ""
    new = _styled(value, old)
    doc[key] = new
    _keep_comment_gap(doc, key, old, new)
    _put_trailing(doc, key, trailing)


def _keep_comment_gap(container: CommentedMap | CommentedSeq, key: Any, old: Any, new: Any) -> None:
    """Move the end-of-line comment of a replaced one-line value by as many columns as the
    value grew or shrank, so the space before the ``#`` stays as the user typed it."""
    if isinstance(old, CommentedMap | CommentedSeq) and not old.fa.flow_style():
        return
    entry = container.ca.items.get(key)
    slot = 2 if isinstance(container, CommentedMap) else 0
    token = entry[slot] if entry else None
    if token is None or not str(token.value).startswith("#") or token.start_mark is None:
        return
    grown = len(_inline(new)) - len(_inline(old))
    token.start_mark.column = max(0, token.start_mark.column + grown)


def _inline(value: Any) -> str:
    """Roughly how ``value`` is written on one line (only differences in length matter)."""
    if isinstance(value, CommentedMap):
        return "{" + ", ".join(f"{k}: {_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, CommentedSeq):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def _rename_key(doc: CommentedMap, old_key: str, new_key: str) -> None:
    position = list(doc).index(old_key)
    value = doc[old_key]
    comments = doc.ca.items.pop(old_key, None)
    del doc[old_key]
    doc.insert(position, new_key, value)
    if comments is not None:
        doc.ca.items[new_key] = comments
