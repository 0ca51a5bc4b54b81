"""The run's safety net, as a pytest plugin object the main plugin registers:
transport settings (timeouts, retries), a throttled verdict, a bounded end for
a dead target, Ctrl-C and SIGTERM that are never swallowed, and the run's
events (retries, throttled tests, leftovers, rule counts) for the report.

Kept apart from ``plugin.py`` so that file stays a thin list of options and
fixtures; everything here is about *how* a run ends, not what it checks.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chime_conformance.run.events import RunEvents
from chime_conformance.wire.client import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    ClientError,
    TargetGone,
    Timeouts,
)
from chime_conformance.wire.retries import RetryPolicy, TargetThrottled

__all__ = ["TRANSPORT_FLAGS", "SuiteGuard", "TransportSettings"]

DEFAULT_MAX_RETRIES = 3
DEFAULT_MAX_RETRY_WAIT = 5.0
# The options (plugin.OPTIONS) these settings come from: dest → flag
TRANSPORT_FLAGS: dict[str, str] = {
    "connect_timeout": "--connect-timeout",
    "read_timeout": "--read-timeout",
    "max_retries": "--max-retries",
    "max_retry_wait": "--max-retry-wait",
}
EXIT_TARGET_FAILED = 3  # the shared exit-code table: unreachable, hanging, dropping
THROTTLED = ("chime_verdict", "throttled")
FATAL_PREFIX = "chime-conformance: "


@dataclass(frozen=True)
class TransportSettings:
    """Timeouts and retries, from options (already env-resolved)."""

    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT

    @classmethod
    def from_values(cls, values: Mapping[str, object]) -> TransportSettings:
        """Raise :class:`ValueError` (one sentence) for a value that is not a
        positive number (retries: a whole number, 0 allowed)."""
        found: dict[str, Any] = {}
        for dest, flag in TRANSPORT_FLAGS.items():
            value = values.get(dest)
            if value in (None, ""):
                continue
            try:
                number = int(str(value)) if dest == "max_retries" else float(str(value))
            except ValueError:
                raise ValueError(f"{flag} must be a number, got {value!r}") from None
            if number < 0 or (number == 0 and dest != "max_retries") or number != number:
                raise ValueError(f"{flag} must be positive, got {value!r}")
            found[dest] = number
        return cls(**found)

    def timeouts(self) -> Timeouts:
        return Timeouts(connect=self.connect_timeout, read=self.read_timeout)

    def retry_policy(self, events: RunEvents | None = None) -> RetryPolicy:
        return RetryPolicy(
            max_retries=self.max_retries,
            max_delay=self.max_retry_wait,
            listener=events.retried if events is not None else None,
        )


class SuiteGuard:
    """Hooks that decide how a run ends (registered by the main plugin)."""

    def __init__(self, settings: TransportSettings) -> None:
        self.settings = settings
        self.events = RunEvents()
        self.fatal: str | None = None  # the target failed: one sentence
        self.interrupts = 0
        self.session: pytest.Session | None = None
        self._previous: dict[int, Any] = {}
        self._merged = False
        self.swept: set[str] = set()  # ARNs the controller's sweep deleted

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

    # -- hooks ------------------------------------------------------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, None]:
        error = call.excinfo.value if call.excinfo is not None else None
        outcome = yield
        report = outcome.get_result()
        if isinstance(error, TargetThrottled):
            self.events.test_throttled(
                item.nodeid, error.operation, error.status, len(error.retries)
            )
            report.user_properties.append(THROTTLED)
        elif isinstance(error, ClientError):
            first = error.first if isinstance(error, TargetGone) else error
            self.fatal = self.fatal or str(first)
            report.outcome = "failed"
            report.longrepr = f"{FATAL_PREFIX}{first}"
            item.session.shouldstop = f"{FATAL_PREFIX}{self.fatal}"

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """On the xdist controller: a worker's test stopped by a dead target
        stops the whole run (and sets its exit code) too."""
        longrepr = report.longrepr
        if report.failed and isinstance(longrepr, str) and longrepr.startswith(FATAL_PREFIX):
            self.fatal = self.fatal or longrepr.removeprefix(FATAL_PREFIX)
            if self.session is not None:
                self.session.shouldstop = f"{FATAL_PREFIX}{self.fatal}"

    def pytest_report_teststatus(self, report: pytest.TestReport) -> Any:
        if report.skipped and THROTTLED in tuple(map(tuple, report.user_properties)):
            return "throttled", "T", ("THROTTLED", {"yellow": True})
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # the sweep under the handlers the run started with: a Ctrl-C stops it
        # (sweep.py reports what it left); then the reports, written whole
        self.restore_signal_handlers()
        self._controller_sweep(session.config)
        self.defer_interrupts()
        self._exit_status(session)

    def _exit_status(self, session: pytest.Session) -> None:
        if self.fatal is not None:
            session.exitstatus = EXIT_TARGET_FAILED
        elif self.interrupts and session.exitstatus in (pytest.ExitCode.OK, 0):
            session.exitstatus = pytest.ExitCode.INTERRUPTED

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """The reports are written: the handlers the run started with come
        back, and a Ctrl-C counted while writing makes the exit status 2
        (pytest returns ``session.exitstatus`` after unconfiguring)."""
        self.restore_signal_handlers()
        if self.session is not None:
            self._exit_status(self.session)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        config = terminalreporter.config
        if hasattr(config, "workerinput"):
            return
        from chime_conformance.pytest_plugin import plugin

        if plugin.CONFIG_KEY in config.stash:
            self.merge_parts(plugin._parts_dir(config))  # the workers' retries too
        if self.fatal is not None:
            terminalreporter.write_line(
                f"chime-conformance: the run stopped early: {self.fatal}", red=True
            )
        summary = self.events.to_json()
        retries = summary["retries"]
        if retries["count"] or summary["throttled"]:
            reasons = ", ".join(f"{n}× {why}" for why, n in retries["by_reason"].items())
            terminalreporter.write_line(
                f"chime-conformance: {retries['count']} retries ({reasons or 'none'}; "
                f"{retries['waited_seconds']:g} s waited); {len(summary['throttled'])} "
                "test(s) throttled: no verdict, not a contract failure"
            )

    def _controller_sweep(self, config: pytest.Config) -> None:
        """Under xdist, the List sweep runs once, on the controller, after the
        workers finished (a worker's would see the others' live resources).
        Not for the embedded emulator: each worker had its own, which ended
        with it (the controller used to start a third one just to sweep it)."""
        from chime_conformance.pytest_plugin import plugin

        if hasattr(config, "workerinput") or not config.pluginmanager.hasplugin("dsession"):
            return
        if plugin.CONFIG_KEY not in config.stash or not plugin.runs_the_suite(config):
            return
        from chime_conformance.pytest_plugin.sharding import sweep_scope
        from chime_conformance.run.ledger import Ledger
        from chime_conformance.run.sweep import sweep
        from chime_conformance.wire.client import ChimeClient

        suite = config.stash[plugin.CONFIG_KEY]
        if suite.target_url is None:
            return  # each worker served itself an embedded emulator, gone with it
        client = ChimeClient(
            suite.target_url,
            accounts_url=suite.accounts_url,
            region=suite.region,
            timeouts=self.settings.timeouts(),
            retry=self.settings.retry_policy(self.events),
        )
        with client:
            leftovers = sweep(
                client, Ledger(), suite.run_id, deleted=self.swept, shard=sweep_scope(config)
            )
        self.events.left_behind(leftovers)

    # -- xdist workers hand their events to the controller ------------------------

    def dump(self, path: Path) -> None:
        self.events.dump(path)

    def merge_parts(self, parts: Path) -> RunEvents:
        """This process's events plus every worker's (merged once); a worker's
        leftover that the controller's sweep deleted afterwards is dropped."""
        if not self._merged:
            for part in sorted(parts.glob("events-*.json")):
                self.events.merge(RunEvents.load(part))
            self.events.forget_deleted(self.swept)
            self._merged = True
        return self.events
