"""Bring requests in from elsewhere: a Postman v2.1 collection (and environment), or a curl line.

Both produce ordinary collection files through the saver, so what they write always loads.
Anything that cannot be carried over (scripts, file uploads) is listed as a warning.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from engine.collection.loader import COLLECTION_FILE, load_collection
from engine.collection.model import HTTP_METHODS, Collection, RequestDef
from engine.collection.saver import atomic_write, save_collection_file, save_request
from engine.durations import parse_duration
from engine.errors import CollectionError

ENV_FILE = ".env"


@dataclass(slots=True)
class ImportResult:
    """The collection written, and what could not be carried over."""

    collection: Collection
    warnings: list[str] = field(default_factory=list)


def slug(name: str) -> str:
    """A file name for ``name``: lower case, words joined by ``_``."""
    text = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()
    return text[:60] or "request"


def _unique(name: str, taken: set[str], fmt: str = "{} ({})") -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = fmt.format(name, n), n + 1
    taken.add(candidate)
    return candidate


def _json_body(text: str) -> str | dict[str, Any] | list[Any]:
    """The parsed JSON when ``text`` is a JSON object or array, else the text itself."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, dict | list) else text


def _has_header(headers: dict[str, str], name: str) -> bool:
    return any(h.lower() == name.lower() for h in headers)


# --- Postman ---------------------------------------------------------------------------------


def _kv(items: Any) -> dict[str, str]:
    """Postman ``[{key, value, disabled}]`` lists as a mapping of the enabled pairs."""
    out: dict[str, str] = {}
    for item in items or []:
        if isinstance(item, dict) and not item.get("disabled") and item.get("key"):
            out[str(item["key"])] = "" if item.get("value") is None else str(item["value"])
    return out


def _postman_auth(auth: Any, headers: dict[str, str], where: str, warnings: list[str]) -> None:
    if not isinstance(auth, dict) or auth.get("type") in (None, "noauth", "inherit"):
        return
    kind = auth["type"]
    values = {
        str(i.get("key")): str(i.get("value", ""))
        for i in auth.get(kind) or []
        if isinstance(i, dict)
    }
    if kind == "bearer":
        headers.setdefault("Authorization", f"Bearer {values.get('token', '')}")
    elif kind == "basic":
        pair = f"{values.get('username', '')}:{values.get('password', '')}"
        if "{{" in pair:
            warnings.append(f"{where}: basic auth with variables is sent as written; check it")
        headers.setdefault("Authorization", "Basic " + base64.b64encode(pair.encode()).decode())
    elif kind == "apikey" and values.get("in", "header") == "header":
        headers.setdefault(values.get("key", "X-API-Key"), values.get("value", ""))
    else:
        warnings.append(f"{where}: {kind} authentication is not imported")


def _postman_url(url: Any) -> str:
    if isinstance(url, str):
        return url
    if not isinstance(url, dict):
        return ""
    if url.get("raw"):
        return str(url["raw"])
    host = url.get("host") or []
    host = ".".join(host) if isinstance(host, list) else str(host)
    path = url.get("path") or []
    path = "/".join(str(p) for p in path) if isinstance(path, list) else str(path)
    text = f"{url.get('protocol', 'http')}://{host}/{path}"
    query = _kv(url.get("query"))
    return text + ("?" + urlencode(query) if query else "")


def _postman_body(body: Any, headers: dict[str, str], where: str, warnings: list[str]) -> Any:
    if not isinstance(body, dict) or body.get("disabled"):
        return None
    mode = body.get("mode")
    if mode == "raw":
        text = str(body.get("raw") or "")
        language = ((body.get("options") or {}).get("raw") or {}).get("language")
        if language == "json" or text.lstrip().startswith(("{", "[")):
            parsed = _json_body(text)
            if not isinstance(parsed, str):
                return parsed
            headers.setdefault("Content-Type", "application/json")
        return text or None
    if mode == "urlencoded":
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return urlencode(_kv(body.get("urlencoded")))
    if mode == "graphql":
        graphql = body.get("graphql") or {}
        variables = graphql.get("variables")
        if isinstance(variables, str):
            variables = _json_body(variables) if variables.strip() else None
        return {"query": graphql.get("query", ""), "variables": variables or {}}
    warnings.append(f"{where}: {mode} bodies are not imported (file uploads and form data)")
    return None


def _absolute(url: str) -> str:
    """Postman accepts ``example.com/x``; the query stays in the url as Postman keeps it."""
    if url and "://" not in url and not url.startswith("{{"):
        return "http://" + url
    return url


