"""How a run ends: a throttled test, a dead target's bounded end and exit
code, and Ctrl-C and SIGTERM that are never swallowed.

A plain object the hooks (:mod:`chime_conformance.pytest_plugin.plugin`)
call; it is about *how* a run ends, not what it checks.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import pytest

from chime_conformance.run.events import RunEvents

__all__ = ["EXIT_TARGET_FAILED", "RunGuard"]

EXIT_TARGET_FAILED = 3  # the shared exit-code table: unreachable, hanging, dropping
THROTTLED = ("chime_verdict", "throttled")
FATAL_PREFIX = "chime-conformance: "
NO_ANSWER_PREFIX = "no answer, no verdict: "


class RunGuard:
    """The run's signal handlers, and the one sentence of a target that failed."""

    def __init__(self) -> None:
        self.fatal: str | None = None  # the target failed: one sentence
        self.interrupts = 0
        # tests selected but never started: a Ctrl-C came while the target was probed
        self.not_started = 0
        self.session: pytest.Session | None = None
        self._previous: dict[int, Any] = {}

    # -- signals: Ctrl-C and SIGTERM always end the run --------------------------

    def install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for number in (signal.SIGINT, signal.SIGTERM):
            self._previous[number] = signal.signal(number, self._interrupted)

    def restore_signal_handlers(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def _interrupted(self, number: int, frame: Any) -> None:
        # Counted before raising: even if some callback swallows the
        # KeyboardInterrupt, the run stops after this test and exits 2.
        self.interrupts += 1
        if self.session is not None:
            self.session.shouldstop = "interrupted (Ctrl-C or SIGTERM)"
        raise KeyboardInterrupt

    def defer_interrupts(self) -> None:
        """While the reports are written (local files, well under a second): a
        Ctrl-C or SIGTERM is counted, and the run exits 2 once they are whole,
        instead of a traceback and half a report."""
        if threading.current_thread() is not threading.main_thread():
            return
        for number in (signal.SIGINT, signal.SIGTERM):
            previous = signal.signal(number, self._counted)
            self._previous.setdefault(number, previous)

    def _counted(self, number: int, frame: Any) -> None:
        self.interrupts += 1

    def interrupted_before_start(self) -> None:
        """A Ctrl-C or SIGTERM while the target was probed: the session runs
        no test (it stops at once, exit 2) and still writes its reports."""
        self.interrupts = max(self.interrupts, 1)

    # -- each test ----------------------------------------------------------------

    def judge(
        self, item: pytest.Item, error: BaseException | None, report: Any, events: RunEvents
    ) -> None:
        """A test the target throttled to the end gets no verdict; one the
        target failed (unreachable, hanging) stops the run with its sentence."""
        from chime_conformance.wire.client import ClientError, TargetGone
        from chime_conformance.wire.retries import TargetThrottled

        if isinstance(error, TargetThrottled):
            events.test_throttled(item.nodeid, error.operation, error.status, len(error.retries))
            report.user_properties.append(THROTTLED)
        elif isinstance(error, TargetGone):
            self.fatal = self.fatal or str(error.first)
            report.outcome = "failed"
            report.longrepr = f"{FATAL_PREFIX}{error.first}"
            item.session.shouldstop = f"{FATAL_PREFIX}{self.fatal}"
        elif isinstance(error, ClientError):
            # one request lost (no answer in time): this test fails, in one
            # sentence, and the run goes on (the breaker decides "gone")
            report.outcome = "failed"
            report.longrepr = f"{NO_ANSWER_PREFIX}{error}"

    def notice(self, report: pytest.TestReport) -> None:
        """On the xdist controller: a worker's test stopped by a dead target
        stops the whole run (and sets its exit code) too."""
        longrepr = report.longrepr
        if report.failed and isinstance(longrepr, str) and longrepr.startswith(FATAL_PREFIX):
            self.fatal = self.fatal or longrepr.removeprefix(FATAL_PREFIX)
            if self.session is not None:
                self.session.shouldstop = f"{FATAL_PREFIX}{self.fatal}"

    @staticmethod
    def test_status(report: pytest.TestReport) -> Any:
        if report.skipped and THROTTLED in tuple(map(tuple, report.user_properties)):
            return "throttled", "T", ("THROTTLED", {"yellow": True})
        return None

    # -- the end --------------------------------------------------------------------

    def set_exit_status(self, session: pytest.Session) -> None:
        if self.fatal is not None:
            session.exitstatus = EXIT_TARGET_FAILED
        elif self.interrupts and session.exitstatus in (
            pytest.ExitCode.OK,
            pytest.ExitCode.NO_TESTS_COLLECTED,
        ):
            session.exitstatus = pytest.ExitCode.INTERRUPTED
