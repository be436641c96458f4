"""The exit codes of every ``deli-tui`` command, defined once."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    PASSED = 0  # the run passed its thresholds; a command did what was asked
    FAILED = 1  # a threshold failed, a run failed, a check failed, a regression was found
    BAD_INPUT = 2  # the input cannot be used: a message says what and where
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT); other signals give 128 + their number
