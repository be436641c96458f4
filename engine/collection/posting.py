"""A directory of Posting requests (``*.posting.yaml``) read as a collection, read-only.

Posting (a Textual API client) keeps one YAML file per request: list-form ``headers`` and
``params`` with ``enabled``, ``body.content`` or ``body.form_data``, ``auth`` (basic,
bearer_token), ``path_params`` for ``:name`` placeholders, ``options`` (timeout,
verify_ssl) and ``$VAR`` / ``${VAR}`` variables from its env files. Such a directory opens
as it is: the files are read into the same model as a collection's, variables become
``{{VAR}}`` and ``posting.env`` beside them is the env file. Nothing is ever written there;
``deli-tui import posting`` converts it into a collection that can be edited.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.collection.importers.bodies import FORM_TYPE, form_text
from engine.collection.model import HTTP_METHODS, Collection, RequestDef
from engine.collection.nodes import compose_text
from engine.collection.requestfile import url_problem
from engine.collection.variables import read_env_file, substitute
from engine.errors import CollectionError, ProblemList

POSTING_SUFFIX = ".posting.yaml"
POSTING_ENV = "posting.env"
SKIPPED = ("node_modules", "__pycache__", "venv")
DETECT_DEPTH = 3
READ_ONLY = (
    "a Posting collection is opened read-only; to edit it, convert it into a collection:"
    " deli-tui import posting {root} NEW_DIR"
)
_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)")
_PATH_PARAM = re.compile(r"(?<!:):([A-Za-z_][A-Za-z0-9_]*)")


def posting_variables(text: str) -> str:
    """Posting's ``$VAR`` and ``${VAR}`` as ``{{VAR}}``; ``$$`` is a literal ``$``."""

    def repl(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        return "{{" + (m.group(1) or m.group(2)) + "}}"

    return _VARIABLE.sub(repl, text)


def _walk(root: Path, depth: int | None = None) -> Iterator[Path]:
    """Posting request files under ``root`` (relative), hidden and tool folders skipped, at
    most ``depth`` folders down."""
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath).relative_to(root)
        deep = depth is not None and len(here.parts) >= depth
        dirnames[:] = (
            []
            if deep
            else sorted(d for d in dirnames if not d.startswith(".") and d not in SKIPPED)
        )
        for name in sorted(filenames):
            if name.endswith(POSTING_SUFFIX):
                yield Path(dirpath, name).relative_to(root)


def posting_files(root: Path) -> list[Path]:
    """The Posting request files under ``root`` (relative, sorted by path)."""
    return sorted(_walk(root), key=lambda p: p.parts)


def is_posting_dir(root: Path) -> bool:
    """A directory without collection.yaml that holds Posting request files within a few
    folders (the search stops at the first, and never wanders through a whole home)."""
    if not root.is_dir() or (root / "collection.yaml").exists():
        return False
    return next(_walk(root, DETECT_DEPTH), None) is not None


@dataclass(slots=True)
class PostingRequest:
    """One request as read, with the parts that have no equivalent here."""

    request: RequestDef
    left_out: list[str] = field(default_factory=list)
    basic: tuple[str, str] | None = None  # username, password (converted), to encode


def _items(value: Any) -> list[tuple[str, str]]:
    """Posting's ``[{name, value, enabled}]`` lists: the enabled pairs, as text."""
    out = []
    for item in value or []:
        if isinstance(item, dict) and item.get("name") and item.get("enabled", True):
            out.append((str(item["name"]), posting_variables(str(item.get("value", "")))))
    return out


