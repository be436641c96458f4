"""Keep secrets out of saved runs, reports, logs and the error inspector.

Headers such as ``Authorization`` and ``Cookie`` or named like keys and tokens are replaced
by ``[redacted]``; free text loses known secret values and ``Authorization: ...`` fragments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from urllib.parse import quote

from engine.run.protocol import ErrorSample, Finished

REDACTED = "[redacted]"
DEFAULT_REDACT: tuple[str, ...] = (
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
)
SENSITIVE_WORDS: tuple[str, ...] = ("key", "token", "secret", "password", "session")
_WORDS = "authorization|cookie|key|token|secret|password|passwd|session"
_NAME = rf"[A-Za-z0-9_-]*(?:{_WORDS})[A-Za-z0-9_-]*"
# "Authorization: Bearer x" up to the end of the line.
_HEADER_FRAGMENT = re.compile(rf"(?i)\b({_NAME})(\s*:\s*)([^\r\n]+)")
# "api_key=x" in a query string or form, up to the next separator.
_ASSIGNMENT = re.compile(rf"(?i)\b({_NAME})(=)([^&\s;,'\"]+)")
_BEARER = re.compile(r"(?i)\b(bearer|basic)(\s+)([A-Za-z0-9._~+/=-]{6,})")
_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)([^/\s@]+)(@)")
MIN_SECRET_LENGTH = 4


def is_sensitive_header(name: str) -> bool:
    """Whether a header's value must never be shown or saved."""
    lower = name.strip().lower()
    return lower in DEFAULT_REDACT or any(word in lower for word in SENSITIVE_WORDS)


def redact_headers(
    pairs: Iterable[tuple[str, str]] | Mapping[str, str],
    extra: Iterable[str] = (),
) -> list[tuple[str, str]]:
    """The headers with sensitive values (and any named in ``extra``) replaced by ``[redacted]``."""
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    also = {name.lower() for name in extra}
    return [
        (name, REDACTED if is_sensitive_header(name) or name.lower() in also else value)
        for name, value in items
    ]


@lru_cache(maxsize=64)
def _secrets_pattern(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for every secret and the forms it takes on the way (any letter case: a
    host name comes back lowercased; %-encoded: in a URL), longest first."""
    forms: set[str] = set()
    for secret in secrets:
        if len(secret) >= MIN_SECRET_LENGTH:
            forms |= {secret, quote(secret, safe=""), quote(secret, safe="/:@")}
    if not forms:
        return None
    ordered = sorted(forms, key=len, reverse=True)
    return re.compile("|".join(re.escape(form) for form in ordered), re.IGNORECASE)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without the given secret values (in any letter case, or %-encoded) and
    without header-like secret fragments."""
    pattern = _secrets_pattern(tuple(sorted({s for s in secrets if s})))
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    text = _USERINFO.sub(rf"\1{REDACTED}\3", text)
    text = _HEADER_FRAGMENT.sub(rf"\1\2{REDACTED}", text)
    text = _ASSIGNMENT.sub(rf"\1\2{REDACTED}", text)
    return _BEARER.sub(rf"\1\2{REDACTED}", text)


def redact_finished(finished: Finished, secrets: Sequence[str]) -> Finished:
    """``finished`` with its free text (target, reason, error samples and messages) free of
    ``secrets`` and of header-like secret fragments; numbers are left alone."""
    s = finished.snapshot

    def clean(text: str) -> str:
        return redact_text(text, secrets)

    samples = tuple(
        ErrorSample(e.elapsed_s, e.request, e.error_class, e.status, clean(e.message))
        for e in s.recent_errors
    )
    workers = tuple(replace(w, reason=clean(w.reason)) for w in s.workers)
    messages = tuple((cls, clean(text), n) for cls, text, n in s.error_messages)
    snapshot = replace(
        s,
        target=clean(s.target),
        recent_errors=samples,
        workers=workers,
        error_messages=messages,
    )
    return replace(finished, snapshot=snapshot, reason=clean(finished.reason))
