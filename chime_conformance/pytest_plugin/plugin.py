"""The pytest plugin (pytest11 entry point): every hook of the suite, each once.

A thin adapter, as schemathesis' is: the options are added and read in
:mod:`~chime_conformance.pytest_plugin.options`; only when the suite itself
runs does :func:`pytest_configure` read them, once, into one
:class:`~chime_conformance.run.config.SuiteConfig` (an xdist worker gets the
controller's as it is), and register :class:`SuiteHooks` and the fixtures
(:mod:`~chime_conformance.pytest_plugin.fixtures`). Another project's run
sees no hook, fixture or profile of the suite. Each hook calls into the run
layer (:mod:`chime_conformance.run`) through this process's
:class:`~chime_conformance.pytest_plugin.session.SuiteRun`; heavy modules
are imported when first used, so loading the plugin costs nothing.
"""

from __future__ import annotations

import gc
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from chime_conformance.pytest_plugin import options
from chime_conformance.run.config import ConfigurationError, LiveTargetRefused, SuiteConfig

if TYPE_CHECKING:
    from chime_conformance.pytest_plugin.session import SuiteRun

EXIT_LIVE_REFUSED = 6
WORKER_CONFIG = "chime_config"  # the controller's SuiteConfig, in an xdist worker's input


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Only when the suite itself runs: anything else pytest runs in this
    environment is left exactly as it would be without the plugin (but for
    the suite's marker, which is known wherever the suite's tests may be
    collected)."""
    from chime_conformance.pytest_plugin.collection import LONG_RUNNING

    config.addinivalue_line(
        "markers", f"{LONG_RUNNING}: a test of the suite that takes seconds (run first under xdist)"
    )
    suite = _suite_config(config)
    if suite is None:
        return
    from chime_conformance.pytest_plugin import fixtures, profiles
    from chime_conformance.pytest_plugin.session import RUN_KEY, SuiteRun

    worker = getattr(config, "workerinput", {}).get("workerid")
    run = SuiteRun(suite, worker, profiles.use_suite_profile(config, suite), _baseline(suite))
    config.stash[RUN_KEY] = run
    run.guard.install_signal_handlers()
    config.pluginmanager.register(SuiteHooks(run), "chime-conformance-run")
    config.pluginmanager.register(fixtures, "chime-conformance-fixtures")
    if worker is None:
        from chime_conformance.pytest_plugin import usage, what_ran

        usage.refuse_unwritable_outputs(config, suite)  # every usage error before a request
        try:
            stop_unless_reachable(suite)
        except KeyboardInterrupt:  # Ctrl-C in the first second: no test runs, reports do
            run.guard.interrupted_before_start()
        what_ran.point_junit_at_report_dir(config, suite.report_dir)


def _suite_config(config: pytest.Config) -> SuiteConfig | None:
    """The run's settings when the suite runs, else None: read once on the
    controller, handed to each xdist worker as they are."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        forwarded = workerinput.get(WORKER_CONFIG)
        return SuiteConfig.from_json(forwarded) if forwarded is not None else None
    if not options.runs_the_suite(config):
        return None
    try:
        return options.read_config(config)
    except LiveTargetRefused as error:
        pytest.exit(f"chime-conformance: {error}", returncode=EXIT_LIVE_REFUSED)
    except ConfigurationError as error:
        raise pytest.UsageError(str(error)) from None


def _baseline(suite: SuiteConfig) -> Any:
    if suite.baseline is None:
        return None
    from chime_conformance.run.baseline import BaselineError, load_baseline

    try:
        return load_baseline(suite.baseline)
    except BaselineError as error:
        raise pytest.UsageError(str(error)) from None


def stop_unless_reachable(suite: SuiteConfig) -> None:
    """Stop the run at once, in one sentence, if a given target does not
    answer HTTP (unreachable, hanging, dropping connections): before
    collection, not after a thousand failed tests."""
    from chime_conformance.pytest_plugin.guard import EXIT_TARGET_FAILED
    from chime_conformance.wire.client import ChimeClient, ClientError

    for url in (suite.target_url, suite.reference_url):
        if url is None:
            continue
        client = ChimeClient(
            url,
            accounts_url=None if url == suite.reference_url else suite.accounts_url,
            region=suite.region,
            timeouts=suite.transport.timeouts(),
        )
        try:
            client.probe()
        except ClientError as error:
            pytest.exit(f"chime-conformance: {error}", returncode=EXIT_TARGET_FAILED)
        finally:
            client.close()


