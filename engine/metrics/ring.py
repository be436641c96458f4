"""Bounded ring buffer of recent raw results, stored column-wise.

One ``array.array`` per field, preallocated to ``capacity``: 27 bytes a result by structure,
against ~184 bytes for a ``__slots__`` object per result. Error messages are interned: each
distinct text is kept once in a bounded table (``MAX_DISTINCT_MESSAGES``) and every result
carries a 2-byte message id (0 = none), so every retained error keeps its message and a
storm of identical errors costs no string per result.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

# (field name, array typecode). Order is the CSV column order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("elapsed_s", "f"),  # since run start; float32 keeps 1 ms steps for the first 4.6 hours
    ("request", "H"),  # index into plan.requests
    ("status", "H"),  # HTTP status, 0 when there was no response
    ("error", "B"),  # error code, 0 = none (engine.metrics.window.ERR_*)
    ("latency_us", "I"),  # from the intended send time in the open model
    ("service_us", "I"),  # from the actual send
    ("bytes_in", "I"),
    ("bytes_out", "I"),
    ("message_id", "H"),  # index into the ring's message table, 0 = no message
)
_DTYPES: dict[str, type[np.generic]] = {
    "f": np.float32,
    "H": np.uint16,
    "B": np.uint8,
    "I": np.uint32,
}
_U32 = 0xFFFFFFFF
_LIMITS = {"H": (0, 0xFFFF), "B": (0, 0xFF), "I": (0, _U32)}
MAX_DISTINCT_MESSAGES = 4096
TABLE_FULL = "(message table full)"


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One retained result, as read back from the ring (made only when reading)."""

    elapsed_s: float
    request: int
    status: int
    error: int
    latency_us: int
    service_us: int
    bytes_in: int
    bytes_out: int
    message: str = ""


def _column(code: str, capacity: int) -> array[Any]:
    """A zeroed, preallocated column."""
    return array(code, bytes(array(code).itemsize * capacity))


def bytes_per_result() -> int:
    """Structural size of one retained result: the sum of the column item sizes."""
    return sum(array(code).itemsize for _, code in COLUMNS)


