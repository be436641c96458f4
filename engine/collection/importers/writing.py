"""The new collection an importer writes, and its report of what it made and what it left out.

Every importer builds through a ``CollectionWriter``: request names and file names are made
unique, secrets (tokens, passwords, cookies) go to the collection's env file (mode 0600, listed
in ``.gitignore``) and the YAML refers to them as ``{{name}}``. Nothing appears at the
destination until the whole collection is written and loads back: files go to a hidden staging
directory beside it, renamed into place at the end, or removed if anything fails.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from engine.collection.loader import COLLECTION_FILE, load_collection
from engine.collection.model import Collection, RequestDef
from engine.collection.saver import atomic_write, save_collection_file, save_request
from engine.collection.variables import VARIABLE_REF
from engine.errors import CollectionError
from engine.redact import is_sensitive_header

ENV_FILE = ".env"
GITIGNORE = ".gitignore"
_ONLY_REFERENCES = re.compile(rf"^(?:\s*{VARIABLE_REF.pattern}\s*)+$")
_SECRET_WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "cookie",
    "session",
    "credential",
    "apikey",
    "api_key",
    "api-key",
)


@dataclass(slots=True)
class ImportResult:
    """What an import wrote and what it could not carry over, for the command to print."""

    collection: Collection
    made: list[str] = field(default_factory=list)  # one line per request file
    notes: list[str] = field(default_factory=list)  # what was left out on purpose, and why
    warnings: list[str] = field(default_factory=list)  # parts of the input not carried over
    secrets: list[str] = field(default_factory=list)  # names whose values are in the env file
    to_fill: list[str] = field(default_factory=list)  # env names the user must fill in
    env_path: Path | None = None


def slug(name: str) -> str:
    """A file name for ``name``: lower case, words joined by ``_`` (``listItems``, ``List
    items`` -> ``list_items``)."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    text = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()
    return text[:60] or "request"


