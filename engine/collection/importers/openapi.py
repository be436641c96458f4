"""An OpenAPI 3.0 or 3.1 document (YAML or JSON) as a new collection: one request per operation.

Requests are named by ``operationId`` (else ``summary``, else method and path) and grouped in
folders by their first tag (else the first path segment); ``base_url`` is ``servers[0]`` with
its variables' defaults. Parameters take ``example``/``examples``/``default``/``enum[0]``, or
a ``{{variable}}`` with a made-up value in collection.yaml when the spec gives none; optional
parameters without a value are left out. JSON bodies come from examples or are built from the
schema. Security schemes become ``{{variables}}`` to fill in the env file, and each request
checks the first 2xx status its responses list.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from engine.collection.importers.bodies import FORM_TYPE, form_text, hide_secret_fields
from engine.collection.importers.openapi_schema import Spec, is_nothing, plain
from engine.collection.importers.sources import parse_json, parse_yaml, read_source
from engine.collection.importers.writing import (
    CollectionWriter,
    ImportResult,
    is_secret_field,
    variable_name,
)
from engine.collection.model import HTTP_METHODS, CheckDef, RequestDef
from engine.errors import CollectionError

HINT = "give an OpenAPI 3.0 or 3.1 document (YAML or JSON)"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SKIPPED_HEADERS = ("accept", "content-type", "authorization")
_MADE_UP = {"integer": "1", "number": "1", "boolean": "true"}


def _load(source: Path) -> tuple[dict[str, Any], str]:
    text = read_source(source, "spec", HINT)
    if source.suffix.lower() == ".json" or text.lstrip().startswith("{"):
        data = parse_json(text, source, "spec", HINT)
    else:
        data = parse_yaml(text, source, "spec", HINT)
    if not isinstance(data, dict):
        raise CollectionError.single(source, None, "not an OpenAPI document", HINT)
    if "swagger" in data:
        raise CollectionError.single(
            source,
            None,
            f"Swagger {data['swagger']} is not supported, only OpenAPI 3.0 and 3.1",
            "convert it first, e.g. npx swagger2openapi spec.yaml -o openapi.yaml",
        )
    version = str(data.get("openapi") or "")
    if not version:
        raise CollectionError.single(source, 1, "not an OpenAPI document (no 'openapi')", HINT)
    if not version.startswith(("3.0", "3.1")):
        raise CollectionError.single(
            source, 1, f"OpenAPI {version} is not supported, only 3.0 and 3.1", HINT
        )
    return data, text


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return "" if value is None else str(value)


def _base_url(doc: dict[str, Any], writer: CollectionWriter) -> str:
    servers = doc.get("servers")
    server = servers[0] if isinstance(servers, list) and servers else {}
    url = str(server.get("url") or "") if isinstance(server, dict) else ""
    for name, var in (server.get("variables") or {}).items() if isinstance(server, dict) else ():
        default = var.get("default", "") if isinstance(var, dict) else ""
        url = url.replace("{" + str(name) + "}", str(default))
    if "://" in url:
        return url.rstrip("/")
    base = writer.placeholder("base_url", "the API's address, e.g. https://api.example.com")
    writer.warn(
        f"servers[0] is {url!r}, not a full URL: base_url is {{{{base_url}}}}{url.rstrip('/')}"
    )
    return base + url.rstrip("/")


class _Operations:
    """Writes one request per operation."""

    def __init__(self, spec: Spec, writer: CollectionWriter) -> None:
        self.spec = spec
        self.writer = writer
        self.made_up: dict[str, str] = {}  # variable -> its made-up value
        self.optional_left_out: list[str] = []

    def value(self, param: dict[str, Any]) -> Any:
        """The value a parameter's example, default or enum gives, or nothing."""
        found = self.spec.example_of(param)
        if is_nothing(found):
            found = self.spec.given_value(param.get("schema"))
        if is_nothing(found) and isinstance(param.get("content"), dict):
            for media in param["content"].values():
                found = self.spec.example_of(self.spec.resolve(media))
                break
        return found

    def variable(self, param: dict[str, Any]) -> str:
        name = variable_name(str(param["name"]))
        schema = self.spec.resolve(param.get("schema")) or {}
        kind = schema.get("type") if isinstance(schema, dict) else None
        built = self.spec.schema_value(schema)
        made_up = _MADE_UP.get(str(kind), _text(built) if not is_nothing(built) else "value")
        if name not in self.made_up:
            self.made_up[name] = made_up
            self.writer.collection.variables.setdefault(name, made_up)
        return "{{" + name + "}}"

    def add(self, path: str, method: str, op: dict[str, Any], shared: list[Any]) -> None:
        where = f"{method.upper()} {path}"
        params: dict[tuple[str, str], dict[str, Any]] = {}
        for raw in [*shared, *(op.get("parameters") or [])]:
            param = self.spec.resolve(raw)
            if isinstance(param, dict) and param.get("name") and param.get("in"):
                params[str(param["in"]), str(param["name"])] = param
        url, query, headers, cookies = path, {}, {}, []
        for (where_in, name), param in params.items():
            found = self.value(param)
            required = where_in == "path" or bool(param.get("required"))
            if is_nothing(found) and not required:
                self.optional_left_out.append(f"{where} {name}")
                continue
            text = self.variable(param) if is_nothing(found) else _text(found)
            if where_in == "path":
                url = url.replace("{" + name + "}", text if "{{" in text else quote(text, safe=""))
            elif where_in == "query":
                query[name] = text
            elif where_in == "header" and name.lower() not in SKIPPED_HEADERS:
                headers[name] = text
            elif where_in == "cookie":
                cookies.append(f"{name}={text}")
        body = self.body(op.get("requestBody"), headers, where)
        self.security(op, headers, query, cookies, where)
        if cookies:
            headers["Cookie"] = "; ".join(cookies)
        checks = CheckDef()
        for code in op.get("responses") or {}:
            if str(code).isdigit() and 200 <= int(code) < 300:
                checks.status = [int(code)]
                break
        name = str(op.get("operationId") or op.get("summary") or where).strip()
        tags = op.get("tags")
        segments = [s for s in path.split("/") if s]
        folder = str(tags[0]) if isinstance(tags, list) and tags else (segments or ["root"])[0]
        description = str(op.get("description") or op.get("summary") or "")[:2000]
        req = RequestDef(
            relpath=Path(),
            name=name,
            method=method.upper(),
            url=url,
            headers=headers,
            params=query,
            body=body,
            checks=checks,
            description=description if description != name else "",
        )
        self.writer.add(req, folder.replace("{", "").replace("}", ""))

    def body(self, raw: Any, headers: dict[str, str], where: str) -> Any:
        request_body = self.spec.resolve(raw)
        if not isinstance(request_body, dict):
            return None
        content = request_body.get("content") or {}
        types = [str(t) for t in content]
        json_type = next((t for t in types if t.split(";")[0].strip().endswith("json")), None)
        for media_type in [json_type, FORM_TYPE, *types]:
            if media_type is None or media_type not in content:
                continue
            media = self.spec.resolve(content[media_type]) or {}
            value = self.spec.example_of(media)
            if is_nothing(value):
                value = self.spec.schema_value(media.get("schema"))
            if media_type == json_type:
                if media_type.split(";")[0].strip() != "application/json":
                    headers.setdefault("Content-Type", media_type)
                if is_nothing(value):
                    value = {}
                return hide_secret_fields(value, self.writer.secret, is_secret_field)
            if media_type == FORM_TYPE and isinstance(value, dict):
                headers.setdefault("Content-Type", FORM_TYPE)
                pairs = [(k, _text(v)) for k, v in value.items()]
                return form_text(
                    (k, self.writer.secret(k, v) if is_secret_field(k) else v) for k, v in pairs
                )
            if media_type.startswith("multipart/"):
                self.writer.warn(f"{where}: {media_type} bodies (file uploads) are not imported")
                return None
            if isinstance(value, str):
                headers.setdefault("Content-Type", media_type)
                return value
        if types:
            self.writer.warn(f"{where}: no example for its {', '.join(types)} body; sent empty")
        return None

    def security(
        self,
        op: dict[str, Any],
        headers: dict[str, str],
        query: dict[str, str],
        cookies: list[str],
        where: str,
    ) -> None:
        requirements = op.get("security", self.spec.doc.get("security"))
        if not isinstance(requirements, list) or not requirements:
            return
        first = requirements[0] if isinstance(requirements[0], dict) else {}
        schemes = (self.spec.doc.get("components") or {}).get("securitySchemes") or {}
        for scheme_name in first:
            scheme = self.spec.resolve(schemes.get(scheme_name))
            if not isinstance(scheme, dict):
                self.writer.warn(f"{where}: security scheme {scheme_name!r} is not defined")
                continue
            kind, http = scheme.get("type"), str(scheme.get("scheme", "")).lower()
            if kind == "http" and http == "bearer":
                what = f"bearer token ({scheme_name})"
                headers["Authorization"] = "Bearer " + self.writer.placeholder(scheme_name, what)
            elif kind == "http" and http == "basic":
                what = f"base64 of user:password ({scheme_name})"
                headers["Authorization"] = "Basic " + self.writer.placeholder(scheme_name, what)
            elif kind == "apiKey":
                key = str(scheme.get("name") or scheme_name)
                var = self.writer.placeholder(scheme_name, f"API key ({scheme_name}: {key})")
                where_in = scheme.get("in")
                if where_in == "query":
                    query[key] = var
                elif where_in == "cookie":
                    cookies.append(f"{key}={var}")
                else:
                    headers[key] = var
            elif kind in ("oauth2", "openIdConnect"):
                what = f"an access token from your identity provider ({scheme_name})"
                headers["Authorization"] = "Bearer " + self.writer.placeholder(scheme_name, what)
            else:
                self.writer.warn(f"{where}: {kind} {http} security ({scheme_name}) not imported")


