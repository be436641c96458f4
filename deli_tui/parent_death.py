"""Ask the kernel to stop this process when its parent dies (Linux ``PR_SET_PDEATHSIG``).

For the processes deli-tui starts on someone's behalf (the demo server, an app served to a
browser): if their parent goes, they go too, and nothing is left behind.
"""

from __future__ import annotations

import contextlib
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """SIGTERM this process when its parent exits (a no-op off Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
