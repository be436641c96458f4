"""Reading composed YAML nodes into typed values while collecting problems with their lines.

``yaml.compose`` keeps each node's start mark, so every wrong type, unknown key or bad value
can be reported as ``file:line`` with a hint, and all of them at once. Files are composed by
libyaml when PyYAML has it (a 5.9 MB file in well under a second, against ~9 s in Python),
and a document whose aliases would expand to more than ``MAX_ALIAS_VALUES`` values (an
"alias bomb": anchors nested 9 deep, 9 aliases each, is 387 million) is refused at the line
where it crosses the bound, before anything walks it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from engine.durations import DURATION_HINT, parse_duration
from engine.errors import ProblemList

T = TypeVar("T")
_TYPE_NAMES = {
    str: "text",
    int: "an integer",
    float: "a number",
    bool: "true/false",
    list: "a list",
    dict: "a mapping",
    type(None): "nothing (null)",
}


_EXAMPLES = {
    "a number": "write a plain number, e.g. 2 or 0.5",
    "an integer": "write a whole number, e.g. 10",
    "true or false": "write true or false",
}


def type_name(value: object) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """``did you mean 'x'?`` for the closest choice, else the list of choices."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return "expected one of " + ", ".join(choices)


def sort_by_line(problems: ProblemList, start: int) -> None:
    """Order the problems added since ``start`` by line, as an editor shows them."""
    added = problems.problems[start:]
    problems.problems[start:] = sorted(added, key=lambda p: p.line or 0)


# libyaml's composer when PyYAML was built with it; the same nodes and marks
_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_ALIAS_VALUES = 100_000  # values a document's aliases may add to it


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def alias_expansion(root: Node) -> tuple[dict[int, int], Node | None]:
    """Each node's size with aliases expanded (by ``id``; O(distinct nodes), nothing is
    expanded), and a node that contains itself through an alias, if one does."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            continue
        if key in sizes:
            continue
        open_nodes.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_nodes:
                return sizes, child
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes, None


def _alias_problem(root: Node) -> tuple[Node, str] | None:
    """Where and why the document's aliases make it too big (or recursive), if they do."""
    sizes, recursive = alias_expansion(root)
    if recursive is not None:
        return recursive, "this anchor's value contains an alias to itself (a recursive value)"
    distinct = len(sizes)
    if sizes[id(root)] - distinct <= MAX_ALIAS_VALUES:
        return None
    node = root
    while True:  # down to where the expansion crosses the bound
        bigger = [c for c in _children(node) if sizes[id(c)] > MAX_ALIAS_VALUES]
        if not bigger:
            break
        node = bigger[0]
    return node, (
        f"aliases make this value {sizes[id(node)]:,} values long (the whole file "
        f"{sizes[id(root)]:,}); at most {MAX_ALIAS_VALUES:,} may come from aliases"
    )