def read_posting_request(data: Any, relpath: Path) -> PostingRequest:
    """The request in one parsed ``*.posting.yaml`` file; raises ValueError when unusable."""
    if not isinstance(data, dict):
        raise ValueError("a Posting request file holds a mapping (name:, url:, ...)")
    name = str(data.get("name") or relpath.name[: -len(POSTING_SUFFIX)])
    method = str(data.get("method") or "GET").upper()
    if method not in HTTP_METHODS:
        raise ValueError(f"method {method!r} is not supported")
    url = posting_variables(str(data.get("url") or "")).strip()
    if not url:
        raise ValueError("the request has no url")
    path_params = dict(_items(data.get("path_params")))
    if path_params:
        head, sep, tail = url.partition("?")
        head = _PATH_PARAM.sub(lambda m: path_params.get(m.group(1), m.group(0)), head)
        url = head.replace("::", ":") + sep + tail
    if "://" not in url and not url.startswith("{{"):
        url = "http://" + url  # as Posting does
    req = RequestDef(relpath=relpath, name=name, method=method, url=url)
    out = PostingRequest(req)
    req.description = str(data.get("description") or "")
    req.headers = dict(_items(data.get("headers")))
    params = _items(data.get("params"))
    req.params = dict(params)
    if len(req.params) != len(params):
        out.left_out.append("repeated query parameters: the last value of each is kept")
    body = data.get("body") or {}
    if isinstance(body, dict) and body.get("content"):
        text = posting_variables(str(body["content"]))
        kind = str(body.get("content_type") or "") + next(
            (v for k, v in req.headers.items() if k.lower() == "content-type"), ""
        )
        parsed: Any = text
        if "json" in kind.lower() or text.lstrip().startswith(("{", "[")):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = text
        req.body = parsed if isinstance(parsed, dict | list) else text
    elif isinstance(body, dict) and body.get("form_data"):
        req.body = form_text(_items(body["form_data"]))
        if not any(k.lower() == "content-type" for k in req.headers):
            req.headers["Content-Type"] = FORM_TYPE
    auth = data.get("auth") or {}
    scheme = auth.get("type") if isinstance(auth, dict) else None
    if scheme == "bearer_token":
        token = posting_variables(str((auth.get("bearer_token") or {}).get("token", "")))
        req.headers.setdefault("Authorization", f"Bearer {token}")
    elif scheme == "basic":
        basic = auth.get("basic") or {}
        user = posting_variables(str(basic.get("username", "")))
        out.basic = (user, posting_variables(str(basic.get("password", ""))))
    elif scheme:
        out.left_out.append(f"{scheme} authentication")
    options = data.get("options") or {}
    if isinstance(options, dict):
        if isinstance(options.get("timeout"), int | float) and options["timeout"] > 0:
            req.timeout_s = float(options["timeout"])
        if options.get("verify_ssl") is False:
            req.insecure = True
        if options.get("proxy_url"):
            out.left_out.append(f"proxy {options['proxy_url']}")
        if options.get("follow_redirects") is True:
            out.left_out.append("follow_redirects (a 3xx is the response measured)")
    scripts = data.get("scripts") or {}
    for when, script in scripts.items() if isinstance(scripts, dict) else ():
        if script:
            out.left_out.append(f"{when} script {script}")
    return out


def basic_header(user: str, password: str, known: Mapping[str, str]) -> str | None:
    """``Basic base64(user:password)`` with variables filled from ``known``; None if one is
    unknown."""
    missing: set[str] = set()
    pair = substitute(f"{user}:{password}", known, missing)
    return None if missing else "Basic " + base64.b64encode(pair.encode()).decode()


def read_posting_dir(root: Path) -> list[PostingRequest]:
    """Every request under ``root``; raises CollectionError listing every unreadable file."""
    problems = ProblemList()
    out: list[PostingRequest] = []
    names: dict[str, Path] = {}
    for relpath in posting_files(root):
        path = root / relpath
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.add(path, None, f"cannot read the file: {exc}", "save it as UTF-8")
            continue
        if compose_text(text, path, problems) is None:
            continue
        try:
            read = read_posting_request(yaml.safe_load(text), relpath)
        except ValueError as exc:
            problems.add(path, 1, str(exc), "check the file in Posting")
            continue
        problem = url_problem(read.request.url)
        if problem:
            problems.add(path, None, problem, "check the url in Posting")
            continue
        name = read.request.name
        if name in names:  # Posting allows it; a collection's names are unique
            n = 2
            while f"{name} ({n})" in names:
                n += 1
            read.request.name = f"{name} ({n})"
        names[read.request.name] = relpath
        out.append(read)
    problems.raise_if_any()
    return out


def load_posting_collection(root: Path, environ: Mapping[str, str] | None = None) -> Collection:
    """The Posting directory ``root`` as a read-only collection."""
    env_values = read_env_file(root / POSTING_ENV) if (root / POSTING_ENV).is_file() else {}
    known = {**env_values, **(os.environ if environ is None else environ)}
    requests = []
    for read in read_posting_dir(root):
        if read.basic is not None:
            header = basic_header(*read.basic, known)
            read.request.headers.setdefault("Authorization", header or "Basic {{basic_auth}}")
        requests.append(read.request)
    collection = Collection(root=root, name=root.resolve().name, requests=requests)
    collection.env_file = POSTING_ENV if (root / POSTING_ENV).is_file() else None
    collection.read_only = READ_ONLY.format(root=root)
    collection.folders = sorted({p for r in requests for p in r.relpath.parents if p != Path()})
    if not requests:
        raise CollectionError.single(root, None, "no Posting request files here", "")
    return collection
