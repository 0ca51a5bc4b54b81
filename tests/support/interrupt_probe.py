"""A pytest plugin for tests/run/test_sweep.py: sends this process SIGINT (or
SIGTERM, per ``$CHIME_INTERRUPT_PROBE``) from ``pytest_sessionfinish``, after
the sweep and before the suite writes its reports: a Ctrl-C at exactly that
moment."""

from __future__ import annotations

import os
import signal

import pytest


def pytest_sessionfinish(session: pytest.Session) -> None:
    os.kill(os.getpid(), getattr(signal, os.environ.get("CHIME_INTERRUPT_PROBE", "SIGINT")))