class SuiteHooks:
    """Every other hook of a suite run, registered by :func:`pytest_configure`
    only when the suite runs."""

    def __init__(self, run: SuiteRun) -> None:
        self.run = run

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist controller → worker: the run's settings as they were read
        here; without a target, each worker starts its own embedded emulator
        (in the controller, one emulator would serve every worker from one
        process, under one GIL)."""
        node.workerinput[WORKER_CONFIG] = self.run.config.to_json()

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.run.guard.session = session

    @pytest.hookimpl(trylast=True)  # after -k and -m: what is left is what the run selected
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        from chime_conformance.pytest_plugin import collection

        collection.select(config, items, self.run.config)
        collection.run_long_tests_first(config, items)
        if self.run.guard.interrupts and items:  # interrupted while the target was probed
            self.run.guard.not_started = len(items)  # "interrupted after 0 of N tests"
            config.hook.pytest_deselected(items=list(items))
            items[:] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Once collected, the suite's modules, specs and test items live for the
        whole run: frozen out of the garbage collector's reach, its full
        collections stop walking them again and again (2.4 s of CPU in a ``ci``
        run before, 1.7 s after)."""
        gc.freeze()

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        """Around Hypothesis' own wrapper: a parametrized test's settings as they were.

        For each parametrized item, Hypothesis' pytest plugin replaces the settings of
        the function all items share with ``settings(parent=<the current ones>)``, so
        after the 460 items of the constraint probes the chain is 460 deep, and
        every read of a setting that is None (``database`` under the ``ci``
        profile) walks all of it. Each layer adds the same health check to the same
        set, so putting the first back after each item changes no setting.

        A test of an operation that has only ever been answered outside the API's
        shape (not implemented) runs without the shrink and explain phases, as with
        ``--no-shrink`` (:meth:`SuiteRun.shrinks`): against an endpoint missing three
        operations, a ``ci`` run took 3 min 44 s with them, 35 s without."""
        from chime_conformance.pytest_plugin._library_internals import (
            replace_settings,
            settings_of,
        )
        from chime_conformance.pytest_plugin.profiles import without_shrinking

        function: Any = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
        before = settings_of(function)
        if before is not None and not self.run.shrinks(item):
            replace_settings(function, without_shrinking(before))
        try:
            return (yield)
        finally:
            if before is not None:
                replace_settings(function, before)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """On the process that ran the test: its operation and cause, known
        failures; a throttled test, a target that failed."""
        from chime_conformance.pytest_plugin.outcomes import annotate

        # before pytest's unittest plugin turns a SkipTest (TargetThrottled) into a skip
        error = call.excinfo.value if call.excinfo is not None else None
        report = yield
        run = self.run
        annotate(item, call, report, run.results, run.baseline, run.today)
        run.guard.judge(item, error, report, run.events)
        return report

    @pytest.hookimpl(tryfirst=True)  # before junitxml writes the report's text
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """On the controller (every worker's reports included): a target that
        failed stops the run; each test's outcome; each repeated cause once."""
        from chime_conformance.pytest_plugin import outcomes

        run = self.run
        if run.worker is not None:
            return
        run.guard.notice(report)
        outcomes.count(report, run.counts)
        reported = outcomes.reported_outcome(report)
        if reported is not None:
            run.tests.record(outcomes.test_id_of_report(report), reported)
        if outcomes.ended(report):
            outcome = outcomes.test_outcome(report)
            run.outcomes.append(outcome)
            outcomes.summarise(report, outcome, run.first_of_cause)

    def pytest_report_teststatus(self, report: pytest.TestReport) -> Any:
        return self.run.guard.test_status(report)

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Generator[None, Any, Any]:
        """Around every other plugin's session end (the session fixtures' teardown
        among them): first the last sweep, under the signal handlers the run
        started with (a Ctrl-C stops it; the sweep says what it left); then the
        reports, written whole whatever signal comes (a worker's one report;
        on the controller, the run's)."""
        run = self.run
        run.guard.restore_signal_handlers()
        self._last_sweep(session.config)
        run.guard.defer_interrupts()
        run.guard.set_exit_status(session)
        from chime_conformance.pytest_plugin import what_ran

        # --co, or nothing selected: no report at all, no verdict; but a run
        # interrupted while the target was probed ran nothing and reports that
        nothing_ran = (
            run.worker is None and what_ran.nothing_ran(session) and not run.guard.interrupts
        )
        if nothing_ran:
            what_ran.drop_own_junit(session.config)
        elif run.worker is None:
            what_ran.mark_junit(session.config, run)
        result = yield
        if run.worker is not None:
            run.hand_over()
        elif not nothing_ran:
            run.conclude(session)
        return result

    def _last_sweep(self, config: pytest.Config) -> None:
        """Under xdist, the List sweep runs once, on the controller, after the
        workers finished (a worker's would see the others' live resources).
        Not for the embedded emulator: each worker had its own, which ended
        with it."""
        run = self.run
        if run.worker is not None or not config.pluginmanager.hasplugin("dsession"):
            return
        if run.config.target_url is None:
            return
        from chime_conformance.run.ledger import Ledger

        client = run.client(run.config.target_url, accounts_url=run.config.accounts_url)
        with client:
            run.sweep(client, Ledger(), listing=True, last=True)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> Generator[None, Any, Any]:
        """Around pytest's own summary: tests whose cause is shown elsewhere are
        left out of it; then the suite's, last, where the eye lands."""
        from chime_conformance.pytest_plugin import terminal

        if self.run.worker is not None:
            return (yield)
        hidden = terminal.hide_summarised(terminalreporter.stats)
        try:
            return (yield)
        finally:
            terminalreporter.stats.update(hidden)
            terminal.write_summary(terminalreporter, self.run)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """The reports are written: the workers' parts go, the signal handlers
        the run started with come back, and a Ctrl-C counted while writing
        makes the exit status 2 (pytest returns ``session.exitstatus`` after
        unconfiguring)."""
        run = self.run
        if run.worker is None:
            run.remove_parts()
        run.guard.restore_signal_handlers()
        if run.guard.session is not None:
            run.guard.set_exit_status(run.guard.session)
