"""An ASGI app for flow tests: login issues a token per user and a session cookie, the item
routes answer 401 without a valid token, and everything that happens is logged in memory
(the "server log" tests compare the engine's counts with).

Routes: ``POST /login`` (JSON ``{user, password}``; the password must be ``pw-<user>``;
answers ``{"token": ...}`` and ``Set-Cookie: sid=...``), ``GET /items`` (three new ids, unique
in the server's life), ``GET /items/{id}`` (404 unless the id was listed to the same user),
``GET /whoami`` (the user of the session cookie). Every authorised request records the
``X-Request-Id`` header when there is one.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class FlowApp:
    """The app and its log; one instance per test server."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.logins: Counter[str] = Counter()
        self.tokens: dict[str, str] = {}  # token -> user
        self.sessions: dict[str, str] = {}  # sid -> user
        self.listed: dict[str, list[int]] = {}  # user -> ids listed to them, in order
        self.fetched: list[tuple[str, int]] = []  # (user, id) of every GET /items/{id}
        self.unauthorised = 0
        self.with_cookie = 0  # authorised requests that carried a session cookie
        self.cookie_mismatch = 0  # requests whose session cookie belongs to another user
        self.request_ids: list[str] = []
        self.requests = 0
        self._ids = itertools.count(1000)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        status, payload, extra = self.handle(scope["method"], scope["path"], headers, body)
        data = json.dumps(payload).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(data)).encode()),
                    *extra,
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, list[tuple[bytes, bytes]]]:
        with self.lock:
            self.requests += 1
            if method == "POST" and path == "/login":
                return self._login(body)
            auth = headers.get("authorization", "")
            user = self.tokens.get(auth.removeprefix("Bearer ")) if auth else None
            if user is None:
                self.unauthorised += 1
                return 401, {"error": "no valid token"}, []
            sid = _cookie(headers.get("cookie", ""), "sid")
            if sid is not None:
                self.with_cookie += 1
                if self.sessions.get(sid) != user:
                    self.cookie_mismatch += 1
            if "x-request-id" in headers:
                self.request_ids.append(headers["x-request-id"])
            parts = [p for p in path.split("/") if p]
            if parts == ["items"]:
                ids = [next(self._ids) for _ in range(3)]
                self.listed.setdefault(user, []).extend(ids)
                return 200, {"items": [{"id": i, "name": f"item {i}"} for i in ids]}, []
            if len(parts) == 2 and parts[0] == "items" and parts[1].isdigit():
                item = int(parts[1])
                self.fetched.append((user, item))
                if item not in self.listed.get(user, ()):
                    return 404, {"error": "not your item"}, []
                return 200, {"id": item, "owner": user}, []
            if parts == ["whoami"]:
                return 200, {"user": user, "session": self.sessions.get(sid or "")}, []
            return 404, {"error": "no such route"}, []

    def _login(self, body: bytes) -> tuple[int, Any, list[tuple[bytes, bytes]]]:
        try:
            data = json.loads(body)
            user, password = str(data["user"]), str(data["password"])
        except (ValueError, KeyError, TypeError):
            return 400, {"error": "send {user, password}"}, []
        if password != f"pw-{user}":
            return 403, {"error": "wrong password"}, []
        self.logins[user] += 1
        token = secrets.token_hex(8)
        sid = secrets.token_hex(8)
        self.tokens[token] = user
        self.sessions[sid] = user
        cookie = f"sid={sid}; Path=/; HttpOnly".encode()
        return 200, {"token": token, "user": user}, [(b"set-cookie", cookie)]


def _cookie(header: str, name: str) -> str | None:
    for pair in header.split(";"):
        key, _, value = pair.strip().partition("=")
        if key == name:
            return value
    return None
