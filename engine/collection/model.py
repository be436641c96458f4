"""In-memory form of a collection, as loaded from disk and as edited by the app.

These are plain mutable dataclasses: the editor changes them and the saver writes them back.
They still hold ``{{variables}}`` unresolved; ``engine.plan.build`` resolves them
once per run into a ``RunPlan``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class _Missing(Enum):
    """Marks a JSON check written without ``equals``: the path only has to exist."""

    MISSING = "missing"

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing.MISSING


@dataclass(slots=True)
class CheckDef:
    """As written in YAML: ``status: 200 | [200, 201]``, ``body_contains: text``,
    ``json: [{path: $.id, equals: 42}]`` (``equals`` omitted means the path must exist)."""

    status: list[int] = field(default_factory=list)
    body_contains: list[str] = field(default_factory=list)
    json: list[tuple[str, Any]] = field(default_factory=list)  # (path, expected or MISSING)


@dataclass(slots=True)
class ExtractDef:
    """One value a response gives the user's later requests, as written in YAML:
    ``token: {json: $.token}``, ``session: {header: Set-Cookie, regex: 'sid=([^;]+)'}``,
    ``csrf: {body_regex: 'value="([^"]+)"'}``. A regex's first group is the value (the whole
    match when it has none). ``line`` is where it was written, for problems found later."""

    name: str
    json: str | None = None
    header: str | None = None
    regex: str | None = None  # with ``header``: applied to the header's values
    body_regex: str | None = None
    line: int | None = field(default=None, compare=False)

    def describe(self) -> str:
        """The source as YAML shows it: ``{json: $.token}``."""
        if self.json is not None:
            return f"{{json: {self.json}}}"
        if self.header is not None:
            regex = f", regex: {self.regex!r}" if self.regex is not None else ""
            return f"{{header: {self.header}{regex}}}"
        return f"{{body_regex: {self.body_regex!r}}}"


@dataclass(slots=True)
class RequestDef:
    """One request file. ``relpath`` is relative to the collection root, e.g.
    ``users/get_user.yaml``; the folders in it are the tree shown in the app."""

    relpath: Path
    name: str
    method: str = "GET"
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    body: str | dict[str, Any] | list[Any] | None = None  # text, or a mapping/list sent as JSON
    timeout_s: float | None = None  # None: the collection's timeout
    weight: float = 1.0
    checks: CheckDef = field(default_factory=CheckDef)
    insecure: bool = False
    description: str = ""
    extract: list[ExtractDef] = field(default_factory=list)


DATA_MODES = ("unique", "cycle", "random")


@dataclass(slots=True)
class DataDef:
    """A scenario's data file: a CSV with a header row; each user gets a row and its columns
    become ``{{<as>.<column>}}``. ``mode``: ``unique`` (one row per user, an error if there
    are fewer rows than users), ``cycle`` (rows in turn) or ``random``."""

    file: str
    as_name: str = "data"
    mode: str = "cycle"
    line: int | None = field(default=None, compare=False)


@dataclass(slots=True)
class StressDef:
    """``model: stress``: the load rises from ``start`` by ``step`` every ``step_duration_s``
    up to ``max`` (users, or req/s when ``over: rate``) until a step meets an ``until``
    condition (``p95 > 200ms``)."""

    over: str = "users"
    start: float = 0.0
    step: float = 0.0
    step_duration_s: float = 10.0
    max: float = 0.0
    until: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ScenarioDef:
    """A named load scenario from ``collection.yaml``.

    Profiles: ``constant`` (users/rate for duration, optional ramp_up), ``ramp`` (0 -> target
    over ramp_up then hold for duration), ``spike`` (base, then spike_to for spike_duration,
    then base), ``stages`` (k6-style list). ``model`` is closed (users) or open (rate).
    """

    name: str
    model: str = "closed"
    profile: str = "constant"
    users: int = 10
    rate: float = 0.0
    duration_s: float = 30.0
    ramp_up_s: float = 0.0
    spike_to: float = 0.0
    spike_duration_s: float = 0.0
    stages: list[tuple[float, float]] = field(default_factory=list)  # (duration_s, target)
    think_time: str = "0s"  # "100ms" or "100ms..300ms"
    iterations: int | None = None
    max_in_flight: int = 1000
    max_results: int | None = None  # raw results kept in memory per worker; None: the default
    flow: str = "sequence"
    requests: list[str] = field(default_factory=list)  # names or relpaths; empty: all
    workers: int = 1
    http2: bool = False
    client: str = "fast"
    insecure: bool = False
    timeout_s: float | None = None
    graceful_stop_s: float = 5.0
    thresholds: list[str] = field(default_factory=list)
    # with no thresholds, DEFAULT_THRESHOLDS apply unless the file says ``thresholds: []``
    default_thresholds: bool = True
    cluster: str | None = None  # a Ray address; None: workers on this machine
    setup: list[str] = field(default_factory=list)  # requests sent once per user, first
    data: DataDef | None = None
    cookies: bool = False  # one cookie jar per user
    # model: stress (the YAML's model); ``model`` is then closed (over users) or open (rate)
    stress: StressDef | None = None


@dataclass(slots=True)
class Collection:
    root: Path
    name: str
    base_url: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 10.0
    env_file: str | None = None
    scenarios: dict[str, ScenarioDef] = field(default_factory=dict)
    requests: list[RequestDef] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)  # every folder, including empty ones
    read_only: str = ""  # why nothing may be written here (a Posting directory), or ""

    @property
    def collection_file(self) -> Path:
        return self.root / "collection.yaml"

    def request_path(self, request: RequestDef) -> Path:
        return self.root / request.relpath

    def find_request(self, name_or_path: str) -> RequestDef | None:
        for r in self.requests:
            if r.name == name_or_path or r.relpath.as_posix() == name_or_path:
                return r
        return None
