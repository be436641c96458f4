"""The collection settings form's draft: name, base_url, variables, default headers, timeout
and env file as typed, validated field by field into the values ``collection.yaml`` holds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deli_tui.drafting.drafts import FieldProblem, FormDraft, parse_duration, parse_pairs
from engine.collection.collectionfile import VARIABLE_NAME
from engine.collection.model import Collection
from engine.collection.requestfile import HEADER_NAME, url_problem
from engine.durations import format_duration

BASE_URL_EXAMPLE = "e.g. http://127.0.0.1:8089"


@dataclass(slots=True)
class SettingsDraft(FormDraft):
    name: str = ""
    base_url: str = ""
    variables: str = ""
    headers: str = ""
    timeout: str = "10s"
    env_file: str = ""


def draft_from_collection(collection: Collection) -> SettingsDraft:
    return SettingsDraft(
        name=collection.name,
        base_url=collection.base_url,
        variables="\n".join(f"{k}: {v}" for k, v in collection.variables.items()),
        headers="\n".join(f"{k}: {v}" for k, v in collection.headers.items()),
        timeout=format_duration(collection.timeout_s),
        env_file=collection.env_file or "",
    )


def _base_url(text: str, collection: Collection, problems: list[FieldProblem]) -> str:
    base = text.strip()
    if base:
        problem = url_problem(base)
        if "://" not in base and not base.startswith("{{"):
            problem = "it has no scheme"
        if problem:
            problems.append(FieldProblem("base_url", f"{problem} ({BASE_URL_EXAMPLE})"))
        return base
    relative = [r.name for r in collection.requests if r.url and "://" not in r.url]
    relative = [name for name in relative if not name.startswith("{{")]
    if relative:
        problems.append(
            FieldProblem(
                "base_url",
                f"{len(relative)} request(s) use a path ({relative[0]}, ...): they need a "
                f"base_url ({BASE_URL_EXAMPLE})",
            )
        )
    return base


def settings_from_draft(
    draft: SettingsDraft, collection: Collection
) -> tuple[dict[str, Any] | None, list[FieldProblem]]:
    """The settings (the ``Collection`` fields they set), or the problems that stop them.
    ``collection`` gives the requests (a path needs a base_url) and the root (the env file)."""
    problems: list[FieldProblem] = []
    name = draft.name.strip()
    if not name:
        problems.append(FieldProblem("name", "a collection needs a name"))
    base_url = _base_url(draft.base_url, collection, problems)
    variables = parse_pairs(draft.variables, "variables", problems)
    for key in variables:
        if not VARIABLE_NAME.match(key):
            problems.append(
                FieldProblem("variables", f"{key!r} is not a variable name (letters, digits, _)")
            )
    headers = parse_pairs(draft.headers, "headers", problems)
    for key in headers:
        if not HEADER_NAME.match(key):
            problems.append(FieldProblem("headers", f"{key!r} is not a header name"))
    timeout_s = 10.0
    try:
        timeout_s = parse_duration(draft.timeout.strip() or "10s")
        if timeout_s <= 0:
            problems.append(FieldProblem("timeout", "must be more than 0s"))
    except ValueError as exc:
        problems.append(FieldProblem("timeout", str(exc)))
    env_file = draft.env_file.strip() or None
    if env_file is not None and not (Path(collection.root) / env_file).is_file():
        problems.append(
            FieldProblem(
                "env_file",
                f"no file {env_file} beside collection.yaml: create it (KEY=value lines) "
                "or leave this empty",
            )
        )
    if problems:
        return None, problems
    return {
        "name": name,
        "base_url": base_url,
        "variables": variables,
        "headers": headers,
        "timeout_s": timeout_s,
        "env_file": env_file,
    }, []
