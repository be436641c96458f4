"""Feeding a ``WindowRecorder`` the way the load models do: through ``completer()``.

``feed(rec, index, status=..., latency_ns=...)`` builds the transport's result tuple from
named fields and hands it to the recorder's production entry, so tests exercise the path a
run takes (classification by checks or status included).
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.load.checks import Judge
from engine.metrics.recorder import WindowRecorder


def feed(
    rec: WindowRecorder,
    index: int = 0,
    *,
    status: int = 200,
    error: int = 0,
    message: str = "",
    latency_ns: int = 1_000_000,
    service_ns: int | None = None,
    lag_ns: int = -1,
    bytes_in: int = 0,
    bytes_out: int = 0,
    connect_ns: int = 0,
    tls_ns: int = 0,
    ttfb_ns: int = 0,
    at_s: float = 0.0,
    body: bytes | None = None,
    judges: Sequence[Judge | None] | None = None,
) -> None:
    """One result, ``at_s`` seconds after the recorder's start; ``lag_ns`` -1 is the closed
    model's "no lag", and ``service_ns`` defaults to the latency (closed model)."""
    complete = rec.completer(judges if judges is not None else [None] * rec.n_requests)
    result = (status, error, message, bytes_in, bytes_out, connect_ns, tls_ns, ttfb_ns, body)
    service = latency_ns if service_ns is None else service_ns
    complete(index, result, latency_ns, service, lag_ns, rec.start_ns + round(at_s * 1e9))
