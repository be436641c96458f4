"""A worker's raw result columns and their bulk fold into a window's arrays (numpy).

The hot path stores a result's fields into ``PendingColumns`` (preallocated int64 ``array``
columns: a few integer stores, no object per result). Every ``FOLD_EVERY`` results, and when
a window closes, ``PendingColumns.fold`` bins them at once into the window's histograms,
counts and sums (``WindowArrays``) and copies them into the raw-result ring.
"""

from __future__ import annotations

from array import array

import numpy as np

from engine.metrics.histogram import BUCKETS, MAX_US
from engine.metrics.ring import ResultRing
from engine.metrics.spool import ResultSpool
from engine.results import N_ERROR_CODES

STATUS_SLOTS = 1000  # HTTP status 0..999; 0 (no response, or not a status) is not reported
FOLD_EVERY = 8192  # results between folds: 64 KiB temporaries stay off mmap (0.85 MB)
NO_MIN = 1 << 62
SAME = -(1 << 63)  # "service time equals latency" in the pending service column
_I64_MAX = (1 << 63) - 1
_SAFE_TERM = 1 << 49  # FOLD_EVERY (2**13) of these sum within int64


def _bucket_formula(us: np.ndarray) -> np.ndarray:
    shift = np.frexp(us.astype(np.float64))[1].astype(np.int64) - 7  # bit_length - 7
    np.maximum(shift, 0, out=shift)
    return np.where(us < 128, us, (shift << 6) + (us >> shift))


_TABLE_SIZE = 1 << 16  # up to 65 ms: a lookup (~1 ns a value) rather than the formula (~6 ns)
_TABLE = _bucket_formula(np.arange(_TABLE_SIZE, dtype=np.int64))


def buckets(us: np.ndarray) -> np.ndarray:
    """``histogram.bucket_index`` over an array of microseconds (int64, from 0 to MAX_US)."""
    if us.size == 0 or us.max() < _TABLE_SIZE:
        return _TABLE[us]
    small = us < _TABLE_SIZE
    out = _bucket_formula(us)
    out[small] = _TABLE[us[small]]
    return out


def micros(ns: np.ndarray) -> np.ndarray:
    """Nanoseconds to whole microseconds, clamped to [0, MAX_US] (as ``bucket_index``)."""
    us = ns // 1000
    np.maximum(us, 0, out=us)
    np.minimum(us, MAX_US, out=us)
    return us


def _int64_column() -> array[int]:
    return array("q", bytes(8 * FOLD_EVERY))


class PendingColumns:
    """Results recorded since the last fold, one preallocated int64 column per field."""

    __slots__ = (
        "bytes_in",
        "bytes_out",
        "connect",
        "end",
        "err",
        "index",
        "lag",
        "latency",
        "message",
        "n",
        "service",
        "status",
        "tls",
        "ttfb",
    )

    def __init__(self) -> None:
        self.n = 0
        self.index = _int64_column()
        self.status = _int64_column()
        self.err = _int64_column()
        self.latency = _int64_column()
        self.service = _int64_column()
        self.lag = _int64_column()
        self.bytes_in = _int64_column()
        self.bytes_out = _int64_column()
        self.connect = _int64_column()
        self.tls = _int64_column()
        self.ttfb = _int64_column()
        self.end = _int64_column()
        self.message = _int64_column()
        self.clear(FOLD_EVERY)

    def view(self, name: str, n: int) -> np.ndarray:
        return np.frombuffer(getattr(self, name), np.int64, n)

    def clear(self, n: int) -> None:
        """Put the defaults back in the first ``n`` rows: columns the hot path writes only
        when they differ from these (service = latency, no lag, no error, no phases)."""
        self.view("service", n).fill(SAME)
        self.view("lag", n).fill(-1)
        for name in ("err", "message", "connect", "tls", "index"):
            self.view(name, n).fill(0)

    def fold(
        self, a: WindowArrays, ring: ResultRing, start_ns: int, spool: ResultSpool | None = None
    ) -> None:
        """Add the pending results to the window's arrays ``a``, to ``ring`` and to ``spool``
        (when there is one), in bulk, and start afresh (~32 ns a result; ufuncs rather than
        np.clip, whose Python wrapper costs ~10 us a call). Elapsed times count from
        ``start_ns``."""
        n = self.n
        if n == 0:
            return
        single = a.n == 1  # one request: no per-request scatter
        index = self.view("index", n)
        latency = self.view("latency", n)
        service = self.view("service", n)
        same = service == SAME
        all_same = bool(same.all())  # the closed model: service time is the latency
        if all_same:
            service = latency
        else:
            service = np.where(same, latency, service)
            a.service_delta += int((service - latency).sum())
        a.service_min = min(a.service_min, int(service.min()))
        a.service_max = max(a.service_max, int(service.max()))
        lat_us = micros(latency)
        lat_b = buckets(lat_us)
        lat_hist = None  # the one request's latency histogram, when there is one request
        if single:
            lat_hist = np.bincount(lat_b, minlength=BUCKETS)
            a.hist += lat_hist
            a.sums[0] += latency.sum()
            a.maxs[0] = max(a.maxs[0], latency.max())
            a.mins[0] = min(a.mins[0], latency.min())
        else:
            a.hist += np.bincount(index * BUCKETS + lat_b, minlength=a.hist.size)
            np.add.at(a.sums, index, latency)
            np.maximum.at(a.maxs, index, latency)
            np.minimum.at(a.mins, index, latency)
        if all_same:
            svc_us = lat_us
            a.service += lat_hist if lat_hist is not None else np.bincount(lat_b, minlength=BUCKETS)
        else:
            svc_us = micros(service)
            a.service += np.bincount(buckets(svc_us), minlength=BUCKETS)
        lag = self.view("lag", n)
        if lag.max() >= 0:
            lags = lag[lag >= 0]
            a.lag += np.bincount(buckets(micros(lags)), minlength=BUCKETS)
            a.lag_min = min(a.lag_min, int(lags.min()))
            a.lag_max = max(a.lag_max, int(lags.max()))
        ttfb = self.view("ttfb", n)
        a.ttfb += np.bincount(buckets(micros(ttfb[ttfb > 0])), minlength=BUCKETS)
        connect = self.view("connect", n)
        if connect.max() > 0:
            a.connect += np.bincount(buckets(micros(connect[connect > 0])), minlength=BUCKETS)
            tls = self.view("tls", n)
            tls = tls[(tls > 0) & (connect > 0)]
            a.tls += np.bincount(buckets(micros(tls)), minlength=BUCKETS)
        status = self.view("status", n)
        if status.min() < 0 or status.max() > 999:
            status = np.where((status < 0) | (status > 999), 0, status)
        a.statuses += np.bincount(
            status if single else index * STATUS_SLOTS + status, minlength=a.statuses.size
        )
        err = self.view("err", n)
        messages = self.view("message", n)
        if err.max() > 0:
            failed = err > 0
            codes = err[failed] if single else index[failed] * N_ERROR_CODES + err[failed]
            a.errors += np.bincount(codes, minlength=a.errors.size)
            # (error code, message id) -> count, for the run's error distribution
            keys, counts = np.unique(err[failed] * 65536 + messages[failed], return_counts=True)
            seen = a.messages
            for key, count in zip(keys.tolist(), counts.tolist(), strict=True):
                seen[key] = seen.get(key, 0) + count
        b_in = self.view("bytes_in", n)
        b_out = self.view("bytes_out", n)
        a.bytes_in += _total(b_in)
        a.bytes_out += _total(b_out)
        elapsed_ns = self.view("end", n) - start_ns
        ring.extend(elapsed_ns / 1e9, index, status, err, lat_us, svc_us, b_in, b_out, messages)
        if spool is not None:
            spool.sync_messages(ring.messages)
            spool.append(elapsed_ns, index, status, err, lat_us, svc_us, b_in, b_out, messages)
        self.clear(n)
        self.n = 0


