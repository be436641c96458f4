"""The outcome of one request, as a transport hands it over and the metrics record it.

``ErrorClass`` is the one list of error classes (their numbers are stored in windows, the
result ring and the spool; their names appear in snapshots, reports and the app). A
``Result`` is a plain tuple so the hot path allocates nothing per request beyond the tuple;
consumers unpack it into named locals.
"""

from __future__ import annotations

from enum import IntEnum


class ErrorClass(IntEnum):
    """Why a request failed; 0 when it did not. The order is the order reports show them."""

    NONE = 0
    CONNECT = 1  # name resolution or TCP connect failed or timed out
    TIMEOUT = 2  # no (complete) response within the request's timeout
    TLS = 3  # TLS handshake or certificate verification failed
    READ = 4  # the connection broke while the response was awaited or read
    PROTOCOL = 5  # the server broke HTTP (garbage, an HTTP/2 protocol error)
    HTTP_STATUS = 6  # a 4xx/5xx status without a status check saying it is expected
    CHECK = 7  # a check on the response failed
    EXTRACT = 8  # a flow's extraction found nothing in the response (the iteration ends)
    REFUSED = 9  # the server declined it unprocessed (HTTP/2 GOAWAY, REFUSED_STREAM) each try

    @property
    def label(self) -> str:
        """The name reports and the app use: ``connect``, ``http_status``..."""
        return self.name.lower()


# Module-level aliases: a global load on the hot path instead of an enum attribute lookup.
ERR_NONE = ErrorClass.NONE
ERR_CONNECT = ErrorClass.CONNECT
ERR_TIMEOUT = ErrorClass.TIMEOUT
ERR_TLS = ErrorClass.TLS
ERR_READ = ErrorClass.READ
ERR_PROTOCOL = ErrorClass.PROTOCOL
ERR_HTTP_STATUS = ErrorClass.HTTP_STATUS
ERR_CHECK = ErrorClass.CHECK
ERR_EXTRACT = ErrorClass.EXTRACT
ERR_REFUSED = ErrorClass.REFUSED

# The error classes' names in report order (every class but NONE).
ERROR_CLASSES: tuple[str, ...] = tuple(c.label for c in ErrorClass if c is not ErrorClass.NONE)
# How many codes a per-code count array needs (NONE included).
N_ERROR_CODES = len(ErrorClass)


def error_class_name(code: int) -> str:
    """The name of an error code ("" for 0 or a code no class has)."""
    return ERROR_CLASSES[code - 1] if 0 < code <= len(ERROR_CLASSES) else ""


# (status, error code, message, bytes_in, bytes_out, connect_ns, tls_ns, ttfb_ns, body)
Result = tuple[int, int, str, int, int, int, int, int, "bytes | None"]


def error_result(code: int, message: str, bytes_out: int = 0, connect_ns: int = 0) -> Result:
    """A result for a request that got no (complete) response."""
    return (0, code, message, 0, bytes_out, connect_ns, 0, 0, None)