def import_openapi(source: Path | str, dest: Path | str) -> ImportResult:
    """Write the operations of the OpenAPI document ``source`` as the collection ``dest``."""
    source, dest = Path(source), Path(dest)
    doc, text = _load(source)
    spec = Spec(doc, source, text)
    info = doc.get("info")
    info = info if isinstance(info, dict) else {}
    paths = doc.get("paths") or {}
    if not isinstance(paths, dict):
        raise CollectionError.single(source, None, "'paths' is not a mapping", HINT)
    with CollectionWriter(dest, str(info.get("title") or source.stem)) as writer:
        writer.collection.base_url = _base_url(doc, writer)
        ops = _Operations(spec, writer)
        for path, raw_item in paths.items():
            item = spec.resolve(raw_item)
            if not isinstance(item, dict):
                continue
            shared = item.get("parameters") or []
            for method in METHODS:
                op = item.get(method)
                if not isinstance(op, dict):
                    continue
                if method.upper() not in HTTP_METHODS:
                    writer.warn(f"{method.upper()} {path}: method not supported; left out")
                    continue
                ops.add(str(path), method, op, shared)
                for name in op.get("callbacks") or {}:
                    writer.note(f"left out callback {name!r} of {method.upper()} {path}")
        if not writer.collection.requests and not writer.result.warnings:
            raise CollectionError.single(
                source, None, "the spec has no operations under paths", HINT
            )
        if ops.made_up:
            shown = ", ".join(f"{k}={v}" for k, v in ops.made_up.items())
            writer.note(f"values the spec does not give, made up in collection.yaml: {shown}")
        if ops.optional_left_out:
            writer.note(
                "left out optional parameters without an example: "
                + ", ".join(ops.optional_left_out)
            )
        if isinstance(doc.get("webhooks"), dict) and doc["webhooks"]:
            names = ", ".join(str(n) for n in doc["webhooks"])
            writer.note(f"left out webhooks (requests the API sends, not receives): {names}")
        return writer.finish()


__all__ = ["import_openapi", "plain"]
