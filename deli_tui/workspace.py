"""The open collection as the app sees it: files, their mtimes at load, plans and single sends.

No Textual here. Saves go through the engine's atomic saver with the mtime seen at load, so
a file changed on disk since then raises ``FileChangedError`` instead of being overwritten.
A ``--demo`` base URL override lives only in memory: it shapes plans, never the files.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

from deli_tui.send_session import SendSession
from engine.collection.model import Collection, RequestDef, ScenarioDef
from engine.errors import CollectionError, Problem
from engine.plan.model import PreparedRequest, RunPlan

COLLECTION_KEY = "collection.yaml"
_SEND_SCENARIO = "__send_one__"


def host_is_local(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 (the only places load may go unasked)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def non_local_hosts(plan: RunPlan) -> list[str]:
    """The hosts of ``plan`` that are not on this machine, in order, without repeats."""
    hosts: list[str] = []
    for req in plan.requests:
        host = req.host or (urlsplit(req.url).hostname or "")
        if not host_is_local(host) and host not in hosts:
            hosts.append(host)
    return hosts


def _mtime_ns(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


class Workspace:
    """One collection directory: loaded model, mtimes, env file and base URL override."""

    def __init__(
        self,
        root: Path,
        *,
        env_file: Path | None = None,
        base_url_override: str | None = None,
    ) -> None:
        self.root = root.resolve()
        self.env_file = env_file
        self.base_url_override = base_url_override
        self.collection: Collection = Collection(root=self.root, name=self.root.name)
        self.mtimes: dict[str, int | None] = {}
        self.session = SendSession()  # values extracted by single sends, for the next ones

    @property
    def runs_dir(self) -> Path:
        return self.root / ".deli" / "runs"

    def load(self) -> Collection:
        """(Re)load everything from disk. Raises ``CollectionError`` with file:line problems."""
        from engine.collection.loader import load_collection

        self.collection = load_collection(self.root)
        self.mtimes = {COLLECTION_KEY: _mtime_ns(self.collection.collection_file)}
        for req in self.collection.requests:
            self.mtimes[req.relpath.as_posix()] = _mtime_ns(self.collection.request_path(req))
        return self.collection

    def request(self, relpath: Path) -> RequestDef | None:
        return next((r for r in self.collection.requests if r.relpath == relpath), None)

    def read_request_from_disk(self, relpath: Path) -> RequestDef:
        """The request as its file says now (for "reload"); records the new mtime."""
        from engine.collection.loader import parse_request_text

        if self.collection.read_only:  # a Posting directory: its files are not ours to parse
            self.load()
            found = self.request(relpath)
            if found is None:
                raise FileNotFoundError(self.root / relpath)
            return found
        path = self.root / relpath
        text = path.read_text(encoding="utf-8")
        req = parse_request_text(text, relpath, source=path)
        self._replace_request(req)
        self.mtimes[relpath.as_posix()] = _mtime_ns(path)
        return req

    def _replace_request(self, req: RequestDef) -> None:
        reqs = self.collection.requests
        for i, existing in enumerate(reqs):
            if existing.relpath == req.relpath:
                reqs[i] = req
                return
        reqs.append(req)

    def save_request(self, req: RequestDef, *, overwrite: bool = False) -> None:
        """Write ``req`` atomically; ``FileChangedError`` if its file changed since loaded
        (unless ``overwrite``). A new name is followed by the scenarios that named it."""
        from engine.collection.saver import rename_references, save_request

        key = req.relpath.as_posix()
        before = self.request(req.relpath)
        expected = None if overwrite else self.mtimes.get(key)
        self.mtimes[key] = save_request(self.collection, req, expected_mtime_ns=expected)
        self._replace_request(req)
        if before is not None and before.name != req.name:
            rename_references(self.collection, {before.name: req.name})
            self.mtimes[COLLECTION_KEY] = _mtime_ns(self.collection.collection_file)

    def save_scenario(
        self, scenario: ScenarioDef, *, old_name: str | None = None, overwrite: bool = False
    ) -> None:
        """Put ``scenario`` into collection.yaml (replacing ``old_name`` when renamed)."""
        scenarios = dict(self.collection.scenarios)
        if old_name is not None and old_name != scenario.name:
            scenarios.pop(old_name, None)
        scenarios[scenario.name] = scenario
        self._write_scenarios(scenarios, overwrite=overwrite)

    def rename_scenario(self, old_name: str, new_name: str, *, overwrite: bool = False) -> None:
        """Rename a saved scenario in collection.yaml, keeping its place among the others."""
        scenarios = {
            (new_name if name == old_name else name): (
                dataclasses.replace(s, name=new_name) if name == old_name else s
            )
            for name, s in self.collection.scenarios.items()
        }
        self._write_scenarios(scenarios, overwrite=overwrite)

    def delete_scenario(self, name: str, *, overwrite: bool = False) -> None:
        """Remove a saved scenario from collection.yaml."""
        scenarios = {n: s for n, s in self.collection.scenarios.items() if n != name}
        self._write_scenarios(scenarios, overwrite=overwrite)

    def _write_scenarios(self, scenarios: dict[str, ScenarioDef], *, overwrite: bool) -> None:
        """Save collection.yaml with ``scenarios`` (atomic; ``FileChangedError`` if the file
        changed since loaded, unless ``overwrite``); memory is left as it was on failure."""
        from engine.collection.saver import save_collection_file

        previous = self.collection.scenarios
        self.collection.scenarios = scenarios
        expected = None if overwrite else self.mtimes.get(COLLECTION_KEY)
        try:
            self.mtimes[COLLECTION_KEY] = save_collection_file(
                self.collection, expected_mtime_ns=expected
            )
        except BaseException:
            self.collection.scenarios = previous
            raise

    def save_settings(self, values: dict[str, object], overwrite: bool = False) -> None:
        """Put ``values`` (``Collection`` fields: name, base_url, variables, headers,
        timeout_s, env_file) into collection.yaml (atomic; ``FileChangedError`` if the file
        changed since loaded, unless ``overwrite``); memory is left as it was on failure."""
        from engine.collection.saver import save_collection_file

        before = {key: getattr(self.collection, key) for key in values}
        for key, value in values.items():
            setattr(self.collection, key, value)
        expected = None if overwrite else self.mtimes.get(COLLECTION_KEY)
        try:
            self.mtimes[COLLECTION_KEY] = save_collection_file(
                self.collection, expected_mtime_ns=expected
            )
        except BaseException:
            for key, value in before.items():
                setattr(self.collection, key, value)
            raise

    def refresh_mtime(self, relpath: Path) -> None:
        self.mtimes[relpath.as_posix()] = _mtime_ns(self.root / relpath)

    def forget(self, relpath: Path) -> None:
        self.mtimes.pop(relpath.as_posix(), None)

    def _for_plans(self, collection: Collection | None = None) -> Collection:
        collection = collection or self.collection
        if self.base_url_override:
            return dataclasses.replace(collection, base_url=self.base_url_override)
        return collection

    def plan_for(self, scenario_name: str | None, draft: ScenarioDef | None = None) -> RunPlan:
        """The run plan for a scenario (``draft``: an unsaved version of it). Raises
        ``CollectionError`` when it cannot be built."""
        from engine.plan.build import build_plan

        collection = self.collection
        if draft is not None:
            scenarios = {**collection.scenarios, draft.name: draft}
            collection = dataclasses.replace(collection, scenarios=scenarios)
            scenario_name = draft.name
        return build_plan(
            self._for_plans(collection),
            scenario_name,
            None,
            env_file=self.env_file,
            environ=dict(os.environ),
        )

    def smoke_plans(self, scenario_name: str | None) -> list[RunPlan]:
        """The plans a smoke check sends: the scenario's requests (its flow included), or
        every request of the collection when ``scenario_name`` is None (``smoke_plans``)."""
        if scenario_name is not None:
            return [self.plan_for(scenario_name)]
        from engine.plan.build import smoke_plans

        return smoke_plans(self._for_plans(), env_file=self.env_file, environ=dict(os.environ))

    def prepare_single(self, req: RequestDef) -> tuple[PreparedRequest, tuple[str, ...]]:
        """``req`` (possibly unsaved) with every variable resolved, ready for one send (the
        session's extracted values, a data row and new dynamic values included), and the
        secret values (env files, the environment, the session) to mask wherever it is shown."""
        from engine.plan.build import build_plan

        scenario = ScenarioDef(name=_SEND_SCENARIO, users=1, duration_s=1.0, requests=[])
        one = dataclasses.replace(
            self.collection,
            requests=[dataclasses.replace(req, extract=[])],  # applied after the response
            scenarios={_SEND_SCENARIO: scenario},
        )
        try:
            plan = build_plan(
                self._for_plans(one),
                _SEND_SCENARIO,
                None,
                env_file=self.env_file,
                environ=dict(os.environ),
                fixed=self.session.fixed_values(self.collection),
            )
        except CollectionError as exc:
            raise CollectionError([self._send_first(p) for p in exc.problems]) from None
        return plan.requests[0], plan.redact_values

    def _send_first(self, problem: Problem) -> Problem:
        """An unknown variable that a request extracts: say which to send first."""
        name = problem.message.removeprefix("unknown variable {{").removesuffix("}}")
        if name == problem.message:
            return problem
        by = [r.name for r in self.collection.requests if any(e.name == name for e in r.extract)]
        if not by:
            return problem
        hint = f"send {by[0]!r} first (ctrl+r): its extract gives {{{{{name}}}}}"
        return dataclasses.replace(problem, hint=hint)

    def as_sent(self, req: RequestDef) -> str:
        """``req`` written as the HTTP request it will be, secrets masked."""
        from deli_tui.exchange import as_sent

        prepared, secrets = self.prepare_single(req)
        return as_sent(prepared, secrets)
