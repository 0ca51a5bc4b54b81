"""What every command of the package shares: its version, and a quiet end when
the reader of its output goes away (``| head``). Imports nothing of the
suite, so any layer's command can use it."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

__all__ = ["EXIT_CLOSED_PIPE", "package_version", "quiet_on_closed_pipe"]

EXIT_CLOSED_PIPE = 141  # what a shell reports for a command SIGPIPE ended


def package_version() -> str:
    """The installed distribution's version, or ``unknown`` in a bare checkout."""
    from importlib import metadata

    try:
        return metadata.version("chime-conformance")
    except metadata.PackageNotFoundError:
        return "unknown"


def quiet_on_closed_pipe(command: Callable[[], int]) -> int:
    """Run ``command``; if its reader went away (``| head``), end quietly,
    as a Unix command does, instead of with a BrokenPipeError traceback."""
    try:
        status = command()
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        # Python flushes stdout again at exit: point it at /dev/null first
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_CLOSED_PIPE
