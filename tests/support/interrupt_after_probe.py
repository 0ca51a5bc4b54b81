"""A pytest plugin for tests/test_report_browser.py: sends this process SIGINT
once ``$CHIME_INTERRUPT_AFTER`` tests (default 20) have run, as a user's
Ctrl-C part-way through a run."""

from __future__ import annotations

import os
import signal

import pytest

_ran: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call":
        return
    _ran.append(report.nodeid)
    if len(_ran) == int(os.environ.get("CHIME_INTERRUPT_AFTER", "20")):
        os.kill(os.getpid(), signal.SIGINT)