def _total(values: np.ndarray) -> int:
    """The exact sum: in int64 unless a value is large enough for FOLD_EVERY of them to
    overflow it (a bogus byte count), then in Python ints."""
    if values.size == 0 or values.max() < _SAFE_TERM:
        return int(values.sum())
    return sum(values.tolist())


def i64(value: int) -> int:
    """``value`` clamped into int64 (above the "same as latency" marker)."""
    return min(max(int(value), SAME + 1), _I64_MAX)


def store_clamped(p: PendingColumns, i: int, *values: int) -> None:
    """Write row ``i``, each value clamped into int64, the way the hot path does (columns
    left at their defaults when service time equals latency, there is no lag, no connect):
    ``record()`` and the hot path's fallback for values beyond int64."""
    (index, status, latency_ns, service_ns, lag_ns, b_in, b_out, conn_ns, tls_ns, ttfb_ns,
     end_ns) = map(i64, values)  # fmt: skip
    p.index[i] = index
    p.status[i] = status
    p.latency[i] = latency_ns
    p.bytes_in[i] = b_in
    p.bytes_out[i] = b_out
    p.ttfb[i] = ttfb_ns
    p.end[i] = end_ns
    if service_ns != latency_ns:
        p.service[i] = service_ns
    if lag_ns >= 0:
        p.lag[i] = lag_ns
    if conn_ns:
        p.connect[i] = conn_ns
        p.tls[i] = tls_ns


class WindowArrays:
    """One window's accumulated arrays (per-request ones strided by index) and totals."""

    __slots__ = (
        "bytes_in",
        "bytes_out",
        "connect",
        "errors",
        "hist",
        "lag",
        "lag_max",
        "lag_min",
        "maxs",
        "messages",
        "mins",
        "n",
        "service",
        "service_delta",
        "service_max",
        "service_min",
        "statuses",
        "sums",
        "tls",
        "ttfb",
    )

    def __init__(self, n_requests: int) -> None:
        n = self.n = max(n_requests, 1)
        self.hist = np.zeros(n * BUCKETS, np.int64)
        self.service = np.zeros(BUCKETS, np.int64)
        self.lag = np.zeros(BUCKETS, np.int64)
        self.connect = np.zeros(BUCKETS, np.int64)
        self.tls = np.zeros(BUCKETS, np.int64)
        self.ttfb = np.zeros(BUCKETS, np.int64)
        self.mins = np.full(n, NO_MIN, np.int64)
        self.maxs = np.zeros(n, np.int64)
        self.sums = np.zeros(n, np.int64)
        self.statuses = np.zeros(n * STATUS_SLOTS, np.int64)
        self.errors = np.zeros(n * N_ERROR_CODES, np.int64)
        self.bytes_in = self.bytes_out = 0
        self.service_delta = 0  # sum of (service time - latency) ns
        self.messages: dict[int, int] = {}  # error code * 65536 + message id -> count
        # exact extremes of the measures kept only as histograms (ns; NO_MIN / -1: none yet)
        self.service_min = self.lag_min = NO_MIN
        self.service_max = self.lag_max = -1

    def reset(self) -> None:
        """Zero every array in place."""
        for name in ("hist", "service", "lag", "connect", "tls", "ttfb", "maxs", "sums"):
            getattr(self, name).fill(0)
        self.statuses.fill(0)
        self.errors.fill(0)
        self.mins.fill(NO_MIN)
        self.bytes_in = self.bytes_out = self.service_delta = 0
        self.messages = {}
        self.service_min = self.lag_min = NO_MIN
        self.service_max = self.lag_max = -1
