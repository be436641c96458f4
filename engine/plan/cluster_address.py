"""What a ``cluster:`` setting or ``--cluster ADDRESS`` may say, checked without importing Ray.

An address is what ``ray.init(address=...)`` takes: ``auto`` (the cluster this machine is a
node of), ``HOST:PORT`` (its head's GCS), ``ray://HOST:PORT`` (Ray Client, from outside the
cluster), or ``local``: a private Ray started on this machine for the run and stopped after.
Ray itself is the optional extra ``deli-tui[cluster]``; ``ray_installed`` looks for it on disk.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import re

INSTALL_HINT = "install the cluster extra: pip install 'deli-tui[cluster]'"
ADDRESS_HINT = "auto, local, HOST:PORT or ray://HOST:PORT, e.g. 10.0.0.5:6379"
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
_LOOPBACK_NAMES = ("localhost",)


def check_cluster_address(value: object) -> str:
    """The address, stripped; ValueError saying what is wrong with it."""
    if not isinstance(value, str):
        raise ValueError(f"expected an address as text, got {value!r}")
    text = value.strip()
    if text in ("auto", "local"):
        return text
    rest = text.removeprefix("ray://")
    host, sep, port = rest.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host:
        raise ValueError(f"{text!r} is not a Ray address (expected {ADDRESS_HINT})")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r}: the port must be a number from 1 to 65535")
    if not _is_ip(host) and not _HOST.match(host):
        raise ValueError(f"{text!r}: {host!r} is not a host name or IP address")
    return text


def is_loopback(address: str) -> bool:
    """True for ``local`` and for an address whose host is this machine's loopback."""
    if address == "local":
        return True
    host = address.removeprefix("ray://").rpartition(":")[0].strip("[]")
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ray_installed() -> bool:
    """True when Ray can be imported here (found on disk; nothing is imported)."""
    try:
        return importlib.util.find_spec("ray") is not None
    except (ImportError, ValueError):  # a finder that refuses it, a broken half-install
        return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
