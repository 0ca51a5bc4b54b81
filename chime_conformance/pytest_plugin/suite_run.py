"""The run's conclusion, as pytest hooks: selection, causes, baseline, exit status.

Loaded by :mod:`chime_conformance.pytest_plugin.plugin` (``pytest_plugins``) and active only
when the conformance suite itself runs. It

- restricts the run to ``--operations NAME,…`` (operations or resource
  families); what is not selected is deselected, never failed;
- learns, on the worker that ran each test, which operation the test is about
  and why it did not pass when that is not a broken check (a prerequisite that
  could not be created, answers not in the API's shape, an error); a failure
  that ``--baseline`` lists becomes an expected failure (*known*);
- on the controller, shows each repeated cause once (the first test keeps its
  traceback, the others are summarised), concludes the run (the operations'
  implementation statuses and the honest score), writes the reports from
  ``pytest_sessionfinish`` (so ``-p no:terminal`` still writes them) and sets
  the exit status.

The pure logic lives in :mod:`chime_conformance.run.conclusion`,
:mod:`chime_conformance.run.implementation` and :mod:`chime_conformance.run.baseline`.
"""

from __future__ import annotations

import datetime
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from chime_conformance.pytest_plugin import plugin
from chime_conformance.run.conclusion import RunConclusion, conclude
from chime_conformance.run.implementation import (
    BLOCKED,
    IMPLEMENTED,
    NOT_IMPLEMENTED,
    NOT_RUN,
    AnswerLog,
    TestOutcome,
    foreign_response,
    prerequisite_cause,
)

STATE_KEY = pytest.StashKey["RunState"]()
ANSWERS_KEY = pytest.StashKey[AnswerLog]()
OPERATIONS_ENV = "CHIME_CONFORMANCE_OPERATIONS"
BASELINE_ENV = "CHIME_CONFORMANCE_BASELINE"
MAX_CAUSES = 8
EXIT_OK = 0
EXIT_FAILURES = 1


@dataclass
class RunState:
    """What the controller gathers over the run."""

    selected: frozenset[str] | None = None
    baseline: Any = None  # chime_conformance.run.baseline.Baseline
    today: datetime.date = field(default_factory=datetime.date.today)
    outcomes: list[TestOutcome] = field(default_factory=list)
    first_of_cause: dict[str, str] = field(default_factory=dict)
    summarised: int = 0
    known: list[tuple[str, str]] = field(default_factory=list)  # (test id, reason)
    conclusion: RunConclusion | None = None  # once concluded


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(plugin.GROUP)
    group.addoption(
        "--operations",
        dest="chime_operations",
        default=None,
        metavar="NAME,…",
        help="run only these operations or resource families (e.g. CreateAppInstance,"
        f"AppInstanceBots); the rest is reported as not run [env {OPERATIONS_ENV}]",
    )
    group.addoption(
        "--baseline",
        dest="chime_baseline",
        default=None,
        metavar="FILE",
        help="YAML of known failures: reported as known, they do not fail the run "
        f"[env {BASELINE_ENV}]",
    )


def suite_runs(config: pytest.Config) -> bool:
    return plugin.CONFIG_KEY in config.stash and (
        hasattr(config, "workerinput") or plugin.runs_the_suite(config)
    )


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if not suite_runs(config):
        return
    state = RunState(
        selected=selected_operations(
            config.getoption("chime_operations") or os.environ.get(OPERATIONS_ENV)
        ),
        baseline=_baseline(config.getoption("chime_baseline") or os.environ.get(BASELINE_ENV)),
    )
    config.stash[STATE_KEY] = state
    config.stash[ANSWERS_KEY] = AnswerLog()


def selected_operations(value: str | None) -> frozenset[str] | None:
    """The operations named, or of the families named; UsageError for an unknown name."""
    if not value:
        return None
    from chime_conformance.contract import spec

    operations = spec.operations()
    families: dict[str, set[str]] = {}
    for op in operations:
        families.setdefault(op.family.lower(), set()).add(op.name)
    by_name = {op.name.lower(): op.name for op in operations}
    chosen: set[str] = set()
    for name in (part.strip() for part in value.split(",")):
        if not name:
            continue
        if name.lower() in by_name:
            chosen.add(by_name[name.lower()])
        elif name.lower() in families:
            chosen |= families[name.lower()]
        else:
            known = sorted({op.family for op in operations})
            raise pytest.UsageError(
                f"--operations: {name!r} is neither an operation nor a resource family "
                f"of the API (families: {', '.join(known)})"
            )
    return frozenset(chosen)


def _baseline(value: str | None) -> Any:
    if not value:
        return None
    from chime_conformance.run.baseline import BaselineError, load_baseline

    try:
        return load_baseline(Path(value))
    except BaselineError as error:
        raise pytest.UsageError(str(error)) from None


def answer_log(config: pytest.Config) -> AnswerLog | None:
    return config.stash.get(ANSWERS_KEY, None)


