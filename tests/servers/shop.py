"""A small shop API that imported collections are run against: it answers 2xx only when the
credentials, cookies and bodies the import had to carry over arrive intact, and counts every
request it served, as a server log would.

Routes (all JSON): ``GET /`` (HTML), ``POST /api/login`` ({user, password}) -> {token},
``GET /api/me`` (Bearer token), ``GET /api/items`` (cookie sid), ``GET /api/items/{id}``,
``POST /api/cart`` (form sku, qty; cookie sid), ``POST /api/orders`` (JSON {sku, qty};
Bearer), ``DELETE /api/cart/{id}`` (cookie sid), ``GET /api/reports`` (X-API-Key),
``GET /api/admin`` (Basic).
"""

from __future__ import annotations

import base64
import json
import threading
from collections import Counter
from typing import Any
from urllib.parse import parse_qs

USER, PASSWORD = "ann", "hunter2!"
TOKEN = "tok-3f9a1c77e0"
SID = "sid-77aa0b"
API_KEY = "key-5150abcd"
BASIC = base64.b64encode(b"admin:s3same").decode()


class ShopApp:
    """The ASGI app; ``hits`` counts (method, path, status) of every request served."""

    def __init__(self) -> None:
        self.hits: Counter[tuple[str, str, int]] = Counter()
        self._lock = threading.Lock()

    def total(self) -> int:
        with self._lock:
            return sum(self.hits.values())

    def by_status(self) -> Counter[int]:
        with self._lock:
            out: Counter[int] = Counter()
            for (_, _, status), n in self.hits.items():
                out[status] += n
            return out

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        status, body = self.answer(scope["method"], scope["path"], headers, b"".join(chunks))
        with self._lock:
            self.hits[scope["method"], scope["path"], status] += 1
        kind = b"text/html" if scope["path"] == "/" else b"application/json"
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", kind), (b"content-length", str(len(data)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": data})

    def answer(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        cookies = dict(
            c.strip().partition("=")[::2] for c in headers.get("cookie", "").split(";") if "=" in c
        )
        bearer = headers.get("authorization") == f"Bearer {TOKEN}"
        has_sid = cookies.get("sid") == SID
        parts = [p for p in path.split("/") if p]
        if method == "GET" and not parts:
            return 200, b"<html><body>shop</body></html>"
        route = (method, "/".join(parts[:2]), len(parts))
        if route == ("POST", "api/login", 2):
            try:
                sent = json.loads(body)
            except ValueError:
                return 400, {"error": "not JSON"}
            if sent.get("user") == USER and sent.get("password") == PASSWORD:
                return 200, {"token": TOKEN}
            return 401, {"error": "wrong password"}
        if route == ("GET", "api/me", 2):
            return (200, {"user": USER}) if bearer else (401, {"error": "no token"})
        if route == ("GET", "api/items", 2):
            return (200, [{"id": 1}, {"id": 2}]) if has_sid else (401, {"error": "no session"})
        if route == ("GET", "api/items", 3):
            return 200, {"id": parts[2]}
        if route == ("POST", "api/cart", 2):
            form = parse_qs(body.decode())
            if not has_sid:
                return 401, {"error": "no session"}
            return (201, {"ok": True}) if form.get("sku") and form.get("qty") else (400, {})
        if route == ("DELETE", "api/cart", 3):
            return (204, b"") if has_sid else (401, {"error": "no session"})
        if route == ("POST", "api/orders", 2):
            try:
                sent = json.loads(body)
            except ValueError:
                return 400, {"error": "not JSON"}
            if not bearer:
                return 401, {"error": "no token"}
            return (201, {"id": 7}) if "sku" in sent and "qty" in sent else (400, {})
        if route == ("GET", "api/reports", 2):
            ok = headers.get("x-api-key") == API_KEY
            return (200, {"rows": 3}) if ok else (401, {"error": "no key"})
        if route == ("GET", "api/admin", 2):
            ok = headers.get("authorization") == f"Basic {BASIC}"
            return (200, {"admin": True}) if ok else (401, {"error": "no basic"})
        return 404, {"error": "not found"}
