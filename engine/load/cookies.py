"""A virtual user's cookie jar: ``Set-Cookie`` from responses in, a ``Cookie`` value out.

Host-only cookies (a load test talks to the hosts it names): a cookie is sent back to the
host that set it, whatever its Domain and Path say. ``Max-Age`` <= 0 or an ``Expires`` in the
past deletes it, as a browser does; other attributes are ignored.
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

_SET_COOKIE = b"set-cookie"


def _expired(attributes: str) -> bool:
    for attribute in attributes.split(";"):
        key, _, value = attribute.partition("=")
        key = key.strip().lower()
        if key == "max-age":
            try:
                return int(value.strip()) <= 0
            except ValueError:
                continue
        if key == "expires":
            try:
                return parsedate_to_datetime(value.strip()).timestamp() <= time.time()
            except (TypeError, ValueError, IndexError):
                continue
    return False


class CookieJar:
    """The cookies of one user, per host; ``header(host)`` is kept ready between changes."""

    __slots__ = ("_cookies", "_header")

    def __init__(self) -> None:
        self._cookies: dict[str, dict[str, str]] = {}
        self._header: dict[str, str] = {}

    def update(self, host: str, headers: list[tuple[bytes, bytes]]) -> None:
        """Take in the ``Set-Cookie`` headers of a response from ``host``."""
        changed = False
        for name, raw in headers:
            if name.lower() != _SET_COOKIE:
                continue
            text = raw.decode("latin-1")
            pair, _, attributes = text.partition(";")
            key, eq, value = pair.partition("=")
            key = key.strip()
            if not eq or not key:
                continue
            jar = self._cookies.setdefault(host, {})
            if _expired(attributes):
                changed = jar.pop(key, None) is not None or changed
            else:
                jar[key] = value.strip()
                changed = True
        if changed:
            jar = self._cookies.get(host, {})
            self._header[host] = "; ".join(f"{k}={v}" for k, v in jar.items())

    def header(self, host: str) -> str:
        """The ``Cookie`` header value for ``host`` ("" when there is none)."""
        return self._header.get(host, "")

    def cookies(self, host: str) -> dict[str, str]:
        return dict(self._cookies.get(host, {}))
