"""One process's share of a suite run, kept in one place of pytest's config.

A :class:`SuiteRun` holds what this process (the controller, or one xdist
worker) gathers: the check records, the constraint probes, the run's events,
the answers each operation got, and on the controller each test's outcome.
When its session ends, a worker writes it as its one report
(:mod:`chime_conformance.run.worker_report`); the controller reads the
workers' reports once, merges them, concludes the run and writes the reports.
"""

from __future__ import annotations

import datetime
import shutil
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from chime_conformance.pytest_plugin.collection import item_operation
from chime_conformance.pytest_plugin.guard import RunGuard
from chime_conformance.run.config import SuiteConfig
from chime_conformance.run.events import RunEvents
from chime_conformance.run.implementation import AnswerLog, TestOutcome
from chime_conformance.run.sharding import TestOutcomes, shard_scope

if TYPE_CHECKING:
    from chime_conformance.run.baseline import Baseline
    from chime_conformance.run.conclusion import RunConclusion
    from chime_conformance.run.coverage import ConstraintCoverage
    from chime_conformance.run.ledger import Ledger
    from chime_conformance.run.results import CheckRecord, ResultLog
    from chime_conformance.wire.client import ChimeClient

RUN_KEY = pytest.StashKey["SuiteRun"]()
EXIT_OK = 0
EXIT_FAILURES = 1