class ResultRing:
    """The newest ``capacity`` results; older ones are overwritten in place."""

    __slots__ = (
        "bytes_in",
        "bytes_out",
        "capacity",
        "count",
        "elapsed_s",
        "error",
        "latency_us",
        "max_messages",
        "message_id",
        "message_ids",
        "messages",
        "request",
        "service_us",
        "status",
    )

    def __init__(self, capacity: int, max_messages: int = MAX_DISTINCT_MESSAGES) -> None:
        if capacity < 1:
            raise ValueError(f"ring capacity must be at least 1, got {capacity}")
        if not 1 <= max_messages < 0xFFFF:
            raise ValueError(f"max_messages must be from 1 to 65534, got {max_messages}")
        self.capacity = capacity
        self.count = 0  # results ever appended; the next slot is count % capacity
        self.max_messages = max_messages  # distinct texts kept; later ones share TABLE_FULL
        # the message table: id -> text (id 0 is "no message") and text -> id
        self.messages: list[str] = [""]
        self.message_ids: dict[str, int] = {"": 0}
        self.elapsed_s = _column("f", capacity)
        self.request = _column("H", capacity)
        self.status = _column("H", capacity)
        self.error = _column("B", capacity)
        self.latency_us = _column("I", capacity)
        self.service_us = _column("I", capacity)
        self.bytes_in = _column("I", capacity)
        self.bytes_out = _column("I", capacity)
        self.message_id = _column("H", capacity)

    @property
    def pos(self) -> int:
        """The slot the next result goes to (the oldest retained one once the ring is full)."""
        return self.count % self.capacity

    def __len__(self) -> int:
        return self.count if self.count < self.capacity else self.capacity

    def nbytes(self) -> int:
        """Bytes held by the column arrays (the message table excluded)."""
        return sum(getattr(self, name).itemsize * len(getattr(self, name)) for name, _ in COLUMNS)

    def append(
        self,
        elapsed_s: float,
        request: int,
        status: int,
        error: int,
        latency_us: int,
        service_us: int,
        bytes_in: int,
        bytes_out: int,
        message: str = "",
    ) -> None:
        """Store one result, overwriting the oldest when full. Values are clamped to fit."""
        self.store(
            self.count % self.capacity,
            elapsed_s,
            request,
            status,
            error,
            latency_us,
            service_us,
            bytes_in,
            bytes_out,
        )
        self.add_message(self.count, message)
        self.count += 1

    def extend(
        self,
        elapsed_s: np.ndarray,
        request: np.ndarray,
        status: np.ndarray,
        error: np.ndarray,
        latency_us: np.ndarray,
        service_us: np.ndarray,
        bytes_in: np.ndarray,
        bytes_out: np.ndarray,
        message_id: np.ndarray,
    ) -> None:
        """Store many results at once (equal-length arrays, oldest first), each value clamped
        into its column's range; ``message_id`` are ids from ``intern()``."""
        n = len(elapsed_s)
        values = {
            "elapsed_s": np.maximum(elapsed_s, 0.0),
            "request": request,
            "status": status,
            "error": error,
            "latency_us": latency_us,
            "service_us": service_us,
            "bytes_in": bytes_in,
            "bytes_out": bytes_out,
            "message_id": message_id,
        }
        cap = self.capacity
        skip = max(0, n - cap)  # only the newest ``capacity`` can be kept
        first = (self.count + skip) % cap
        kept = n - skip
        head = min(kept, cap - first)  # from ``first`` to the end, then from slot 0
        for name, code in COLUMNS:
            column = np.frombuffer(getattr(self, name), _DTYPES[code])
            data = values[name][skip:]
            if code in _LIMITS:  # ufuncs: np.clip's Python wrapper costs ~10 us a call
                low, high = _LIMITS[code]
                if data.min() < low or data.max() > high:
                    data = np.minimum(np.maximum(data, low), high)
            column[first : first + head] = data[:head]
            column[: kept - head] = data[head:]
        self.count += n

    def store(
        self,
        slot: int,
        elapsed_s: float,
        request: int,
        status: int,
        error: int,
        latency_us: int,
        service_us: int,
        bytes_in: int,
        bytes_out: int,
    ) -> None:
        """Write one result into ``slot``, clamping every value into its column's range."""
        self.elapsed_s[slot] = max(elapsed_s, 0.0)
        self.request[slot] = min(max(request, 0), 0xFFFF)
        self.status[slot] = min(max(status, 0), 0xFFFF)
        self.error[slot] = min(max(error, 0), 0xFF)
        self.latency_us[slot] = min(max(latency_us, 0), _U32)
        self.service_us[slot] = min(max(service_us, 0), _U32)
        self.bytes_in[slot] = min(max(bytes_in, 0), _U32)
        self.bytes_out[slot] = min(max(bytes_out, 0), _U32)

    def intern(self, message: str) -> int:
        """The id of ``message`` in the table, adding it while there is room; once
        ``max_messages`` distinct texts are kept, new ones share the TABLE_FULL entry."""
        mid = self.message_ids.get(message)
        if mid is not None:
            return mid
        texts = self.messages
        if len(texts) <= self.max_messages:
            mid = len(texts)
        else:
            mid = self.message_ids.get(TABLE_FULL)
            if mid is not None:
                return mid  # overflowing texts are not remembered: the table stays bounded
            mid, message = len(texts), TABLE_FULL
        texts.append(message)
        self.message_ids[message] = mid
        return mid

    def add_message(self, seq: int, message: str) -> None:
        """Set the message of result ``seq`` (just stored in its slot); "" clears it."""
        self.message_id[seq % self.capacity] = self.intern(message) if message else 0

    def message_of(self, slot: int) -> str:
        """The message of the result in ``slot`` ("" when it has none or is not an error)."""
        return self.messages[self.message_id[slot]] if self.error[slot] else ""

    def _slots(self) -> Iterator[tuple[int, int]]:
        """(slot, sequence number) of retained results, oldest first."""
        n = len(self)
        first_seq = self.count - n
        start = self.pos if self.count > self.capacity else 0
        for k in range(n):
            slot = start + k
            if slot >= self.capacity:
                slot -= self.capacity
            yield slot, first_seq + k

    def rows(self) -> Iterator[ResultRow]:
        """Retained results, oldest first."""
        cols = [getattr(self, name) for name, _ in COLUMNS]
        texts = self.messages
        e, rq, st, er, lat, svc, b_in, b_out, mid = cols
        for slot, _ in self._slots():
            err = er[slot]
            yield ResultRow(
                e[slot],
                rq[slot],
                st[slot],
                err,
                lat[slot],
                svc[slot],
                b_in[slot],
                b_out[slot],
                texts[mid[slot]] if err else "",
            )

    def to_columns(self) -> dict[str, bytes]:
        """The retained results as raw column bytes, oldest first (picklable, compact)."""
        out: dict[str, bytes] = {}
        n = len(self)
        wrapped = self.count > self.capacity and self.pos != 0
        for name, _ in COLUMNS:
            col = getattr(self, name)
            if wrapped:
                col = col[self.pos :] + col[: self.pos]
            elif n < self.capacity:
                col = col[:n]
            out[name] = col.tobytes()
        out["messages"] = json.dumps(self.messages).encode()
        return out

    @classmethod
    def from_columns(cls, columns: dict[str, bytes], capacity: int | None = None) -> ResultRing:
        """Rebuild a ring from ``to_columns()`` output (capacity defaults to the row count)."""
        cols = {}
        for name, code in COLUMNS:
            col = array(code)
            col.frombytes(columns.get(name, b""))
            cols[name] = col
        n = len(cols["elapsed_s"])
        if "message_id" not in columns:
            cols["message_id"] = _column("H", n)
        if any(len(c) != n for c in cols.values()):
            raise ValueError("result columns have different lengths")
        cap = max(capacity or n, 1)
        ring = cls(cap)
        skip = max(0, n - cap)
        kept = n - skip
        for name, _ in COLUMNS:
            getattr(ring, name)[:kept] = cols[name][skip:]
        ring.count = kept
        texts = json.loads(columns.get("messages", b"[]"))
        if not isinstance(texts, list) or not texts or texts[0] != "":
            raise ValueError("result columns carry no message table")
        if any(mid >= len(texts) for mid in cols["message_id"]):
            raise ValueError("a result refers to a message the table does not hold")
        ring.max_messages = max(ring.max_messages, len(texts))
        ring.messages = [str(t) for t in texts]
        ring.message_ids = {t: i for i, t in enumerate(ring.messages)}
        return ring
