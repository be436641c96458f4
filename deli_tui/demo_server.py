"""The embedded demo target: a tiny ASGI app served by uvicorn on 127.0.0.1.

Routes a newcomer can load-test at once:
``/`` fast text, ``/delay/{ms}``, ``/jitter`` (long-tailed latency), ``/status/{code}``,
``/bytes/{n}``, ``/json`` (GET a document), ``/echo`` (POST JSON echoed back),
``/stall?every=N&ms=M`` (every N-th request stalls M ms: the coordinated-omission check).
"""

from __future__ import annotations

import asyncio
import json
import random
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
    """ASGI app with the demo routes. One instance keeps the /stall request counter."""

    def __init__(self) -> None:
        self._stall_count = 0
        self._rng = random.Random()

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


async def _respond(
    send: Send, status: int, body: bytes, content_type: bytes = b"text/plain"
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
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


def serve(host: str = "127.0.0.1", port: int = 8089, log_level: str = "warning") -> None:
    """Run the demo target in the foreground (``deli-tui demo-server``)."""
    import uvicorn

    uvicorn.run(
        DemoApp(),
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        loop="uvloop",
        http="httptools",
        lifespan="off",
    )