def compose_text(text: str, path: Path | None, problems: ProblemList) -> Node | None:
    """The document's root node; a syntax error, or aliases that would expand it beyond
    ``MAX_ALIAS_VALUES``, becomes a problem at its line."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or exc.context or "cannot be read"
        problems.add(
            path,
            line,
            f"YAML syntax error: {what}",
            "check the indentation and quoting here; a value containing ': ' or starting "
            "with '{', '[', '*', '&' or '!' needs quotes",
        )
    except yaml.YAMLError as exc:
        problems.add(path, None, f"YAML error: {exc}", "check the file is valid YAML")
    else:
        too_big = _alias_problem(node) if node is not None and "*" in text else None
        if too_big is None:
            return node
        where, message = too_big
        problems.add(
            path,
            where.start_mark.line + 1,
            message,
            "an alias (*name) repeats its anchor's whole value: write the value out, or use "
            "fewer aliases",
        )
    return None


class NodeReader:
    """Typed access to one file's nodes; every failure is added to ``problems`` (never raised)."""

    def __init__(self, path: Path | None, problems: ProblemList) -> None:
        self.path = path
        self.problems = problems

    @staticmethod
    def line(node: Node) -> int:
        return node.start_mark.line + 1

    def add(self, node: Node | None, message: str, hint: str = "") -> None:
        self.problems.add(self.path, self.line(node) if node is not None else None, message, hint)

    def value(self, node: Node) -> Any:
        """The plain Python value (str, int, float, bool, None, list, dict) of ``node``."""
        try:
            return yaml.constructor.SafeConstructor().construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.add(node, f"cannot read this value: {exc}", "use plain YAML values, no tags")
            return None

    def mapping(self, node: Node, keys: Sequence[str], what: str) -> dict[str, Node] | None:
        """Key -> value node; unknown and repeated keys are problems."""
        if not isinstance(node, MappingNode):
            got = type_name(self.value(node))
            self.add(
                node, f"{what} must be a mapping of keys, not {got}", f"keys: {', '.join(keys)}"
            )
            return None
        out: dict[str, Node] = {}
        for key_node, value_node in self._pairs(node):
            key = self.value(key_node) if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                self.add(
                    key_node, f"{what}: keys must be text, not {type_name(key)}", "quote the key"
                )
                continue
            if key not in keys:
                self.add(
                    key_node,
                    f"unknown key {key!r} in {what}",
                    f"{did_you_mean(key, keys)} (known keys: {', '.join(keys)})",
                )
                continue
            if key in out:
                self.add(key_node, f"key {key!r} appears twice in {what}", "keep only one")
            out[key] = value_node
        return out

    def items(self, node: Node, what: str, hint: str = "") -> list[tuple[Node, Node]] | None:
        """Key and value nodes of a free-form mapping (variables, headers, scenarios)."""
        if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            return []
        if not isinstance(node, MappingNode):
            got = type_name(self.value(node))
            self.add(
                node, f"{what} must be a mapping, not {got}", hint or "write name: value lines"
            )
            return None
        return self._pairs(node)

    def _pairs(self, node: MappingNode) -> list[tuple[Node, Node]]:
        """Key and value nodes, with YAML merge keys (``<<: *defaults``) expanded; a key
        written in the mapping itself overrides the merged one, as YAML says."""
        own = [(k, v) for k, v in node.value if k.tag != "tag:yaml.org,2002:merge"]
        if len(own) == len(node.value):
            return own
        try:
            yaml.constructor.SafeConstructor().flatten_mapping(node)
        except yaml.YAMLError as exc:
            self.add(node, f"cannot merge here: {exc}", "'<<' takes a mapping or a list of them")
            return own
        merged = node.value[: len(node.value) - len(own)]
        own_keys = {k.value for k, _ in own}
        kept: dict[object, tuple[Node, Node]] = {}
        for key_node, value_node in merged:  # later merged pairs win, as PyYAML constructs them
            if key_node.value not in own_keys:
                kept.pop(key_node.value, None)
                kept[key_node.value] = (key_node, value_node)
        return [*kept.values(), *own]

    def sequence(self, node: Node, what: str) -> list[Node] | None:
        if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            return []
        if not isinstance(node, SequenceNode):
            self.add(
                node,
                f"{what} must be a list, not {type_name(self.value(node))}",
                "write each item on its own line starting with '- '",
            )
            return None
        return list(node.value)

    def typed(
        self, node: Node, what: str, kinds: tuple[type, ...], expected: str, hint: str = ""
    ) -> Any:
        """The value if it has one of ``kinds`` (bool never passes as a number), else a problem."""
        value = self.value(node)
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if not ok:
            hint = hint or _EXAMPLES.get(expected, "")
            self.add(node, f"{what} must be {expected}, not {type_name(value)} {value!r}", hint)
            return _BAD
        return value

    def text(self, node: Node, what: str, *, allow_empty: bool = True) -> str | None:
        value = self.typed(node, what, (str,), "text", "put it in quotes")
        if value is _BAD:
            return None
        if not allow_empty and not value.strip():
            self.add(node, f"{what} must not be empty", "write a value or remove the key")
            return None
        return value

    def scalar_text(self, node: Node, what: str) -> str | None:
        """Text, with numbers and true/false accepted and turned into text (header values)."""
        value = self.typed(node, what, (str, int, float, bool), "text", "put it in quotes")
        if value is _BAD:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def boolean(self, node: Node, what: str) -> bool | None:
        value = self.typed(node, what, (bool,), "true or false")
        return None if value is _BAD else value

    def number(
        self, node: Node, what: str, *, minimum: float = 0.0, integer: bool = False
    ) -> float | int | None:
        kinds: tuple[type, ...] = (int,) if integer else (int, float)
        value = self.typed(node, what, kinds, "an integer" if integer else "a number")
        if value is _BAD:
            return None
        if value < minimum:
            low = f"{minimum:g}"
            self.add(node, f"{what} must be {low} or more, not {value}", f"use a value >= {low}")
            return None
        return value if integer else float(value)

    def duration(self, node: Node, what: str) -> float | None:
        value = self.value(node)
        try:
            return parse_duration(value)
        except ValueError:
            self.add(node, f"{what}: {value!r} is not a duration", DURATION_HINT)
            return None

    def choice(self, node: Node, what: str, choices: Sequence[str]) -> str | None:
        value = self.text(node, what)
        if value is None:
            return None
        if value not in choices:
            self.add(
                node,
                f"{what} {value!r} is not one of {', '.join(choices)}",
                did_you_mean(value, choices),
            )
            return None
        return value

    def checked(self, node: Node, what: str, parse: Callable[[Any], T], hint: str = "") -> T | None:
        """Run ``parse`` on the value; its ValueError message becomes the problem."""
        value = self.value(node)
        try:
            return parse(value)
        except (ValueError, TypeError) as exc:
            self.add(node, f"{what}: {exc}", hint)
            return None


class _Bad:
    __slots__ = ()


_BAD: Any = _Bad()