def variable_name(hint: str) -> str:
    """A valid ``{{name}}`` for ``hint`` in snake case: ``X-API-Key`` -> ``x_api_key``,
    ``bearerAuth`` -> ``bearer_auth``."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", hint)
    text = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_").lower() or "value"
    return text if not text[0].isdigit() else f"v_{text}"


def unique(name: str, taken: set[str], fmt: str = "{} ({})") -> str:
    """``name``, or ``fmt.format(name, n)`` for the first n from 2 not in ``taken``; taken."""
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = fmt.format(name, n), n + 1
    taken.add(candidate)
    return candidate


def only_references(value: str) -> bool:
    """True when ``value`` is nothing but ``{{name}}`` references (no literal secret in it)."""
    return bool(_ONLY_REFERENCES.match(value))


def is_secret_field(name: str) -> bool:
    """Whether a variable, body field or query parameter called ``name`` holds a credential
    (``password``, ``access_token``, ``apiKey``, ``client-secret``...)."""
    lower = name.lower()
    if any(word in lower for word in _SECRET_WORDS):
        return True
    return lower == "key" or lower.endswith(("_key", "-key")) or name.endswith("Key")


def hide_header(name: str, value: str, secret: Callable[[str, str], str]) -> str:
    """A header value with its secret part replaced by ``secret(hint, text)`` (which returns
    a ``{{reference}}``): ``Authorization: Bearer x`` keeps its scheme, ``Bearer {{token}}``,
    and each cookie of a ``Cookie`` header gets its own, ``sid={{cookie_sid}}``.
    Headers that are not secret come back unchanged."""
    if not is_sensitive_header(name):
        return value
    if name.lower() == "cookie":  # one variable per cookie: sid={{cookie_sid}}
        pairs = [pair.strip().partition("=") for pair in value.split(";") if pair.strip()]
        return "; ".join(
            f"{k}={secret(f'cookie_{k}', v) if eq else v}" if eq else k for k, eq, v in pairs
        )
    scheme, _, credentials = value.strip().partition(" ")
    if name.lower() in ("authorization", "proxy-authorization") and credentials.strip():
        hint = {"bearer": "token", "basic": "basic_auth"}.get(scheme.lower(), f"{scheme}_auth")
        return f"{scheme} {secret(hint, credentials.strip())}"
    return secret(name, value)


def env_line(name: str, value: str) -> str:
    """``name=value`` as ``read_env_file`` reads it back exactly (quoted when it must be)."""
    plain = value == value.strip() and not re.search(r"[\s#'\"$]", value)
    if plain:
        return f"{name}={value}"
    quote = "'" if "'" not in value else '"'
    return f"{name}={quote}{value}{quote}"


class CollectionWriter:
    """Builds one new collection directory ``dest``; use as a context manager, then ``finish``.

    Refuses a destination that is a file, holds a collection, or is a non-empty directory.
    """

    def __init__(self, dest: Path | str, name: str) -> None:
        self.dest = Path(dest)
        refuse_existing(self.dest)
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        prefix = f".{self.dest.name}.importing."
        self.staging = Path(tempfile.mkdtemp(prefix=prefix, dir=self.dest.parent))
        self.collection = Collection(root=self.staging, name=name)
        self.result = ImportResult(self.collection)
        self.env: dict[str, str] = {}
        self._placeholders: dict[str, str] = {}  # name -> what to put there
        self._names: set[str] = set()
        self._files: dict[Path, set[str]] = {}
        self._by_value: dict[str, str] = {}

    def __enter__(self) -> CollectionWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.staging.exists():  # finish() moved it away unless something failed
            shutil.rmtree(self.staging, ignore_errors=True)

    # -- what goes in --------------------------------------------------------------------
    def add(self, req: RequestDef, folder: Path | str = "", stem: str | None = None) -> RequestDef:
        """Write ``req`` into ``folder`` under a unique name and file name; returns it."""
        folder = Path(*[slug(part) for part in Path(folder).parts])
        req.name = unique(req.name.strip() or "request", self._names)
        taken = self._files.setdefault(folder, set())
        if folder == Path():
            taken.add(Path(COLLECTION_FILE).stem)  # never collection.yaml
        req.relpath = folder / (unique(slug(stem or req.name), taken, "{}_{}") + ".yaml")
        save_request(self.collection, req)
        self.result.made.append(f"{req.relpath.as_posix()}  {req.method} {req.url}")
        return req

    def folder(self, folder: Path | str) -> None:
        """An (as yet empty) folder, as the source has it."""
        path = Path(*[slug(part) for part in Path(folder).parts])
        (self.staging / path).mkdir(parents=True, exist_ok=True)

    def secret(self, hint: str, value: str) -> str:
        """``{{name}}`` for a secret ``value`` kept in the env file (one name per value).

        Values that are empty or already only ``{{references}}`` are returned unchanged.
        """
        if not value.strip() or only_references(value):
            return value
        if value in self._by_value:
            return "{{" + self._by_value[value] + "}}"
        name = self._free_name(variable_name(hint))
        self.env[name] = value
        self._by_value[value] = name
        self.result.secrets.append(name)
        return "{{" + name + "}}"

    def env_value(self, name: str, value: str) -> None:
        """A value from the source's own environment, kept under its name in the env file."""
        if name not in self.env:
            self.result.secrets.append(name)
        self.env[name] = value
        self._by_value.setdefault(value, name)

    def new_env_name(self, hint: str, value: str) -> str:
        """A name not used yet, holding ``value`` in the env file (``env_value`` updates it)."""
        name = self._free_name(variable_name(hint))
        self.env_value(name, value)
        return name

    def placeholder(self, hint: str, what: str) -> str:
        """``{{name}}`` for a value only the user has (a token); the env file says what."""
        name = variable_name(hint)
        if name not in self._placeholders:
            name = self._free_name(name) if name in self.env else name
            self._placeholders[name] = what
            self.result.to_fill.append(name)
        return "{{" + name + "}}"

    def _free_name(self, name: str) -> str:
        taken = set(self.env) | set(self._placeholders) | set(self.collection.variables)
        return unique(name, taken, "{}_{}")

    def warn(self, text: str) -> None:
        """A part of the input that is not carried over."""
        if text not in self.result.warnings:
            self.result.warnings.append(text)

    def note(self, text: str) -> None:
        """Something left out on purpose (the line says why and how to keep it)."""
        self.result.notes.append(text)

    # -- the end -------------------------------------------------------------------------
    def finish(self) -> ImportResult:
        """Write collection.yaml and the env file, check it all loads, move it into place."""
        if self.env or self._placeholders:
            self.collection.env_file = ENV_FILE
            self._write_env(self.staging / ENV_FILE)
            atomic_write(self.staging / GITIGNORE, f"{ENV_FILE}\n")
            self.result.env_path = self.dest / ENV_FILE
        save_collection_file(self.collection)
        load_collection(self.staging)  # what was written loads, or this raises
        umask = os.umask(0)
        os.umask(umask)
        self.staging.chmod(0o777 & ~umask)  # mkdtemp made it 0700
        refuse_existing(self.dest)  # nobody wrote there meanwhile
        os.replace(self.staging, self.dest)
        self.result.collection = load_collection(self.dest)
        return self.result

    def _write_env(self, path: Path) -> None:
        lines = [
            "# Values for this collection that stay out of git (listed in .gitignore):",
            "# tokens, passwords, cookies. The YAML files refer to them as {{name}}.",
        ]
        lines += [env_line(name, value) for name, value in self.env.items()]
        if self._placeholders:
            lines.append("# To fill in (uncomment), or set them in the environment:")
            lines += [f"# {name}=    <- {what}" for name, what in self._placeholders.items()]
        atomic_write(path, "\n".join(lines) + "\n")
        path.chmod(0o600)


def refuse_existing(dest: Path) -> None:
    """Raise CollectionError unless ``dest`` is missing or an empty directory."""
    if (dest / COLLECTION_FILE).exists():
        raise CollectionError.single(
            dest / COLLECTION_FILE,
            None,
            "a collection already exists here",
            "import into a new folder",
        )
    if dest.exists() and not dest.is_dir():
        raise CollectionError.single(
            dest, None, "not a directory", "give a new folder to import into"
        )
    if dest.is_dir() and any(dest.iterdir()):
        raise CollectionError.single(
            dest, None, "the folder is not empty", "import into a new (or empty) folder"
        )
