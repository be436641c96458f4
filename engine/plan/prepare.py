"""One request definition to a ``PreparedRequest``: variables resolved, URL, headers and body
rendered once. A request that uses per-user values (extracted, data-file columns, dynamic)
also gets a ``RequestTemplate``: the same rendering with markers, cut into byte pieces."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from engine.collection.model import MISSING, Collection, RequestDef, ScenarioDef
from engine.collection.variables import VariableScope, substitute_value, unknown_variable
from engine.errors import Problem
from engine.jsonpath import JsonNull
from engine.plan.flows import FlowVariables, unknown_dynamic
from engine.plan.model import Check, PreparedRequest
from engine.plan.template import COOKIE_MORE, COOKIES, HEADER, JSON_STRING, TEXT, Markers
from engine.plan.template import RequestTemplate as Template

# Characters left as they are in a path or query; anything else (spaces...) is %-encoded.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


def join_url(base_url: str, url: str) -> str:
    """A relative url appended to base_url (``/api`` + ``/users`` -> ``/api/users``)."""
    if "://" in url or not base_url:
        return url
    if not url:
        return base_url
    return base_url.rstrip("/") + "/" + url.lstrip("/")


def _json_check(path: str, expected: Any) -> Check:
    if expected is MISSING:
        return Check("json_path", None, path)
    return Check("json_path", JsonNull.NULL if expected is None else expected, path)


class Preparer:
    """Turns request definitions into ``PreparedRequest``s, collecting problems (unknown
    variables, per-user values where they cannot go) rather than stopping at the first."""

    def __init__(
        self,
        collection: Collection,
        s: ScenarioDef,
        scope: VariableScope,
        flow: FlowVariables | None = None,
    ) -> None:
        self.collection = collection
        self.scenario = s
        self.scope = scope
        self.flow = flow
        self.markers = Markers()
        self.values = scope.values
        if flow is not None:  # a name a request extracts is per user, its value a default
            self.values = {k: v for k, v in scope.values.items() if not flow.is_flow_name(k)}
        self.problems: list[Problem] = []
        self.base_url = self.sub(collection.base_url, collection.collection_file)
        self.headers = {
            self.sub(k, collection.collection_file): self.sub(v, collection.collection_file)
            for k, v in collection.headers.items()
        }

    def _add(self, problem: Problem) -> None:
        if problem not in self.problems:
            self.problems.append(problem)

    def sub(self, value: Any, path: Path | None) -> Any:
        """``value`` with variables resolved; per-user names become markers."""
        missing: set[str] = set()
        out = substitute_value(value, self.values, missing)
        markers: dict[str, str] = {}
        for name in sorted(missing):
            if self.flow is not None and self.flow.is_flow_name(name):
                markers[name] = self.markers.marker(self.flow.id_of(name))
            elif name.startswith("$"):
                self._add(unknown_dynamic(path, name))
            else:
                self._add(unknown_variable(path, name, self.scope))
        if markers:
            out = substitute_value(out, markers, set())
        return out

    def _no_markers(self, text: str, path: Path, what: str) -> bool:
        """False (and a problem) when a per-user value stands where it cannot go."""
        found = self.markers.found(text)
        if not found:
            return True
        assert self.flow is not None
        name = self.flow.names[found[0]]
        self._add(
            Problem(
                path,
                None,
                f"{{{{{name}}}}} is a per-user value and cannot be used in {what}",
                "per-user values (extracted, data columns, $dynamic) go in the url path or "
                "query, header values and the body; the host is fixed when the run starts",
            )
        )
        return False

    def prepare(self, req: RequestDef) -> PreparedRequest | None:
        path = self.collection.request_path(req)
        url = join_url(self.base_url, self.sub(req.url, path))
        params = {self.sub(k, path): self.sub(v, path) for k, v in req.params.items()}
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        headers = dict(self.headers)
        for name, value in req.headers.items():
            name, value = self.sub(name, path), self.sub(value, path)
            for existing in [h for h in headers if h.lower() == name.lower()]:
                del headers[existing]
            headers[name] = value
        body_text = ""
        json_body = isinstance(req.body, dict | list)
        if json_body:
            body_text = json.dumps(self.sub(req.body, path), separators=(",", ":"))
            if not any(h.lower() == "content-type" for h in headers):
                headers["Content-Type"] = "application/json"
        elif isinstance(req.body, str):
            body_text = self.sub(req.body, path)
        checks: list[Check] = []
        if req.checks.status:
            checks.append(Check("status", tuple(req.checks.status)))
        checks += [Check("body_contains", self.sub(t, path)) for t in req.checks.body_contains]
        checks += [_json_check(p, e) for p, e in req.checks.json]
        for check in checks:
            if check.kind == "body_contains":
                self._no_markers(str(check.expected), path, "a check")
        if self.problems:
            return None  # the run cannot start; keep collecting problems only
        parts = urlsplit(url)
        if not self._no_markers(f"{parts.scheme}://{parts.netloc}", path, "the scheme or host"):
            return None
        scheme = parts.scheme.lower()
        try:
            port = parts.port
        except ValueError:
            port = -1
        if scheme not in ("http", "https") or not parts.hostname or port == -1:
            why = "only http:// and https:// URLs with a host can be requested"
            if port == -1:
                why = "the port is not a number from 0 to 65535"
            self._add(
                Problem(
                    path,
                    None,
                    f"request {req.name!r}: cannot send to {url!r}: {why}",
                    "check base_url in collection.yaml and the request's url",
                )
            )
            return None
        target = quote(parts.path or "/", safe=_PATH_SAFE)
        if parts.query:
            target += "?" + quote(parts.query, safe=_QUERY_SAFE)
        netloc = parts.netloc
        if parts.username is not None:  # user:password@host becomes a Basic header
            netloc = netloc.rpartition("@")[2]
            if not any(h.lower() == "authorization" for h in headers):
                pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
                headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        url = f"{parts.scheme}://{netloc}{target}"
        timeout = req.timeout_s or self.scenario.timeout_s or self.collection.timeout_s
        prepared = PreparedRequest(
            name=req.name,
            method=req.method,
            url=url,
            scheme="https" if scheme == "https" else "http",
            host=parts.hostname,
            port=port or (443 if scheme == "https" else 80),
            target=target,
            headers=tuple(headers.items()),
            body=body_text.encode(),
            timeout_s=float(timeout),
            weight=req.weight,
            checks=tuple(checks),
            insecure=req.insecure or self.scenario.insecure,
        )
        return self._templated(prepared, json_body)

    def _templated(self, p: PreparedRequest, json_body: bool) -> PreparedRequest:
        """``p`` with a template when per-user values or cookies are in it, shown as
        ``{{name}}`` in its text fields; ``p`` itself when it is static."""
        m = self.markers
        cookies = self.scenario.cookies and self.flow is not None
        text = " ".join([p.target, p.body.decode(), *(v for _, v in p.headers)])
        if not m.found(text) and not cookies:
            return p
        assert self.flow is not None
        names = self.flow.names
        header_pieces = []
        for name, value in p.headers:
            pieces = m.pieces(value, HEADER, "latin-1")
            if cookies and name.lower() == "cookie":
                pieces = (*pieces, (COOKIES, COOKIE_MORE))
            header_pieces.append((name, pieces))
        used = set(m.found(text))
        template = Template(
            target=m.target_pieces(p.target),
            headers=tuple(header_pieces),
            body=m.pieces(p.body.decode(), JSON_STRING if json_body else TEXT),
            cookies=cookies and not any(n.lower() == "cookie" for n, _ in p.headers),
            generators=tuple((v, names[v]) for v in sorted(used) if names[v].startswith("$")),
        )
        return PreparedRequest(
            name=p.name,
            method=p.method,
            url=m.shown(p.url, names),
            scheme=p.scheme,
            host=p.host,
            port=p.port,
            target=m.shown(p.target, names),
            headers=tuple((n, m.shown(v, names)) for n, v in p.headers),
            body=m.shown(p.body.decode(), names).encode(),
            timeout_s=p.timeout_s,
            weight=p.weight,
            checks=p.checks,
            insecure=p.insecure,
            template=template,
        )
