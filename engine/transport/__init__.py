"""Transports: a fast HTTP/1.1 (httptools) and HTTP/2 (h2) client, httpx for features."""

from engine.transport.base import (
    ERR_CHECK,
    ERR_CONNECT,
    ERR_HTTP_STATUS,
    ERR_NONE,
    ERR_PROTOCOL,
    ERR_READ,
    ERR_TIMEOUT,
    ERR_TLS,
    Client,
    Result,
    error_class_name,
    make_client,
)

__all__ = [
    "ERR_CHECK",
    "ERR_CONNECT",
    "ERR_HTTP_STATUS",
    "ERR_NONE",
    "ERR_PROTOCOL",
    "ERR_READ",
    "ERR_TIMEOUT",
    "ERR_TLS",
    "Client",
    "Result",
    "error_class_name",
    "make_client",
]