@dataclass
class SuiteRun:
    """What this process knows of the run; ``worker`` is the xdist worker's
    id, None on the controller (or in a run without xdist)."""

    config: SuiteConfig
    worker: str | None
    profile: str  # --hypothesis-profile, as asked
    baseline: Baseline | None = None
    guard: RunGuard = field(default_factory=RunGuard)
    events: RunEvents = field(default_factory=RunEvents)
    answers: AnswerLog = field(default_factory=AnswerLog)
    results: ResultLog | None = None  # created by the first test that checks
    coverage: ConstraintCoverage | None = None  # created by the first constraint probe
    emulator: Any = None  # the embedded emulator, once started
    started: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))
    today: datetime.date = field(default_factory=datetime.date.today)
    swept: set[str] = field(default_factory=set)  # ARNs the controller's sweep deleted
    # on the controller: each test as it ended, for the conclusion and the report
    outcomes: list[TestOutcome] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    tests: TestOutcomes = field(default_factory=TestOutcomes)
    first_of_cause: dict[str, str] = field(default_factory=dict)
    records: list[CheckRecord] | None = None  # every process's, once gathered
    conclusion: RunConclusion | None = None

    @property
    def parts(self) -> Path:
        """Where the workers' reports wait for the controller."""
        return self.config.report_dir / ".parts" / self.config.run_id

    def client(self, url: str, ledger: Ledger | None = None, **options: Any) -> ChimeClient:
        """A client of ``url`` with the run's timeouts and retries (a ``ledger``
        writes down every create)."""
        from chime_conformance.wire.client import ChimeClient

        if ledger is not None:
            options.update(
                observer=ledger.observe, before_send=ledger.intend, reconcile=ledger.reconcile
            )
        return ChimeClient(
            url,
            region=self.config.region,
            timeouts=self.config.transport.timeouts(),
            retry=self.config.transport.retry_policy(self.events),
            **options,
        )

    def sweep(
        self,
        client: ChimeClient,
        ledger: Ledger,
        *,
        listing: bool,
        reference: bool = False,
        last: bool = False,
    ) -> None:
        """Delete what the run created on ``client``'s target
        (:func:`chime_conformance.run.sweep.sweep`); keep the record of what is
        left. The ``last`` sweep (the controller's, after every worker's)
        remembers what it deleted: the workers' leftovers it took away."""
        from chime_conformance.run.sweep import sweep

        client.breaker.reset()  # a target that stopped answering may answer again: try
        self.events.reconciled.extend(ledger.reconciled)
        leftovers = sweep(
            client,
            ledger,
            self.config.run_id,
            listing=listing,
            deleted=self.swept if last else None,
            shard=shard_scope(self.config.shard),
        )
        self.events.left_behind([replace(left, reference=reference) for left in leftovers])

    def shrinks(self, item: pytest.Item) -> bool:
        """Whether ``item`` shrinks its failures: not once the operation it is
        about has been answered, in this process, only outside the API's shape
        (every example fails the same way, so shrinking only sends hundreds
        more requests); for a test of no one operation (the state machines,
        linked operations), not once any operation has: a sequence that
        reaches it fails there, however it is shrunk."""
        operation = item_operation(item)
        if operation is not None:
            return not self.answers.never_in_shape(operation)
        return not any(self.answers.never_in_shape(name) for name in list(self.answers.foreign))

    # -- the end of a worker ----------------------------------------------------------

    def hand_over(self) -> None:
        """A worker's share, as its one report for the controller."""
        from chime_conformance.run.worker_report import WorkerReport

        assert self.worker is not None
        records = list(self.results.records()) if self.results is not None else []
        WorkerReport(records, self.coverage, self.events, self.answers).dump(
            self.parts, self.worker
        )

    # -- the end of the run, on the controller -------------------------------------

    def gather(self) -> list[CheckRecord]:
        """Merge every worker's report into this process's share (once); drop
        the leftovers the controller's sweep deleted since."""
        if self.records is None:
            from chime_conformance.run.worker_report import WorkerReport, read_worker_reports

            mine = WorkerReport(
                list(self.results.records()) if self.results is not None else [],
                self.coverage,
                self.events,
                self.answers,
            )
            for report in read_worker_reports(self.parts):
                mine.merge(report)
            self.coverage = mine.coverage
            self.records = mine.records
            self.events.forget_deleted(self.swept)
        return self.records

    def conclude(self, session: pytest.Session) -> None:
        """Conclude the run, write its reports, and fail it if a baseline entry expired."""
        from chime_conformance.reporting import matrix
        from chime_conformance.run.conclusion import conclude

        records = self.gather()
        conclusion = conclude(
            self.answers,
            self.outcomes,
            records,
            matrix.cells(records),
            selected=self.config.operations,
            baseline=self.baseline,
            today=self.today,
        )
        self.conclusion = conclusion.with_report(self.write_reports(session.config, conclusion))
        if conclusion.expired and session.exitstatus == EXIT_OK:
            session.exitstatus = EXIT_FAILURES

    def write_reports(self, config: pytest.Config, conclusion: RunConclusion) -> Path | None:
        """compliance.html and results.json, if the run checked anything."""
        from chime_conformance.pytest_plugin import what_ran
        from chime_conformance.reporting import RunInfo, write_reports
        from chime_conformance.run.coverage import ConstraintCoverage

        records = self.gather()
        ran = records or self.coverage is not None or self.events.throttled or self.counts
        ended_early = self.guard.interrupts or self.guard.fatal is not None
        if not (ran or ended_early):
            return None  # no test ran (a run whose every test errored still reports)
        suite = self.config
        embedded = self.emulator.url + " (embedded emulator)" if self.emulator else None
        run = RunInfo(
            target_name=what_ran.target_name(suite.target_name, suite.target_url),
            scope=what_ran.run_scope(config, self),
            target_url=suite.target_url or embedded or "embedded emulator",
            run_id=suite.run_id,
            started=self.started,
            finished=datetime.datetime.now(datetime.UTC),
            seed=config.getoption("hypothesis_seed", None),
            reference_url=suite.reference_url,
            hypothesis_profile=self.profile,
            strict=suite.strict,
            pytest_outcomes=dict(self.counts),
            shard=suite.shard.to_json() if suite.shard is not None else None,
            tests=dict(sorted(self.tests.items())),
        )
        paths = write_reports(
            suite.report_dir,
            run,
            records,
            self.coverage or ConstraintCoverage(),
            events=self.events,
            conclusion=conclusion,
        )
        return paths.compliance_html

    def remove_parts(self) -> None:
        """The workers' reports, merged into the run's: dropped."""
        shutil.rmtree(self.parts, ignore_errors=True)


def suite_run(config: pytest.Config) -> SuiteRun:
    """This process's :class:`SuiteRun` (the suite runs)."""
    return config.stash[RUN_KEY]
