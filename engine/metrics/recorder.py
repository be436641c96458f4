"""Per-worker recording of results (the engine's hot path): raw columns now, histograms in bulk.

A result costs a handful of integer stores into preallocated columns
(``engine.metrics.columns.PendingColumns``) and nothing else; every ``FOLD_EVERY`` results,
and when a window closes, numpy folds them into the window's histograms, counts, sums and the
raw-result ring at once. ``flush()`` turns the window's arrays into a sparse ``WindowData``
and zeroes them. (What a result costs is measured in benchmarks/README.md.)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

import numpy as np

from engine.load.checks import Judge
from engine.metrics.columns import (
    FOLD_EVERY,
    STATUS_SLOTS,
    PendingColumns,
    WindowArrays,
    store_clamped,
)
from engine.metrics.histogram import BUCKETS
from engine.metrics.ring import ResultRing
from engine.metrics.spool import ResultSpool
from engine.metrics.window import RequestWindow, WindowData
from engine.results import ERR_CHECK, ERR_HTTP_STATUS, N_ERROR_CODES, Result, error_class_name
from engine.run.protocol import ErrorSample

ERROR_SAMPLES_PER_WINDOW = 5
_REDACT_CACHE = 256


# complete(index, result, latency_ns, service_ns, lag_ns, end_ns)
Complete = Callable[[int, Result, int, int, int, int], None]


class WindowRecorder:
    """Records one worker's results; the worker updates the gauges directly.

    Results come in through the function ``completer()`` builds, which classifies each one
    (transport error, the request's checks, or an HTTP error status) and stores it. A lag
    < 0 means "not applicable" and phase times <= 0 mean the phase did not happen (e.g. a
    reused connection). ``request_names`` are the plan's requests, index-aligned.
    """

    __slots__ = (
        "_arrays",
        "_flushed_connections",
        "_flushed_retries",
        "_pending",
        "_redact",
        "_redacted",
        "_ring",
        "_samples",
        "_spool",
        "active_users",
        "connections_opened",
        "in_flight",
        "n_requests",
        "request_names",
        "retried",
        "skipped",
        "stage_index",
        "stage_label",
        "start_ns",
        "target_rate",
        "target_users",
        "window_s",
        "worker_id",
    )

    def __init__(
        self,
        worker_id: int,
        request_names: Sequence[str],
        window_s: float,
        ring_capacity: int,
        redact: Callable[[str], str] | None = None,
        spool: ResultSpool | None = None,
    ) -> None:
        self.worker_id = worker_id
        self._spool = spool  # every result also goes here, at each fold
        self.request_names = tuple(request_names)
        self.n_requests = n_requests = len(self.request_names)
        self.window_s = window_s
        self._ring = ResultRing(ring_capacity)
        self.skipped = 0
        self.in_flight = 0
        self.active_users = 0
        self.target_users = 0.0
        self.target_rate = 0.0
        self.stage_index = 0
        self.stage_label = ""
        self.start_ns = 0  # results' elapsed times count from here (perf_counter_ns)
        # the client's counters so far (the worker copies them before each flush)
        self.connections_opened = 0
        self.retried = 0
        self._flushed_connections = 0
        self._flushed_retries = 0
        self._redact = redact
        self._redacted: dict[str, str] = {}
        self._samples: deque[tuple[float, int, int, int, str]] = deque(
            maxlen=ERROR_SAMPLES_PER_WINDOW
        )
        self._arrays = WindowArrays(n_requests)
        self._pending = PendingColumns()

    @property
    def ring(self) -> ResultRing:
        """The newest raw results (everything recorded so far folded in)."""
        self._fold()
        return self._ring

    def completer(self, judges: Sequence[Judge | None]) -> Complete:
        """The load models' per-result step: classify ``result`` (transport error, the
        request's checks, or an HTTP error status), then record it.

        ``complete(index, result, latency_ns, service_ns, lag_ns, end_ns)``; ``lag_ns`` < 0
        when there is none (closed model). Only the fields that vary are stored per result
        (service time and lag only when they apply); the fold does the rest in bulk."""
        p = self._pending
        error = self._error
        fold = self._fold
        p_index = p.index
        p_status = p.status
        p_latency = p.latency
        p_service = p.service
        p_lag = p.lag
        p_in = p.bytes_in
        p_out = p.bytes_out
        p_connect = p.connect
        p_tls = p.tls
        p_ttfb = p.ttfb
        p_end = p.end
        judges = tuple(judges)
        last = FOLD_EVERY - 1

        def complete(
            index: int,
            result: Result,
            latency_ns: int,
            service_ns: int,
            lag_ns: int,
            end_ns: int,
        ) -> None:
            status, err, message, b_in, b_out, conn_ns, tls_ns, ttfb_ns, body = result
            if not err:
                judge = judges[index]
                if judge is not None:
                    failure = judge(status, body)
                    if failure is not None:
                        err = ERR_HTTP_STATUS if status >= 400 else ERR_CHECK
                        message = failure
                elif status >= 400:
                    err = ERR_HTTP_STATUS
                    message = f"HTTP {status}"
            i = p.n
            try:
                p_index[i] = index
                p_status[i] = status
                p_latency[i] = latency_ns
                p_in[i] = b_in
                p_out[i] = b_out
                p_ttfb[i] = ttfb_ns
                p_end[i] = end_ns
                if service_ns != latency_ns:
                    p_service[i] = service_ns
                if lag_ns >= 0:
                    p_lag[i] = lag_ns
                if conn_ns:
                    p_connect[i] = conn_ns
                    p_tls[i] = tls_ns
            except OverflowError:  # beyond int64 (e.g. a bogus status): clamp, slow path
                store_clamped(p, i, index, status, latency_ns, service_ns, lag_ns, b_in,
                               b_out, conn_ns, tls_ns, ttfb_ns, end_ns)  # fmt: skip
            p.n = i + 1
            if err:
                error(i, index, status, err, message or "", end_ns)
            if i == last:
                fold()

        return complete

    def _error(self, i: int, index: int, status: int, err: int, message: str, end_ns: int) -> None:
        """The rare half of recording an error: its code, its message (redacted, interned in
        the ring's table) and a sample for the window."""
        p = self._pending
        p.err[i] = min(max(err, 0), 0xFF)
        message = self._clean(message)
        p.message[i] = self._ring.intern(message) if message else 0
        if not 0 <= status <= 999:
            status = 0
        self._samples.append(((end_ns - self.start_ns) / 1e9, index, err, status, message))

    def _fold(self) -> None:
        self._pending.fold(self._arrays, self._ring, self.start_ns, self._spool)

    def _clean(self, message: str) -> str:
        """Redact an error message (cached: error storms repeat the same text)."""
        if message and self._redact is not None:
            redacted = self._redacted.get(message)
            if redacted is None:
                redacted = self._redact(message)
                if len(self._redacted) < _REDACT_CACHE:
                    self._redacted[message] = redacted
            message = redacted
        return message

    def flush(self, seq: int, start_s: float, end_s: float) -> WindowData:
        """Close the window: return its data and zero the arrays for the next one."""
        self._fold()
        a = self._arrays
        hist = a.hist.reshape(a.n, BUCKETS)
        statuses = a.statuses.reshape(a.n, STATUS_SLOTS)
        errors = a.errors.reshape(a.n, N_ERROR_CODES)
        counts = hist.sum(axis=1)
        error_counts = errors.sum(axis=1)
        per_request: list[RequestWindow] = []
        for r in range(self.n_requests):
            if not counts[r]:
                per_request.append(_EMPTY_REQUEST)
                continue
            per_request.append(
                RequestWindow(
                    requests=int(counts[r]),
                    errors=int(error_counts[r]),
                    latency_hist=_pairs(hist[r]),
                    # status 0 (no response) is left out: those results are counted as errors
                    status_codes=_pairs(statuses[r], skip_zero=True),
                    error_codes=_pairs(errors[r], skip_zero=True),
                    min_ns=int(a.mins[r]),
                    max_ns=int(a.maxs[r]),
                    sum_ns=int(a.sums[r]),
                )
            )
        n_total = int(counts.sum())
        errors_total = int(error_counts.sum())
        sum_total = int(a.sums.sum())
        window = WindowData(
            worker_id=self.worker_id,
            seq=seq,
            start_s=start_s,
            end_s=end_s,
            requests=n_total,
            successes=n_total - errors_total,
            per_request=tuple(per_request),
            latency_hist=_pairs(hist.sum(axis=0)),
            service_hist=_pairs(a.service),
            lag_hist=_pairs(a.lag),
            connect_hist=_pairs(a.connect),
            tls_hist=_pairs(a.tls),
            ttfb_hist=_pairs(a.ttfb),
            status_codes=_pairs(statuses.sum(axis=0), skip_zero=True),
            errors=_pairs(errors.sum(axis=0), skip_zero=True),
            bytes_in=a.bytes_in,
            bytes_out=a.bytes_out,
            skipped=self.skipped,
            active_users=self.active_users,
            target_users=self.target_users,
            in_flight=self.in_flight,
            target_rate=self.target_rate,
            stage_index=self.stage_index,
            stage_label=self.stage_label,
            min_ns=int(a.mins.min()) if n_total else 0,
            max_ns=int(a.maxs.max()),
            sum_ns=sum_total,
            error_samples=self._error_samples(),
            error_messages=self._error_messages(a.messages),
            service_sum_ns=sum_total + a.service_delta,
            service_min_ns=_known(a.service_min, a.service_max),
            service_max_ns=a.service_max,
            lag_min_ns=_known(a.lag_min, a.lag_max),
            lag_max_ns=a.lag_max,
            new_connections=self.connections_opened - self._flushed_connections,
            retried=self.retried - self._flushed_retries,
        )
        self._flushed_connections = self.connections_opened
        self._flushed_retries = self.retried
        a.reset()
        self._samples.clear()
        self.skipped = 0
        return window

    def _error_messages(self, counts: dict[int, int]) -> tuple[tuple[int, str, int], ...]:
        texts = self._ring.messages
        return tuple(
            (key >> 16, texts[key & 0xFFFF] if key & 0xFFFF < len(texts) else "", count)
            for key, count in counts.items()
        )

    def _error_samples(self) -> tuple[ErrorSample, ...]:
        names = self.request_names
        return tuple(
            ErrorSample(
                elapsed_s=round(t, 3),
                request=names[i],
                error_class=error_class_name(err),
                status=status,
                message=msg,
            )
            for t, i, err, status, msg in self._samples
        )


_EMPTY_REQUEST = RequestWindow()


def _known(low: int, high: int) -> int:
    """A window's exact minimum, or -1 when nothing was measured (``high`` is -1)."""
    return low if high >= 0 else -1


def _pairs(counts: np.ndarray, skip_zero: bool = False) -> tuple[tuple[int, int], ...]:
    """Sparse (index, count) pairs of the non-zero counts, as Python ints; ``skip_zero``
    leaves index 0 out (status 0 and error code 0 are not reported)."""
    where = np.flatnonzero(counts)
    if skip_zero and where.size and where[0] == 0:
        where = where[1:]
    return tuple(zip(where.tolist(), counts[where].tolist(), strict=True))