def observe_answers(config: pytest.Config, ledger: Any) -> Any:
    """Make ``ledger.observe`` (the client's and schemathesis' observer) also
    tell this run's :class:`AnswerLog`; returns the ledger."""
    from chime_conformance.run.implementation import observing

    answers = answer_log(config)
    if answers is not None:
        ledger.observe = observing(ledger.observe, answers.observe)
    return ledger


# --------------------------------------------------------------------------
# Selection


def item_operation(item: pytest.Item) -> str | None:
    """The operation a test is about, when it is about one."""
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec is not None else {}
    if isinstance(params.get("operation"), str):
        return str(params["operation"])
    probe = params.get("probe")
    if probe is not None and hasattr(probe, "constraint"):
        return str(probe.constraint.operation)
    label = getattr(item, "operation_label", None)  # schemathesis' items: "POST /tags"
    if isinstance(label, str):
        return _operation_of_label(label)
    return None


def _operation_of_label(label: str) -> str | None:
    from chime_conformance.contract import spec

    method, _, path = label.partition(" ")
    found = [op.name for op in spec.operations() if op.method == method and op.path == path]
    return found[0] if len(found) == 1 else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash.get(STATE_KEY, None)
    if state is None or state.selected is None:
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        (keep if item_operation(item) in state.selected else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# --------------------------------------------------------------------------
# Each test: its operation, its cause, known or not (on the process that ran it)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    state = item.config.stash.get(STATE_KEY, None)
    if state is None:
        return report
    report.chime_operation = item_operation(item)
    if not report.failed:
        return report
    failing = _failing_records(item, report.chime_operation)
    report.chime_recorded = bool(failing)
    prerequisite = _prerequisite(call)
    if prerequisite is not None:
        report.chime_prerequisite, report.chime_cause = prerequisite
    else:
        report.chime_cause = _cause(call, failing)
    if report.when == "call" and failing and state.baseline is not None:
        _excuse_known(report, failing, state)
    return report


def _failing_records(item: pytest.Item, operation: str | None) -> list[Any]:
    log = item.config.stash.get(plugin.RESULTS_KEY, None)
    if log is None:
        return []
    # schemathesis' items share one node id: tell them apart by operation
    shared = getattr(item, "operation_label", None) is not None and operation is not None
    return [
        record
        for (test_id, record_operation, _), record in list(log.failures.items())
        if test_id == item.nodeid and (not shared or record_operation == operation)
    ]


def _exceptions(call: pytest.CallInfo[None]) -> list[BaseException]:
    if call.excinfo is None:
        return []
    pending, found = [call.excinfo.value], []
    while pending:
        error = pending.pop()
        found.append(error)
        pending.extend(getattr(error, "exceptions", ()))
    return found


def _prerequisite(call: pytest.CallInfo[None]) -> tuple[str, str] | None:
    for error in _exceptions(call):
        if type(error).__name__ == "PrerequisiteFailed":
            found = prerequisite_cause(str(error))
            if found is not None:
                return found
    return None


def _cause(call: pytest.CallInfo[None], failing: list[Any]) -> str | None:
    answers = Counter(
        kind for kind in (foreign_response(r.response) for r in failing) if kind is not None
    )
    if answers:
        return f"answered {answers.most_common(1)[0][0]}"
    if failing or call.excinfo is None:
        return None  # a broken contract: listed on its own
    error = call.excinfo.value
    if isinstance(error, AssertionError) and type(error).__name__ in (
        "ContractBroken",
        "CheckFailure",
    ):
        return None
    text = " ".join(str(error).split())[:160]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _excuse_known(report: pytest.TestReport, failing: list[Any], state: RunState) -> None:
    excuses = [
        state.baseline.excuse(r.operation, r.check, r.constraint, state.today) for r in failing
    ]
    if all(excuses):
        reasons = "; ".join(dict.fromkeys(e.reason for e in excuses))
        report.outcome = "skipped"
        report.wasxfail = f"known failure (baseline): {reasons}"
        report.chime_known = reasons  # type: ignore[attr-defined]


# --------------------------------------------------------------------------
# The controller: outcomes, and each cause shown once


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    state = _controller_state()
    if state is None:
        return
    ended = report.when == "call" or (report.when == "setup" and not report.passed)
    if report.when == "teardown" and report.failed:
        ended = True
    if not ended:
        return
    outcome = _outcome(report)
    state.outcomes.append(outcome)
    cause = outcome.cause
    if cause and report.failed:
        first = state.first_of_cause.setdefault(cause, outcome.test_id)
        if first != outcome.test_id:
            report.longrepr = f"{cause} (as in {first}; see the chime-conformance summary)"
            report.chime_summarised = True  # type: ignore[attr-defined]
            state.summarised += 1


def _outcome(report: pytest.TestReport) -> TestOutcome:
    if getattr(report, "chime_known", None):
        outcome = "known"
    elif report.failed:
        outcome = "failed" if report.when == "call" else "error"
    else:
        outcome = report.outcome
    # schemathesis' items share a node id; their domain names the operation
    domain = report.location[2] if report.location else ""
    parameters = domain.partition("[")[2]
    test_id = report.nodeid
    if parameters and not test_id.endswith("]"):
        test_id = f"{test_id}[{parameters}"
    return TestOutcome(
        test_id=test_id,
        operation=getattr(report, "chime_operation", None),
        outcome=outcome,
        cause=getattr(report, "chime_known", None) or getattr(report, "chime_cause", None),
        prerequisite=getattr(report, "chime_prerequisite", None),
        recorded_failure=bool(getattr(report, "chime_recorded", False)),
    )


_CONTROLLER: list[pytest.Config] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    if STATE_KEY in session.config.stash and not hasattr(session.config, "workerinput"):
        _CONTROLLER[:] = [session.config]


def _controller_state() -> RunState | None:
    return _CONTROLLER[0].stash.get(STATE_KEY, None) if _CONTROLLER else None


# --------------------------------------------------------------------------
# End of the run


def _parts(config: pytest.Config) -> Path:
    return plugin._parts_dir(config)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    answers = answer_log(config)
    if answers is None:
        return
    if hasattr(config, "workerinput"):
        worker = config.workerinput["workerid"]
        answers.dump(_parts(config) / f"answers-{worker}.json")
        return
    for part in sorted(_parts(config).glob("answers-*.json")):
        answers.merge(AnswerLog.load(part))
    state = config.stash[STATE_KEY]
    state.conclusion = conclude_and_report(config, state, answers)
    if state.conclusion.expired and session.exitstatus == EXIT_OK:
        session.exitstatus = EXIT_FAILURES


def conclude_and_report(
    config: pytest.Config, state: RunState, answers: AnswerLog
) -> RunConclusion:
    from chime_conformance.reporting import matrix

    records = plugin.all_records(config)
    conclusion = conclude(
        answers,
        state.outcomes,
        records,
        matrix.cells(records),
        selected=state.selected,
        baseline=state.baseline,
        today=state.today,
    )
    report = plugin.write_run_reports(
        config, plugin.merged_coverage(config), conclusion=conclusion, records=records
    )
    return conclusion.with_report(report)


# --------------------------------------------------------------------------
# The terminal


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> Any:
    """Around pytest's own summary: tests whose cause is shown elsewhere are left
    out of its ERRORS, FAILURES and short summary (not out of its counts); then
    the run's conclusion, last, where the eye lands."""
    state = config.stash.get(STATE_KEY, None)
    if state is None or hasattr(config, "workerinput") or state.conclusion is None:
        return (yield)
    stats = terminalreporter.stats
    hidden = {key: stats[key] for key in ("failed", "error") if stats.get(key)}
    for key, reports in hidden.items():
        stats[key] = [r for r in reports if not getattr(r, "chime_summarised", False)]
    try:
        return (yield)
    finally:
        stats.update(hidden)
        write_conclusion(terminalreporter, state.conclusion)


def write_conclusion(terminalreporter: Any, summary: RunConclusion) -> None:
    write = terminalreporter.write_line
    terminalreporter.write_sep("=", "chime-conformance verdict")
    by_status: dict[str, list[Any]] = {}
    for status in summary.statuses:
        by_status.setdefault(status.status, []).append(status)
    not_run = len([s for s in by_status.get(NOT_RUN, []) if "not selected" not in s.evidence])
    suffix = f" ({not_run} not run)" if not_run else ""
    write(summary.score.headline.replace("score", "compliance score", 1) + suffix)
    for kind, title in ((NOT_IMPLEMENTED, "not implemented"), (BLOCKED, "blocked")):
        listed = by_status.get(kind, [])
        if listed:
            names = ", ".join(v.operation for v in listed)
            write(f"{title} ({len(listed)}): {names}")
            for evidence, count in Counter(v.evidence for v in listed).most_common(3):
                write(f"  {count} × {evidence}")
    if summary.causes:
        write("why tests did not pass (each cause once; details in compliance.html):")
        for cause in summary.causes[:MAX_CAUSES]:
            write(f"  {cause.tests} tests: {cause.cause}  (e.g. {cause.examples[0]})")
        if len(summary.causes) > MAX_CAUSES:
            write(f"  … and {len(summary.causes) - MAX_CAUSES} more causes (compliance.html)")
    _write_baseline(write, summary)
    if summary.report is not None:
        write(f"compliance report: {summary.report}")


def _write_baseline(write: Any, summary: RunConclusion) -> None:
    if summary.baseline is None:
        return
    write(
        f"baseline {summary.baseline}: {len(summary.known)} known failures, "
        f"{len(summary.fixed)} fixed, {len(summary.expired)} expired"
    )
    for entry in summary.fixed:
        write(f"  fixed (delete the entry): {entry.label()}")
    for entry in summary.expired:
        write(f"  EXPIRED on {entry.until} (fails the run): {entry.label()}: {entry.reason}")


__all__ = ["IMPLEMENTED", "item_operation", "observe_answers", "selected_operations"]
