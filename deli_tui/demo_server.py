"""The embedded demo target: a tiny ASGI app served by uvicorn on 127.0.0.1.

Routes a newcomer can load-test at once:
``/`` fast text, ``/delay/{ms}``, ``/jitter`` (long-tailed latency), ``/status/{code}``,
``/bytes/{n}``, ``/json`` (GET a document), ``/echo`` (POST JSON echoed back),
``/stall?every=N&ms=M`` (every N-th request stalls M ms: the coordinated-omission check).
For flows: ``POST /login`` (JSON ``{user, password}``, any non-empty pair) answers a token
and sets a ``sid`` cookie; ``/items`` and ``/items/{id}`` answer 401 without
``Authorization: Bearer <token>``. Tokens are signed, not stored, so the server keeps no
per-user state however many users log in.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import secrets
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

MAX_BYTES = 512 * 1024 * 1024
_CHUNK = b"x" * 65536
_DOC = json.dumps(
    {"id": 42, "name": "deli", "tags": ["load", "test"], "nested": {"ok": True, "n": 3}}
).encode()


class DemoApp:
    """ASGI app with the demo routes. One instance keeps the /stall request counter and the
    key that signs its tokens."""

    def __init__(self) -> None:
        self._stall_count = 0
        self._rng = random.Random()
        self._key = secrets.token_bytes(16)

    def _sign(self, kind: str, user: str) -> str:
        mac = hmac.new(self._key, f"{kind}:{user}".encode(), hashlib.sha256).hexdigest()[:20]
        return f"{user}.{mac}"

    def _user(self, scope: Scope) -> str | None:
        """The user whose bearer token the request carries, or None."""
        for name, value in scope.get("headers", ()):
            if name == b"authorization" and value.startswith(b"Bearer "):
                token = value[7:].decode("latin-1")
                user = token.rpartition(".")[0]
                if user and hmac.compare_digest(token, self._sign("token", user)):
                    return user
        return None

    async def _flow_route(self, send: Send, scope: Scope, parts: list[str], body: bytes) -> None:
        """``/login`` and ``/items[/{id}]``."""
        if parts == ["login"]:
            try:
                data = json.loads(body)
                user, password = str(data["user"]), str(data["password"])
            except (ValueError, KeyError, TypeError):
                user = password = ""
            if not user or not password or "." in user:
                await _respond(send, 400, b'{"error": "send {user, password}"}', _JSON)
                return
            answer = json.dumps({"token": self._sign("token", user), "user": user}).encode()
            cookie = f"sid={self._sign('sid', user)}; Path=/; HttpOnly".encode()
            await _respond(send, 200, answer, _JSON, [(b"set-cookie", cookie)])
            return
        owner = self._user(scope)
        if owner is None:
            await _respond(send, 401, b'{"error": "log in first: Bearer token"}', _JSON)
        elif len(parts) == 1:
            ids = sorted(self._rng.sample(range(1, 1000), 3))
            items = [{"id": i, "name": f"item {i}"} for i in ids]
            await _respond(send, 200, json.dumps({"items": items}).encode(), _JSON)
        elif len(parts) == 2 and parts[1].isdigit():
            item = {"id": int(parts[1]), "name": f"item {parts[1]}", "owner": owner}
            await _respond(send, 200, json.dumps(item).encode(), _JSON)
        else:
            await _respond(send, 404, b"not found\n")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        body = await _read_body(receive)
        parts = [p for p in path.split("/") if p]
        head = parts[0] if parts else ""
        try:
            if not parts:
                await _respond(send, 200, b"ok\n")
            elif head == "delay" and len(parts) == 2:
                await asyncio.sleep(min(int(parts[1]), 60_000) / 1000)
                await _respond(send, 200, b"ok\n")
            elif head == "jitter":
                await asyncio.sleep(self._jitter_s())
                await _respond(send, 200, b"ok\n")
            elif head == "status" and len(parts) == 2:
                code = int(parts[1])
                if not 100 <= code <= 599:
                    raise ValueError(code)
                await _respond(send, code, f"status {code}\n".encode())
            elif head == "bytes" and len(parts) == 2:
                await _stream_bytes(send, min(int(parts[1]), MAX_BYTES))
            elif head == "json":
                await _respond(send, 200, _DOC, b"application/json")
            elif head == "echo":
                await _respond(send, 200, body or b"{}", b"application/json")
            elif head in ("login", "items"):
                await self._flow_route(send, scope, parts, body)
            elif head == "stall":
                every = int(query.get("every", ["100"])[0])
                ms = int(query.get("ms", ["200"])[0])
                self._stall_count += 1
                if every > 0 and self._stall_count % every == 0:
                    await asyncio.sleep(ms / 1000)
                await _respond(send, 200, b"ok\n")
            else:
                await _respond(send, 404, b"not found\n")
        except ValueError:
            await _respond(send, 400, b"bad request\n")

    def _jitter_s(self) -> float:
        """Mostly 1-5 ms, a log-normal tail reaching hundreds of ms."""
        return min(self._rng.lognormvariate(1.0, 0.9), 2000.0) / 1000


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


_JSON = b"application/json"


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes = b"text/plain",
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                *(extra or ()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _stream_bytes(send: Send, n: int) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/octet-stream"),
                (b"content-length", str(n).encode()),
            ],
        }
    )
    remaining = n
    while remaining > len(_CHUNK):
        await send({"type": "http.response.body", "body": _CHUNK, "more_body": True})
        remaining -= len(_CHUNK)
    await send({"type": "http.response.body", "body": _CHUNK[:remaining]})


def serve(
    host: str = "127.0.0.1",
    port: int = 8089,
    log_level: str = "warning",
    listening: Callable[[str], None] | None = None,
) -> None:
    """Run the demo target in the foreground (``deli-tui demo-server``). The socket is bound
    first, so ``listening`` gets the address with the port it really got (``port`` 0: any)."""
    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    if listening is not None:
        listening(f"http://{f'[{host}]' if ':' in host else host}:{bound}")
    config = uvicorn.Config(
        DemoApp(),
        log_level=log_level,
        access_log=False,
        loop="uvloop",
        http="httptools",
        lifespan="off",
    )
    uvicorn.Server(config).run(sockets=[sock])
