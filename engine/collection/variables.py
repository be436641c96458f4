"""``{{name}}`` variables: collection, then env file, then process environment (later wins).

Resolved once per run by planning, never per request. The process environment is read only
for names the collection actually references, so unrelated secrets never enter a plan.
In an env file, ``${NAME}`` in an unquoted or double-quoted value refers to another variable,
as dotenv files (and Posting's) write it; single quotes keep it as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.collection.nodes import did_you_mean
from engine.errors import CollectionError, Problem, ProblemList

# ``{{name}}``; ``{{$guid}}`` and the other dynamic values are names starting with ``$``
VARIABLE_REF = re.compile(r"\{\{\s*(\$?[A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*?)\s*$")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}")
MAX_DEPTH = 10


def references(value: Any) -> set[str]:
    """Names referenced as ``{{name}}`` anywhere in ``value`` (text, mapping or list)."""
    if isinstance(value, str):
        return set(VARIABLE_REF.findall(value))
    if isinstance(value, dict):
        return set().union(*(references(k) | references(v) for k, v in value.items()))
    if isinstance(value, list):
        return set().union(*(references(v) for v in value))
    return set()


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines (``#`` comments, ``export``, quotes, ``${NAME}``); raises
    CollectionError."""
    problems = ProblemList()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CollectionError.single(
            Path(path), None, f"cannot read the env file: {exc.strerror or exc}", "check the path"
        ) from None
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        m = _ENV_LINE.match(line)
        if m is None:
            problems.add(Path(path), number, "expected KEY=VALUE", "e.g. API_TOKEN=abc123")
            continue
        name, value = m.group(1), m.group(2)
        quoted = len(value) >= 2 and value[0] == value[-1] and value[0] in "'\""
        quote = value[0] if quoted else ""
        if quoted:
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[name] = value if quote == "'" else _ENV_REF.sub(r"{{\1}}", value)
    problems.raise_if_any()
    return values


@dataclass(slots=True)
class VariableScope:
    """Resolved values and where each came from ("collection", "env file", "environment")."""

    values: dict[str, str] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    env_file: Path | None = None

    def secret_values(self) -> tuple[str, ...]:
        """Values that came from outside the collection files: to be kept out of reports."""
        return tuple(v for k, v in self.values.items() if self.origins.get(k) != "collection" and v)


def build_scope(
    collection_vars: Mapping[str, str],
    env_values: Mapping[str, str],
    environ: Mapping[str, str],
    referenced: Iterable[str],
    env_file: Path | None = None,
) -> VariableScope:
    """Merge the three sources; names referenced by variable values are looked up too."""
    scope = VariableScope(env_file=env_file)
    for origin, source in (("collection", collection_vars), ("env file", env_values)):
        for name, value in source.items():
            scope.values[name] = value
            scope.origins[name] = origin
    wanted = set(referenced)
    for value in scope.values.values():
        wanted |= references(value)
    pending = sorted(wanted)
    while pending:
        name = pending.pop()
        if name in environ:
            scope.values[name] = environ[name]
            scope.origins[name] = "environment"
            for ref in references(environ[name]) - wanted:
                wanted.add(ref)
                pending.append(ref)
    return scope


def substitute(text: str, values: Mapping[str, str], missing: set[str]) -> str:
    """``text`` with every known ``{{name}}`` replaced (nested up to MAX_DEPTH); unknown names
    are added to ``missing`` and left in place."""
    for _ in range(MAX_DEPTH):
        if "{{" not in text:
            return text

        def repl(m: re.Match[str]) -> str:
            name = m.group(1)
            if name in values:
                return values[name]
            missing.add(name)
            return m.group(0)

        new = VARIABLE_REF.sub(repl, text)
        if new == text:
            return text
        text = new
    return text


def substitute_value(value: Any, values: Mapping[str, str], missing: set[str]) -> Any:
    """``substitute`` through text, and through the keys and items of mappings and lists."""
    if isinstance(value, str):
        return substitute(value, values, missing)
    if isinstance(value, dict):
        return {
            substitute_value(k, values, missing): substitute_value(v, values, missing)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [substitute_value(v, values, missing) for v in value]
    return value


def reference_line(path: Path | None, name: str) -> int | None:
    """The 1-based line where ``{{name}}`` first appears in ``path``, if it can be found."""
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for number, line in enumerate(text.splitlines(), start=1):
        if any(m == name for m in VARIABLE_REF.findall(line)):
            return number
    return None


def unknown_variable(path: Path | None, name: str, scope: VariableScope) -> Problem:
    """The problem for an undefined ``{{name}}``, pointing at its line where possible."""
    known = sorted(scope.values)
    close = did_you_mean(name, known) if known else ""
    where = f" (env file {scope.env_file})" if scope.env_file else ""
    hint = (
        f"define {name} under variables: in collection.yaml, as {name}=... in the env file"
        f"{where}, or as an environment variable"
    )
    if close.startswith("did you mean"):
        hint = f"{close} Otherwise {hint}"
    return Problem(path, reference_line(path, name), f"unknown variable {{{{{name}}}}}", hint)