def _postman_items(
    items: Any,
    folder: Path,
    collection: Collection,
    names: set[str],
    files: set[str],
    result: ImportResult,
    inherited_auth: Any,
) -> None:
    for item in items or []:
        if not isinstance(item, dict):
            continue
        name = str(item.get("name") or "request")
        if "item" in item:
            sub = folder / slug(name)
            (collection.root / sub).mkdir(parents=True, exist_ok=True)
            auth = item.get("auth") or inherited_auth
            _postman_items(item["item"], sub, collection, names, files, result, auth)
            continue
        request = item.get("request")
        if isinstance(request, str):
            request = {"url": request}
        if not isinstance(request, dict):
            continue
        where = f"{(folder / name).as_posix()}"
        if item.get("event"):
            result.warnings.append(
                f"{where}: Postman scripts (tests, pre-request) are not imported"
            )
        headers = _kv(request.get("header"))
        _postman_auth(request.get("auth") or inherited_auth, headers, where, result.warnings)
        body = _postman_body(request.get("body"), headers, where, result.warnings)
        url = _absolute(_postman_url(request.get("url")))
        description = request.get("description")
        method = str(request.get("method") or "GET").upper()
        if method not in HTTP_METHODS:
            result.warnings.append(f"{where}: method {method} is not supported; imported as GET")
            method = "GET"
        relpath = folder / (_unique(slug(name), files, "{}_{}") + ".yaml")
        req = RequestDef(
            relpath=relpath,
            name=_unique(name, names),
            method=method,
            url=url or "/",
            headers=headers,
            body=body,
            description=description[:2000] if isinstance(description, str) else "",
        )
        save_request(collection, req)


def _write_env_file(path: Path, values: dict[str, str]) -> None:
    lines = ["# Imported from a Postman environment. Keep this file out of git."]
    lines += [f"{k}={json.dumps(v) if (' ' in v or '#' in v) else v}" for k, v in values.items()]
    atomic_write(path, "\n".join(lines) + "\n")
    path.chmod(0o600)


def import_postman(
    source: Path | str, dest: Path | str, *, environment: Path | str | None = None
) -> ImportResult:
    """Write the Postman v2.1 collection in ``source`` as a collection directory ``dest``."""
    source, dest = Path(source), Path(dest)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CollectionError.single(
            source, None, f"cannot read the Postman collection: {exc}", "export it as v2.1 JSON"
        ) from None
    if not isinstance(data, dict) or "item" not in data:
        raise CollectionError.single(
            source, None, "not a Postman collection (no 'item' list)", "export it as v2.1 JSON"
        )
    if (dest / COLLECTION_FILE).exists():
        raise CollectionError.single(
            dest / COLLECTION_FILE,
            None,
            "a collection already exists here",
            "import into a new folder",
        )
    dest.mkdir(parents=True, exist_ok=True)
    info = data.get("info") or {}
    collection = Collection(root=dest, name=str(info.get("name") or dest.name))
    collection.variables = _kv(data.get("variable"))
    result = ImportResult(collection)
    if environment is not None:
        env = json.loads(Path(environment).read_text(encoding="utf-8"))
        values = {
            str(v["key"]): str(v.get("value", ""))
            for v in env.get("values") or []
            if isinstance(v, dict) and v.get("key") and v.get("enabled", True)
        }
        _write_env_file(dest / ENV_FILE, values)
        collection.env_file = ENV_FILE
    save_collection_file(collection)
    names: set[str] = set()
    files: set[str] = set()
    _postman_items(data["item"], Path(), collection, names, files, result, data.get("auth"))
    if data.get("event"):
        result.warnings.append("collection: Postman scripts are not imported")
    result.collection = load_collection(dest)
    return result


# --- curl ------------------------------------------------------------------------------------

_CURL_FLAGS_WITH_VALUE = {
    "-X", "--request", "-H", "--header", "-d", "--data", "--data-raw", "--data-binary",
    "--data-ascii", "--data-urlencode", "--json", "-u", "--user", "--url", "-A", "--user-agent",
    "-b", "--cookie", "-e", "--referer", "-m", "--max-time", "-o", "--output",
    "--connect-timeout", "-w", "--write-out", "-x", "--proxy", "-F", "--form",
}  # fmt: skip
_CURL_IGNORED = {
    "-s", "--silent", "-S", "--show-error", "-v", "--verbose", "-i", "--include", "-L",
    "--location", "--compressed", "-f", "--fail", "-N", "--no-buffer", "--http1.1", "--http2",
}  # fmt: skip


