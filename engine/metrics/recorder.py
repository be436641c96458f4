"""Per-worker recording of results into preallocated window arrays (the engine's hot path).

``WindowRecorder.record()`` runs once per request: integer bucket increments into flat
preallocated lists and a write into the column-wise ``ResultRing``; no object is made for a
successful result. ``flush()`` turns the arrays into a sparse ``WindowData`` once a window and
zeroes them in place.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

from engine.metrics.histogram import BUCKETS, MAX_US, bucket_index
from engine.metrics.ring import ResultRing
from engine.metrics.window import N_ERROR_CODES, RequestWindow, WindowData, error_class_name
from engine.protocol import ErrorSample

STATUS_SLOTS = 1000  # HTTP status 0..999; 0 (no response, or not a status) is not reported
ERROR_SAMPLES_PER_WINDOW = 5
_NO_MIN = 1 << 62
_REDACT_CACHE = 256


class RecordFn(Protocol):
    def __call__(
        self,
        index: int,
        status: int,
        err: int,
        latency_ns: int,
        service_ns: int,
        lag_ns: int,
        bytes_in: int,
        bytes_out: int,
        connect_ns: int,
        tls_ns: int,
        ttfb_ns: int,
        message: str | None,
        elapsed_s: float,
    ) -> None: ...


def _pairs(counts: list[int], start: int, stop: int) -> tuple[tuple[int, int], ...]:
    """Sparse (offset, count) pairs of counts[start:stop]."""
    return tuple((i, c) for i, c in enumerate(counts[start:stop]) if c)


class WindowRecorder:
    """Records one worker's results; the worker updates the gauges directly.

    ``record(index, status, err, latency_ns, service_ns, lag_ns, bytes_in, bytes_out,
    connect_ns, tls_ns, ttfb_ns, message, elapsed_s)``: ``err`` is an error code
    (``engine.metrics.window.ERR_*``, 0 = none); ``lag_ns`` < 0 means "not applicable" and
    phase times <= 0 mean the phase did not happen (e.g. a reused connection).
    """

    __slots__ = (
        "_arrays",
        "_drain",
        "_redact",
        "_redacted",
        "_samples",
        "active_users",
        "in_flight",
        "n_requests",
        "record",
        "request_names",
        "ring",
        "skipped",
        "stage_index",
        "stage_label",
        "target_rate",
        "target_users",
        "window_s",
        "worker_id",
    )

    def __init__(
        self,
        worker_id: int,
        n_requests: int,
        window_s: float,
        ring_capacity: int,
        redact: Callable[[str], str] | None = None,
        request_names: Sequence[str] = (),
    ) -> None:
        self.worker_id = worker_id
        self.n_requests = n_requests
        self.window_s = window_s
        self.ring = ResultRing(ring_capacity)
        # names let error samples say which request failed; without them the index is used
        self.request_names = tuple(request_names) or tuple(str(i) for i in range(n_requests))
        self.skipped = 0
        self.in_flight = 0
        self.active_users = 0
        self.target_users = 0.0
        self.target_rate = 0.0
        self.stage_index = 0
        self.stage_label = ""
        self._redact = redact
        self._redacted: dict[str, str] = {}
        self._samples: deque[tuple[float, int, int, int, str]] = deque(
            maxlen=ERROR_SAMPLES_PER_WINDOW
        )
        self._arrays = _WindowArrays(n_requests)
        self.record, self._drain = self._make_record()

    def _make_record(self) -> tuple[RecordFn, Callable[[], tuple[int, int, int]]]:
        """Build ``record`` (and ``drain`` for its scalar totals) as closures over the arrays.

        Closure cells instead of ``self.`` attribute loads, ``nonlocal`` ints for the window
        totals, bucket_index() inlined (a call costs ~60 ns here, and this runs up to three
        times a result). Measured per call on this machine (best of 300 x 2,000 calls): 0.80 us
        closed model, 1.06 us open model, 1.18 us for an error with a message; the same body
        as a method calling bucket_index() took 0.87 / 1.21 us.
        """
        a = self._arrays
        hist = a.hist
        service = a.service
        lag = a.lag
        connect = a.connect
        tls = a.tls
        ttfb = a.ttfb
        mins = a.mins
        maxs = a.maxs
        sums = a.sums
        statuses = a.statuses
        errors = a.errors
        samples_append = self._samples.append
        ring = self.ring
        cap = ring.capacity
        r_elapsed = ring.elapsed_s
        r_request = ring.request
        r_status = ring.status
        r_error = ring.error
        r_latency = ring.latency_us
        r_service = ring.service_us
        r_in = ring.bytes_in
        r_out = ring.bytes_out
        keep_message = self._keep_message
        max_us = MAX_US
        n_buckets = BUCKETS
        n_codes = N_ERROR_CODES
        total_in = total_out = service_delta = 0

        def record(
            index: int,
            status: int,
            err: int,
            latency_ns: int,
            service_ns: int,
            lag_ns: int,
            bytes_in: int,
            bytes_out: int,
            connect_ns: int,
            tls_ns: int,
            ttfb_ns: int,
            message: str | None,
            elapsed_s: float,
        ) -> None:
            nonlocal total_in, total_out, service_delta
            us = latency_ns // 1000
            if us < 128:
                if us < 0:
                    us = 0
                b = us
            else:
                if us > max_us:
                    us = max_us
                s = us.bit_length() - 7
                b = (s << 6) + (us >> s)
            hist[index * n_buckets + b] += 1
            sums[index] += latency_ns
            if latency_ns > maxs[index]:
                maxs[index] = latency_ns
            if latency_ns < mins[index]:
                mins[index] = latency_ns
            if status > 999:  # not an HTTP status; parsers never give a negative one
                status = 0
            statuses[index * 1000 + status] += 1
            if service_ns == latency_ns:
                sus = us
                service[b] += 1
            else:
                service_delta += service_ns - latency_ns
                sus = service_ns // 1000
                if sus < 128:
                    if sus < 0:
                        sus = 0
                    service[sus] += 1
                else:
                    if sus > max_us:
                        sus = max_us
                    s = sus.bit_length() - 7
                    service[(s << 6) + (sus >> s)] += 1
            if lag_ns >= 0:
                lus = lag_ns // 1000
                if lus < 128:
                    lag[lus] += 1
                else:
                    if lus > max_us:
                        lus = max_us
                    s = lus.bit_length() - 7
                    lag[(s << 6) + (lus >> s)] += 1
            if ttfb_ns > 0:
                tus = ttfb_ns // 1000
                if tus < 128:
                    ttfb[tus] += 1
                else:
                    if tus > max_us:
                        tus = max_us
                    s = tus.bit_length() - 7
                    ttfb[(s << 6) + (tus >> s)] += 1
            if connect_ns > 0:
                connect[bucket_index(connect_ns // 1000)] += 1
                if tls_ns > 0:
                    tls[bucket_index(tls_ns // 1000)] += 1
            total_in += bytes_in
            total_out += bytes_out
            c = ring.count
            i = c % cap
            try:
                r_elapsed[i] = elapsed_s
                r_request[i] = index
                r_status[i] = status
                r_error[i] = err
                r_latency[i] = us
                r_service[i] = sus
                r_in[i] = bytes_in
                r_out[i] = bytes_out
            except OverflowError:  # e.g. a body over 4 GiB: clamp rather than fail the run
                ring.store(i, elapsed_s, index, status, err, us, sus, bytes_in, bytes_out)
            ring.count = c + 1
            if err:
                errors[index * n_codes + err] += 1
                message = keep_message(c, message or "")
                samples_append((elapsed_s, index, err, status, message))

        def drain() -> tuple[int, int, int]:
            """(bytes in, bytes out, service - latency ns summed) of the window; resets them."""
            nonlocal total_in, total_out, service_delta
            out = (total_in, total_out, service_delta)
            total_in = total_out = service_delta = 0
            return out

        return record, drain

    def _keep_message(self, seq: int, message: str) -> str:
        """Redact an error message (cached: error storms repeat the same text) and ring it."""
        if message and self._redact is not None:
            redacted = self._redacted.get(message)
            if redacted is None:
                redacted = self._redact(message)
                if len(self._redacted) < _REDACT_CACHE:
                    self._redacted[message] = redacted
            message = redacted
        self.ring.add_message(seq, message)
        return message

    def flush(self, seq: int, start_s: float, end_s: float) -> WindowData:
        """Close the window: return its data and zero the arrays for the next one."""
        a = self._arrays
        per_request: list[RequestWindow] = []
        total_hist = a.scratch
        statuses: dict[int, int] = {}
        error_codes = [0] * N_ERROR_CODES
        n_total = errors_total = sum_total = max_total = 0
        min_total = _NO_MIN
        for r in range(self.n_requests):
            hist_pairs = _pairs(a.hist, r * BUCKETS, (r + 1) * BUCKETS)
            if not hist_pairs:
                per_request.append(_EMPTY_REQUEST)
                continue
            n = 0
            for b, c in hist_pairs:
                total_hist[b] += c
                n += c
            # status 0 (no response) is left out: those results are counted as errors
            st_pairs = _pairs(a.statuses, r * STATUS_SLOTS + 1, (r + 1) * STATUS_SLOTS)
            st_pairs = tuple((code + 1, c) for code, c in st_pairs)
            for code, c in st_pairs:
                statuses[code] = statuses.get(code, 0) + c
            err_pairs = _pairs(a.errors, r * N_ERROR_CODES + 1, (r + 1) * N_ERROR_CODES)
            err_pairs = tuple((e + 1, c) for e, c in err_pairs)
            n_err = 0
            for e, c in err_pairs:
                error_codes[e] += c
                n_err += c
            per_request.append(
                RequestWindow(
                    requests=n,
                    errors=n_err,
                    latency_hist=hist_pairs,
                    status_codes=st_pairs,
                    error_codes=err_pairs,
                    min_ns=a.mins[r],
                    max_ns=a.maxs[r],
                    sum_ns=a.sums[r],
                )
            )
            n_total += n
            errors_total += n_err
            sum_total += a.sums[r]
            max_total = max(max_total, a.maxs[r])
            min_total = min(min_total, a.mins[r])
        bytes_in, bytes_out, service_delta = self._drain()
        window = WindowData(
            worker_id=self.worker_id,
            seq=seq,
            start_s=start_s,
            end_s=end_s,
            requests=n_total,
            successes=n_total - errors_total,
            per_request=tuple(per_request),
            latency_hist=_pairs(total_hist, 0, BUCKETS),
            service_hist=_pairs(a.service, 0, BUCKETS),
            lag_hist=_pairs(a.lag, 0, BUCKETS),
            connect_hist=_pairs(a.connect, 0, BUCKETS),
            tls_hist=_pairs(a.tls, 0, BUCKETS),
            ttfb_hist=_pairs(a.ttfb, 0, BUCKETS),
            status_codes=tuple(sorted(statuses.items())),
            errors=tuple((e, c) for e, c in enumerate(error_codes) if c),
            bytes_in=bytes_in,
            bytes_out=bytes_out,
            skipped=self.skipped,
            active_users=self.active_users,
            target_users=self.target_users,
            in_flight=self.in_flight,
            target_rate=self.target_rate,
            stage_index=self.stage_index,
            stage_label=self.stage_label,
            min_ns=min_total if n_total else 0,
            max_ns=max_total,
            sum_ns=sum_total,
            error_samples=self._error_samples(),
            service_sum_ns=sum_total + service_delta,
        )
        a.reset()
        self._samples.clear()
        self.skipped = 0
        return window

    def _error_samples(self) -> tuple[ErrorSample, ...]:
        names = self.request_names
        return tuple(
            ErrorSample(
                elapsed_s=round(t, 3),
                request=names[i] if i < len(names) else str(i),
                error_class=error_class_name(err),
                status=status,
                message=msg,
            )
            for t, i, err, status, msg in self._samples
        )


_EMPTY_REQUEST = RequestWindow()


_ZEROED = (
    *("hist", "service", "lag", "connect", "tls", "ttfb"),
    *("maxs", "sums", "statuses", "errors", "scratch"),
)


class _WindowArrays:
    """The preallocated flat arrays of one window; per-request arrays are strided by index."""

    __slots__ = (
        "connect",
        "errors",
        "hist",
        "lag",
        "maxs",
        "mins",
        "n",
        "scratch",
        "service",
        "statuses",
        "sums",
        "tls",
        "ttfb",
    )

    def __init__(self, n_requests: int) -> None:
        n = self.n = max(n_requests, 1)
        self.hist = [0] * (n * BUCKETS)
        self.service = [0] * BUCKETS
        self.lag = [0] * BUCKETS
        self.connect = [0] * BUCKETS
        self.tls = [0] * BUCKETS
        self.ttfb = [0] * BUCKETS
        self.mins = [_NO_MIN] * n
        self.maxs = [0] * n
        self.sums = [0] * n
        self.statuses = [0] * (n * STATUS_SLOTS)
        self.errors = [0] * (n * N_ERROR_CODES)
        self.scratch = [0] * BUCKETS

    def reset(self) -> None:
        """Zero every array in place (the record closure holds references to them)."""
        for name in _ZEROED:
            arr = getattr(self, name)
            arr[:] = [0] * len(arr)
        self.mins[:] = [_NO_MIN] * self.n
