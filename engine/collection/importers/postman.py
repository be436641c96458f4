"""A Postman collection (v2.1, v2.0) and optionally an environment, as a new collection.

Folders stay folders. Secrets never reach the YAML: environment values, secret-looking
collection variables, literal tokens, passwords, API keys and cookies go to the env file and
are referred to as ``{{name}}``. Test scripts that only set a variable from the response or
assert a status are read by ``postman_scripts`` into ``extract:`` and ``checks:``; every other
script, and every part that cannot be carried over (file uploads, digest auth...), is listed
as a warning. The ``in_order`` scenario sends the
requests in the collection's order, as Postman's runner does, so a value extracted by one
request (a login's token) is there for the next.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from engine.collection.importers.bodies import (
    FORM_TYPE,
    form_text,
    hide_secret_fields,
    json_body,
)
from engine.collection.importers.postman_scripts import translate_events
from engine.collection.importers.sources import read_json
from engine.collection.importers.writing import (
    CollectionWriter,
    ImportResult,
    hide_header,
    is_secret_field,
    only_references,
)
from engine.collection.model import HTTP_METHODS, ExtractDef, RequestDef, ScenarioDef
from engine.collection.requestfile import EXTRACT_NAME
from engine.collection.variables import substitute
from engine.errors import CollectionError

IN_ORDER = "in_order"
ENV_HINT = "export the environment from Postman (Environments > ... > Export)"
V1_HINT = "export it from Postman as Collection v2.1 (File > Export)"


def _kv(items: Any) -> dict[str, str]:
    """Postman ``[{key, value, disabled}]`` lists as a mapping of the enabled pairs."""
    out: dict[str, str] = {}
    for item in items or []:
        if isinstance(item, dict) and not item.get("disabled") and item.get("key"):
            out[str(item["key"])] = "" if item.get("value") is None else str(item["value"])
    return out


def _auth_values(auth: dict[str, Any], kind: str) -> dict[str, str]:
    """v2.1 keeps ``[{key, value}]`` lists, v2.0 a plain mapping."""
    raw = auth.get(kind) or []
    if isinstance(raw, dict):
        return {str(k): "" if v is None else str(v) for k, v in raw.items()}
    return {str(i.get("key")): str(i.get("value", "")) for i in raw if isinstance(i, dict)}


class _PostmanReader:
    """Walks the item tree, writing one request file per request."""

    def __init__(self, writer: CollectionWriter, known: dict[str, str]) -> None:
        self.writer = writer
        self.known = known  # collection variables and environment values, to compute Basic
        self.added: list[RequestDef] = []  # in the collection's order

    def items(self, items: Any, folder: Path, inherited_auth: Any) -> None:
        for item in items or []:
            if not isinstance(item, dict):
                continue
            name = str(item.get("name") or "request")
            if "item" in item:
                sub = folder / name
                self.writer.folder(sub)
                if item.get("event"):
                    self.writer.warn(f"{sub.as_posix()}/: folder scripts are not imported")
                self.items(item["item"], sub, item.get("auth") or inherited_auth)
                continue
            self.request(item, name, folder, inherited_auth)

    def request(self, item: dict[str, Any], name: str, folder: Path, inherited_auth: Any) -> None:
        request = item.get("request")
        if isinstance(request, str):
            request = {"url": request}
        if not isinstance(request, dict):
            self.writer.warn(f"{(folder / name).as_posix()}: no request in this item; skipped")
            return
        where = (folder / name).as_posix()
        headers = {
            k: hide_header(k, v, self.writer.secret) for k, v in _kv(request.get("header")).items()
        }
        params: dict[str, str] = {}
        self._auth(request.get("auth") or inherited_auth, headers, params, where)
        body = self._body(request.get("body"), headers, where)
        url = _absolute(self._url(request.get("url")))
        method = str(request.get("method") or "GET").upper()
        if method not in HTTP_METHODS:
            self.writer.warn(f"{where}: method {method} is not supported; imported as GET")
            method = "GET"
        description = request.get("description")
        if isinstance(description, dict):  # v2.0 {content, type}
            description = description.get("content")
        req = RequestDef(
            relpath=Path(),
            name=name,
            method=method,
            url=url or "/",
            headers=headers,
            params=params,
            body=body,
            description=description[:2000] if isinstance(description, str) else "",
        )
        for var, how in translate_events(item.get("event"), req, where, self.writer.warn).items():
            if EXTRACT_NAME.match(var):
                found = ExtractDef(var, how.get("json"), how.get("header"), how.get("regex"))
                req.extract.append(found)
            else:
                self.writer.warn(
                    f"{where}: test script sets {var!r}, a name {{{{...}}}} cannot extract into;"
                    " rename it (letters, digits, _) and add extract: to the request"
                )
        self.added.append(self.writer.add(req, folder))

    def _auth(self, auth: Any, headers: dict[str, str], params: dict[str, str], where: str) -> None:
        if not isinstance(auth, dict) or auth.get("type") in (None, "noauth", "inherit"):
            return
        kind = str(auth["type"])
        values = _auth_values(auth, kind)
        if kind == "bearer":
            token = self.writer.secret("token", values.get("token", ""))
            headers.setdefault("Authorization", f"Bearer {token}")
        elif kind == "oauth2" and values.get("accessToken"):
            token = self.writer.secret("access_token", values["accessToken"])
            headers.setdefault("Authorization", f"Bearer {token}")
            self.writer.warn(f"{where}: oauth2 is sent with the current access token only")
        elif kind == "basic":
            headers.setdefault("Authorization", "Basic " + self._basic(values, where))
        elif kind == "apikey":
            key = values.get("key") or "X-API-Key"
            value = self.writer.secret(key, values.get("value", ""))
            if values.get("in", "header") == "query":
                params.setdefault(key, value)
            else:
                headers.setdefault(key, value)
        else:
            self.writer.warn(f"{where}: {kind} authentication is not imported")

    def _basic(self, values: dict[str, str], where: str) -> str:
        """``{{name}}`` of the base64 ``user:password`` in the env file (computed from the
        collection's and environment's values), or a placeholder to fill in."""
        pair = f"{values.get('username', '')}:{values.get('password', '')}"
        missing: set[str] = set()
        resolved = substitute(pair, self.known, missing)
        if missing:
            self.writer.warn(
                f"{where}: basic auth uses {', '.join(sorted(missing))}, which no imported value"
                " defines; fill in basic_auth in the env file"
            )
            return self.writer.placeholder("basic_auth", f"base64 of user:password ({pair})")
        return self.writer.secret("basic_auth", base64.b64encode(resolved.encode()).decode())

    def _url(self, url: Any) -> str:
        if isinstance(url, str):
            return url
        if not isinstance(url, dict):
            return ""
        query = _kv(url.get("query"))
        if url.get("raw"):
            text = str(url["raw"])
            for key, value in query.items():  # secrets in the query string go to the env file
                if is_secret_field(key) and value and not only_references(value):
                    text = text.replace(f"{key}={value}", f"{key}={self.writer.secret(key, value)}")
            return text
        host = url.get("host") or []
        host = ".".join(str(h) for h in host) if isinstance(host, list) else str(host)
        path = url.get("path") or []
        path = "/".join(str(p) for p in path) if isinstance(path, list) else str(path)
        text = f"{url.get('protocol', 'http')}://{host}/{path}"
        pairs = [
            (k, self.writer.secret(k, v) if is_secret_field(k) else v) for k, v in query.items()
        ]
        return text + ("?" + form_text(pairs) if pairs else "")

    def _body(self, body: Any, headers: dict[str, str], where: str) -> Any:
        if not isinstance(body, dict) or body.get("disabled"):
            return None
        mode = body.get("mode")
        if mode == "raw":
            text = str(body.get("raw") or "")
            language = ((body.get("options") or {}).get("raw") or {}).get("language")
            if language == "json" or text.lstrip().startswith(("{", "[")):
                parsed = json_body(text)
                if not isinstance(parsed, str):
                    return hide_secret_fields(parsed, self.writer.secret, is_secret_field)
                headers.setdefault("Content-Type", "application/json")
            return text or None
        if mode == "urlencoded":
            headers.setdefault("Content-Type", FORM_TYPE)
            pairs = _kv(body.get("urlencoded")).items()
            return form_text(
                (k, self.writer.secret(k, v) if is_secret_field(k) else v) for k, v in pairs
            )
        if mode == "graphql":
            graphql = body.get("graphql") or {}
            variables = graphql.get("variables")
            if isinstance(variables, str):
                variables = json_body(variables) if variables.strip() else None
            return {"query": graphql.get("query", ""), "variables": variables or {}}
        self.writer.warn(f"{where}: {mode} bodies are not imported (file uploads and form data)")
        return None


def _absolute(url: str) -> str:
    """Postman accepts ``example.com/x``; the query stays in the url as Postman keeps it."""
    if url and "://" not in url and not url.startswith("{{"):
        return "http://" + url
    return url


def read_environment(path: Path) -> dict[str, str]:
    """The enabled values of a Postman environment file; raises CollectionError."""
    data = read_json(path, "Postman environment", ENV_HINT)
    if not isinstance(data, dict) or not isinstance(data.get("values", []), list):
        raise CollectionError.single(
            path,
            None,
            "not a Postman environment (expected an object with a 'values' list)",
            ENV_HINT,
        )
    return {
        str(v["key"]): "" if v.get("value") is None else str(v["value"])
        for v in data.get("values") or []
        if isinstance(v, dict) and v.get("key") and v.get("enabled", True)
    }


def _check_version(source: Path, data: Any) -> None:
    if not isinstance(data, dict):
        raise CollectionError.single(source, None, "not a Postman collection", V1_HINT)
    schema = str((data.get("info") or {}).get("schema") or "")
    if ("requests" in data and "item" not in data) or "/v1." in schema:
        raise CollectionError.single(
            source, None, "this is a Postman collection v1, which is not supported", V1_HINT
        )
    if "item" not in data or not isinstance(data["item"], list):
        raise CollectionError.single(
            source, None, "not a Postman collection (no 'item' list)", V1_HINT
        )


def import_postman(
    source: Path | str, dest: Path | str, *, environment: Path | str | None = None
) -> ImportResult:
    """Write the Postman collection in ``source`` as the new collection directory ``dest``."""
    source, dest = Path(source), Path(dest)
    data = read_json(source, "Postman collection", V1_HINT)
    _check_version(source, data)
    env_values = read_environment(Path(environment)) if environment is not None else {}
    info = data.get("info") or {}
    variables = _kv(data.get("variable"))
    with CollectionWriter(dest, str(info.get("name") or dest.name)) as writer:
        for key, value in env_values.items():
            writer.env_value(key, value)
        for key, value in variables.items():
            if not (is_secret_field(key) and value):
                writer.collection.variables[key] = value
            elif key not in env_values:  # the environment's value wins, as in Postman
                writer.env_value(key, value)
        reader = _PostmanReader(writer, {**variables, **env_values})
        reader.items(data["item"], Path(), data.get("auth"))
        if reader.added:  # file names sort the tree; Postman's runner goes in this order
            writer.collection.scenarios[IN_ORDER] = ScenarioDef(
                name=IN_ORDER, users=1, duration_s=10.0, requests=[r.name for r in reader.added]
            )
        if data.get("event"):
            writer.warn("collection: collection-level scripts are not imported")
        return writer.finish()
