"""A browser recording (HAR 1.2, from Chrome, Firefox and others) as a new collection.

By default the requests a page makes on purpose are kept (documents, XHR, fetch) and what a
load test of the API does not want is left out and counted: static assets (images, scripts,
styles, fonts, media), CORS preflights, and beacons to other hosts (analytics); ``--all``
keeps them, ``--host`` keeps only the named hosts. One request file per kept entry, in
folders by host and path. Browser noise headers are dropped; cookies, Authorization and other
secret headers, query parameters and body fields become ``{{variables}}`` in the env file,
one per cookie or header holding the last value recorded (the freshest session).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from engine.collection.importers.bodies import (
    FORM_TYPE,
    form_text,
    hide_secret_fields,
    is_json_type,
    json_body,
    media_type,
)
from engine.collection.importers.sources import read_json
from engine.collection.importers.writing import (
    CollectionWriter,
    ImportResult,
    is_secret_field,
)
from engine.collection.model import HTTP_METHODS, RequestDef, ScenarioDef
from engine.errors import CollectionError
from engine.redact import is_sensitive_header

HINT = "save it from the browser's network panel: Export HAR / Save All As HAR"
NOISE_HEADERS = frozenset(
    (
        "host", "connection", "keep-alive", "content-length", "accept-encoding",
        "accept-language", "cache-control", "pragma", "dnt", "priority", "te", "trailer",
        "upgrade-insecure-requests", "user-agent", "if-none-match", "if-modified-since",
        "purpose", "x-client-data", "proxy-connection", "transfer-encoding", "expect", "upgrade",
    )
)  # fmt: skip
ASSETS = {
    "script": "script", "stylesheet": "stylesheet", "style": "stylesheet", "image": "image",
    "imageset": "image", "font": "font", "media": "media", "audio": "media", "video": "media",
    "track": "media", "texttrack": "media", "manifest": "manifest", "worker": "script",
    "sharedworker": "script", "serviceworker": "script", "object": "media", "embed": "media",
}  # fmt: skip
_EXTENSIONS = {
    ".js": "script", ".mjs": "script", ".css": "stylesheet", ".png": "image", ".jpg": "image",
    ".jpeg": "image", ".gif": "image", ".svg": "image", ".webp": "image", ".ico": "image",
    ".avif": "image", ".woff": "font", ".woff2": "font", ".ttf": "font", ".otf": "font",
    ".mp4": "media", ".webm": "media", ".mp3": "media", ".map": "script",
}  # fmt: skip
BEACONS = ("ping", "beacon", "cspviolationreport", "report")
FOLDER_DEPTH = 2
REPLAY = "replay"


@dataclass(slots=True)
class _Entry:
    """One recorded request, read once."""

    method: str
    url: str
    host: str  # hostname[:port] as written in the URL
    headers: list[tuple[str, str]]
    cookies: list[tuple[str, str]]
    post: dict[str, Any] | None
    kind: str


def _header(headers: list[tuple[str, str]], name: str) -> str:
    return next((v for k, v in headers if k.lower() == name), "")


def _pairs(items: Any) -> list[tuple[str, str]]:
    return [
        (str(i.get("name", "")), "" if i.get("value") is None else str(i["value"]))
        for i in items or []
        if isinstance(i, dict) and i.get("name")
    ]


def _kind(raw: dict[str, Any], method: str, url: str, headers: list[tuple[str, str]]) -> str:
    """document, xhr, fetch, ping, preflight, websocket or an asset kind (script, image...)."""
    resource = str(raw.get("_resourceType") or "").lower()  # Chrome, Edge
    status = (raw.get("response") or {}).get("status")
    if status == 101 or resource == "websocket" or url.startswith(("ws:", "wss:")):
        return "websocket"
    if resource == "preflight" or (
        method == "OPTIONS" and _header(headers, "access-control-request-method")
    ):
        return "preflight"
    if resource and resource not in ("other", "prefetch"):
        return ASSETS.get(resource, resource)
    dest = _header(headers, "sec-fetch-dest").lower()  # Firefox and other browsers
    if dest in ("document", "iframe", "frame"):
        return "document"
    if dest in ASSETS:
        return ASSETS[dest]
    if dest == "report":
        return "report"
    if dest == "empty":
        no_cors = _header(headers, "sec-fetch-mode").lower() == "no-cors"
        return "ping" if no_cors and method == "POST" else "xhr"
    mime = media_type(str(((raw.get("response") or {}).get("content") or {}).get("mimeType", "")))
    if mime == "text/html":
        return "document"
    for prefix, kind in (("image/", "image"), ("font/", "font"), ("audio/", "media")):
        if mime.startswith(prefix):
            return kind
    if mime == "text/css" or "javascript" in mime or "ecmascript" in mime:
        return "stylesheet" if mime == "text/css" else "script"
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    return _EXTENSIONS.get(suffix, "xhr")


def _read(source: Path) -> list[_Entry]:
    data = read_json(source, "HAR file", HINT)
    log = data.get("log") if isinstance(data, dict) else None
    if not isinstance(log, dict) or not isinstance(log.get("entries"), list):
        raise CollectionError.single(source, None, "not a HAR file (no log.entries list)", HINT)
    version = str(log.get("version") or "1.2")
    if version.split(".", 1)[0] != "1":
        raise CollectionError.single(
            source, None, f"HAR version {version} is not supported; expected 1.x", HINT
        )
    entries = []
    for raw in log["entries"]:
        request = raw.get("request") if isinstance(raw, dict) else None
        if not isinstance(request, dict) or not request.get("url"):
            continue
        method = str(request.get("method") or "GET").upper()
        url = str(request["url"])
        headers = _pairs(request.get("headers"))
        host = urlsplit(url).netloc.rpartition("@")[2].lower()
        post = request.get("postData") if isinstance(request.get("postData"), dict) else None
        kind = _kind(raw, method, url, headers)
        entries.append(
            _Entry(method, url, host, headers, _pairs(request.get("cookies")), post, kind)
        )
    return entries


class _HarWriter:
    """Turns kept entries into request files; secrets become env variables."""

    def __init__(self, writer: CollectionWriter, origin: str) -> None:
        self.writer = writer
        self.origin = origin
        self.names: dict[tuple[str, str], str] = {}  # (what, which) -> env variable
        self.changed: set[str] = set()
        self.noise: set[str] = set()

    def secret(self, what: str, which: str, hint: str, value: str) -> str:
        """``{{name}}`` of the one variable for this cookie, header or query parameter; it
        holds the last value recorded."""
        name = self.names.get((what, which))
        if name is None:
            name = self.names[what, which] = self.writer.new_env_name(hint, value)
        elif self.writer.env[name] != value:
            self.changed.add(name)
            self.writer.env_value(name, value)
        return "{{" + name + "}}"

    def headers(self, entry: _Entry) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in entry.headers:
            lower = name.lower()
            if lower.startswith((":", "sec-")) or lower in NOISE_HEADERS:
                self.noise.add(lower)
            elif lower == "cookie":
                pairs = [cookie.partition("=") for cookie in value.split(";")]
                out["Cookie"] = self.cookie([(k.strip(), v.strip()) for k, _, v in pairs])
            elif lower in ("authorization", "proxy-authorization") and " " in value.strip():
                scheme, _, credentials = value.strip().partition(" ")
                hint = {"bearer": "token", "basic": "basic_auth"}.get(scheme.lower(), scheme)
                var = self.secret(lower, scheme.lower(), hint, credentials.strip())
                out[name] = f"{scheme} {var}"
            elif is_sensitive_header(name):
                out[name] = self.secret("header", lower, name, value)
            else:
                out[name] = value
        if "Cookie" not in out and entry.cookies:  # sanitized exports keep only the list
            out["Cookie"] = self.cookie(entry.cookies)
        return out

    def cookie(self, pairs: Sequence[tuple[str, str]]) -> str:
        return "; ".join(
            f"{name}={self.secret('cookie', name, f'cookie_{name}', value)}"
            for name, value in pairs
            if name
        )

    def params(self, query: str) -> dict[str, str] | None:
        pairs = parse_qsl(query, keep_blank_values=True)
        if len({k for k, _ in pairs}) != len(pairs):
            return None  # repeated keys: the query stays in the url as recorded
        return {k: self.secret("query", k, k, v) if is_secret_field(k) else v for k, v in pairs}

    def body(self, entry: _Entry, headers: dict[str, str], where: str) -> Any:
        post = entry.post
        if post is None:
            return None
        mime = str(post.get("mimeType") or _header(entry.headers, "content-type"))
        text = post.get("text")
        params = _pairs(post.get("params"))
        if media_type(mime).startswith("multipart/"):
            self.writer.warn(f"{where}: multipart body (file upload) not imported")
            return None
        if media_type(mime) == FORM_TYPE:
            pairs = parse_qsl(text, keep_blank_values=True) if isinstance(text, str) else params
            if not any(k.lower() == "content-type" for k in headers):
                headers["Content-Type"] = FORM_TYPE
            return form_text(
                (k, self.writer.secret(k, v) if is_secret_field(k) else v) for k, v in pairs
            )
        if not isinstance(text, str):
            if params:
                return form_text(params)
            self.writer.warn(f"{where}: the recording has no text for its {mime or ''} body")
            return None
        if is_json_type(mime) or (not mime and text.lstrip().startswith(("{", "["))):
            parsed = json_body(text)
            if not isinstance(parsed, str):
                return hide_secret_fields(parsed, self.writer.secret, is_secret_field)
        return text or None

    def add(self, entry: _Entry) -> RequestDef | None:
        parts = urlsplit(entry.url)
        path = parts.path or "/"
        where = f"{entry.method} {entry.host}{path}"
        if entry.method not in HTTP_METHODS:
            self.writer.warn(f"{where}: method {entry.method} is not supported; left out")
            return None
        headers = self.headers(entry)
        params = self.params(parts.query) if parts.query else {}
        origin = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
        url = path if origin == self.origin else f"{origin}{path}"
        if params is None:
            url += f"?{parts.query}"
        req = RequestDef(
            relpath=Path(),
            name=f"{entry.method} {path}" if origin == self.origin else where,
            method=entry.method,
            url=url,
            headers=headers,
            params=params or {},
            body=self.body(entry, headers, where),
        )
        segments = [s for s in path.split("/") if s][:-1][:FOLDER_DEPTH]
        stem = f"{entry.method} {path.rstrip('/').rsplit('/', 1)[-1] or 'root'}"
        return self.writer.add(req, Path(entry.host, *segments), stem=stem)


def _left_out(dropped: Counter[str]) -> str:
    return ", ".join(f"{n} {what}" for what, n in dropped.most_common())


def import_har(
    source: Path | str,
    dest: Path | str,
    *,
    hosts: Sequence[str] = (),
    keep_all: bool = False,
) -> ImportResult:
    """Write the recording in ``source`` as the new collection directory ``dest``."""
    source, dest = Path(source), Path(dest)
    entries = _read(source)
    wanted = {h.lower() for h in hosts}
    pages = {e.host for e in entries if e.kind == "document"}
    if not pages:
        common = Counter(e.host for e in entries if e.kind not in ASSETS.values())
        pages = {common.most_common(1)[0][0]} if common else set()
    kept: list[_Entry] = []
    dropped: Counter[str] = Counter()
    for e in entries:
        scheme = urlsplit(e.url).scheme.lower()
        if e.kind == "websocket" or scheme not in ("http", "https"):
            dropped[f"{scheme or 'non-HTTP'} request(s) (not HTTP, cannot be replayed)"] += 1
        elif wanted and e.host not in wanted and e.host.partition(":")[0] not in wanted:
            dropped["request(s) to other hosts (--host)"] += 1
        elif keep_all:
            kept.append(e)
        elif e.kind in ASSETS.values():
            dropped[f"{e.kind}(s)"] += 1
        elif e.kind == "preflight":
            dropped["CORS preflight(s) (the browser sends them)"] += 1
        elif e.kind in BEACONS and e.host not in pages:
            dropped["beacon(s) to other hosts"] += 1
        else:
            kept.append(e)
    if not kept:
        raise CollectionError.single(
            source,
            None,
            f"nothing to import: {_left_out(dropped) or 'the recording has no requests'}",
            "--all keeps every request; --host HOST picks hosts",
        )
    first = next((e for e in kept if e.kind == "document"), kept[0])
    parts = urlsplit(first.url)
    origin = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
    with CollectionWriter(dest, source.stem) as writer:
        writer.collection.base_url = origin
        har = _HarWriter(writer, origin)
        added = [req for req in (har.add(entry) for entry in kept) if req is not None]
        writer.collection.scenarios[REPLAY] = ScenarioDef(
            name=REPLAY, users=1, duration_s=10.0, requests=[r.name for r in added]
        )
        if dropped:
            writer.note(f"left out {_left_out(dropped)}; --all keeps them")
        if har.noise:
            writer.note("left out browser headers: " + ", ".join(sorted(har.noise)))
        for name in sorted(har.changed):
            writer.note(f"{name} changed during the recording; the env file has the last value")
        return writer.finish()