def parse_curl(command: str, relpath: Path | str = "curl.yaml") -> tuple[RequestDef, list[str]]:
    """The request a ``curl ...`` command line sends, and warnings for options left out."""
    try:
        args = shlex.split(command.replace("\\\r\n", " ").replace("\\\n", " "))
    except ValueError as exc:
        raise CollectionError.single(
            None, None, f"cannot read the curl command: {exc}", "paste the whole command"
        ) from None
    if args and args[0] == "curl":
        args = args[1:]
    warnings: list[str] = []
    method: str | None = None
    url = ""
    headers: dict[str, str] = {}
    data: list[str] = []
    get = insecure = False
    timeout: float | None = None
    i = 0
    while i < len(args):
        arg = args[i]
        value = ""
        if arg.startswith("--") and "=" in arg and arg.split("=", 1)[0] in _CURL_FLAGS_WITH_VALUE:
            arg, value = arg.split("=", 1)
        elif arg in _CURL_FLAGS_WITH_VALUE:
            if i + 1 >= len(args):
                raise CollectionError.single(None, None, f"curl option {arg} needs a value", "")
            i += 1
            value = args[i]
        elif len(arg) > 2 and arg[:2] in _CURL_FLAGS_WITH_VALUE and not arg.startswith("--"):
            arg, value = arg[:2], arg[2:]
        i += 1
        if arg in ("-X", "--request"):
            method = value.upper()
        elif arg in ("-H", "--header"):
            name, _, header_value = value.partition(":")
            headers[name.strip()] = header_value.strip()
        elif arg in ("-d", "--data", "--data-raw", "--data-binary", "--data-ascii"):
            if value.startswith("@"):
                warnings.append(f"{arg} {value}: bodies read from files are not imported")
            else:
                data.append(value)
        elif arg == "--data-urlencode":
            key, eq, text = value.partition("=")
            data.append(urlencode({key: text}) if eq else urlencode({"": key})[1:])
        elif arg == "--json":
            data.append(value)
            headers.setdefault("Content-Type", "application/json")
            headers.setdefault("Accept", "application/json")
        elif arg in ("-u", "--user"):
            headers["Authorization"] = "Basic " + base64.b64encode(value.encode()).decode()
        elif arg in ("-A", "--user-agent"):
            headers["User-Agent"] = value
        elif arg in ("-b", "--cookie"):
            headers["Cookie"] = value
        elif arg in ("-e", "--referer"):
            headers["Referer"] = value
        elif arg in ("-m", "--max-time"):
            timeout = parse_duration(value)
        elif arg in ("-k", "--insecure"):
            insecure = True
        elif arg in ("-G", "--get"):
            get = True
        elif arg == "--url":
            url = value
        elif arg in _CURL_IGNORED:
            pass
        elif re.fullmatch(r"-[sSviLfNkG]+", arg):  # clustered short flags, e.g. -sSLk
            insecure = insecure or "k" in arg
            get = get or "G" in arg
        elif arg.startswith("-"):
            warnings.append(f"curl option {arg} is not imported")
        else:
            url = arg
    if not url:
        raise CollectionError.single(
            None, None, "the curl command has no URL", "e.g. curl http://127.0.0.1:8089/"
        )
    if "://" not in url:
        url = "http://" + url
    body: Any = None
    if data and get:
        url += ("&" if "?" in url else "?") + "&".join(data)
    elif data:
        text = "&".join(data)
        is_json = "json" in next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        body = _json_body(text) if is_json or text.lstrip().startswith(("{", "[")) else text
        if isinstance(body, str) and not _has_header(headers, "content-type"):
            headers["Content-Type"] = "application/x-www-form-urlencoded"
    if method is None:
        method = "POST" if body is not None else "GET"
    if method not in HTTP_METHODS:
        raise CollectionError.single(
            None,
            None,
            f"curl -X {method} is not supported",
            "use one of " + ", ".join(HTTP_METHODS),
        )
    if isinstance(body, dict | list):
        for name in [h for h in headers if h.lower() == "content-type"]:
            if headers[name].lower().startswith("application/json"):
                del headers[name]  # planning adds it back for mapping bodies
    name = f"{method} {url.split('://', 1)[1].split('?', 1)[0]}"[:80]
    req = RequestDef(
        relpath=Path(relpath),
        name=name,
        method=method,
        url=url,
        headers=headers,
        body=body,
        timeout_s=timeout,
        insecure=insecure,
    )
    return req, warnings


def import_curl(
    collection: Collection, command: str, relpath: Path | str | None = None, name: str | None = None
) -> tuple[RequestDef, list[str]]:
    """Add the request of a curl command to ``collection`` (a new file); returns it and warnings."""
    req, warnings = parse_curl(command)
    names = {r.name for r in collection.requests}
    req.name = _unique(name or req.name, names)
    req.relpath = Path(relpath) if relpath else Path(slug(req.name) + ".yaml")
    stem, n = req.relpath.stem, 2
    while (collection.root / req.relpath).exists():
        req.relpath, n = req.relpath.with_name(f"{stem}_{n}{req.relpath.suffix}"), n + 1
    save_request(collection, req)
    return collection.requests[-1], warnings
