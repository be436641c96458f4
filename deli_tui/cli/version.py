"""The installed version of deli-tui, as ``--version`` prints it."""

from __future__ import annotations


def version() -> str:
    """This installation's version (from its package metadata)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version("deli-tui")
    except PackageNotFoundError:
        return "unknown (not installed)"
