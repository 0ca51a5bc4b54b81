"""What became of each test, read off pytest's reports.

On the process that ran a test (:func:`annotate`): which operation it is
about, and why it did not pass when that is not a broken check (a
prerequisite that could not be created, answers not in the API's shape, an
error); a failure that ``--baseline`` lists becomes an expected failure
(*known*). On the controller (:func:`test_outcome`, :func:`summarise`): one
:class:`~chime_conformance.run.implementation.TestOutcome` per test, and each
repeated cause shown once (the first test keeps its traceback, the others are
summarised). The annotations travel from xdist workers to the controller on
the report itself (``report.chime_*``).
"""

from __future__ import annotations

import datetime
from collections import Counter

import pytest

from chime_conformance.pytest_plugin.collection import item_operation
from chime_conformance.run.baseline import Baseline
from chime_conformance.run.implementation import (
    TestOutcome,
    foreign_response,
    prerequisite_cause,
)
from chime_conformance.run.results import CheckRecord, ResultLog
from chime_conformance.run.sharding import test_id_of


def annotate(
    item: pytest.Item,
    call: pytest.CallInfo[None],
    report: pytest.TestReport,
    results: ResultLog | None,
    baseline: Baseline | None,
    today: datetime.date,
) -> None:
    """Put the test's operation, and the cause of a failure, on its report."""
    operation = item_operation(item)
    report.chime_operation = operation  # type: ignore[attr-defined]
    if not report.failed:
        return
    failing = _failing_records(item, operation, results)
    report.chime_recorded = bool(failing)  # type: ignore[attr-defined]
    prerequisite = _prerequisite(call)
    if prerequisite is not None:
        report.chime_prerequisite, report.chime_cause = prerequisite  # type: ignore[attr-defined]
    else:
        report.chime_cause = _cause(call, failing)  # type: ignore[attr-defined]
    if report.when == "call" and failing and baseline is not None:
        _excuse_known(report, failing, baseline, today)


def _failing_records(
    item: pytest.Item, operation: str | None, results: ResultLog | None
) -> list[CheckRecord]:
    if results is None:
        return []
    # schemathesis' items share one node id: tell them apart by operation
    shared = getattr(item, "operation_label", None) is not None and operation is not None
    return [
        record
        for (test_id, record_operation, _), record in list(results.failures.items())
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


def _cause(call: pytest.CallInfo[None], failing: list[CheckRecord]) -> str | None:
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


def _excuse_known(
    report: pytest.TestReport,
    failing: list[CheckRecord],
    baseline: Baseline,
    today: datetime.date,
) -> None:
    excuses = [baseline.excuse(r.operation, r.check, r.constraint, today) for r in failing]
    if all(excuses):
        reasons = "; ".join(dict.fromkeys(e.reason for e in excuses if e is not None))
        report.outcome = "skipped"
        report.wasxfail = f"known failure (baseline): {reasons}"
        report.chime_known = reasons  # type: ignore[attr-defined]


# --------------------------------------------------------------------------
# On the controller


def ended(report: pytest.TestReport) -> bool:
    """Whether ``report`` is the one that decides the test's outcome."""
    if report.when == "call" or (report.when == "setup" and not report.passed):
        return True
    return report.when == "teardown" and report.failed


def test_outcome(report: pytest.TestReport) -> TestOutcome:
    if getattr(report, "chime_known", None):
        outcome = "known"
    elif report.failed:
        outcome = "failed" if report.when == "call" else "error"
    else:
        outcome = report.outcome
    return TestOutcome(
        test_id=test_id_of_report(report),
        operation=getattr(report, "chime_operation", None),
        outcome=outcome,
        cause=getattr(report, "chime_known", None) or getattr(report, "chime_cause", None),
        prerequisite=getattr(report, "chime_prerequisite", None),
        recorded_failure=bool(getattr(report, "chime_recorded", False)),
    )


test_outcome.__test__ = False  # type: ignore[attr-defined]  # not a test


def test_id_of_report(report: pytest.TestReport) -> str:
    """The test's id (schemathesis' items share a node id; their domain names
    the operation): :func:`chime_conformance.run.sharding.test_id_of`."""
    return test_id_of(report.nodeid, report.location[2] if report.location else "")


test_id_of_report.__test__ = False  # type: ignore[attr-defined]  # not a test


def summarise(
    report: pytest.TestReport, outcome: TestOutcome, first_of_cause: dict[str, str]
) -> bool:
    """Show a repeated cause once: after its first test, a failing report's
    text becomes a pointer to it. Returns whether ``report`` was summarised."""
    cause = outcome.cause
    if not (cause and report.failed):
        return False
    first = first_of_cause.setdefault(cause, outcome.test_id)
    if first == outcome.test_id:
        return False
    report.longrepr = f"{cause} (as in {first}; see the chime-conformance summary)"
    report.chime_summarised = True  # type: ignore[attr-defined]
    return True


def reported_outcome(report: pytest.TestReport) -> str | None:
    """pytest's outcome of a test from one of its reports (the report's
    RunInfo keeps one per test: what a merge of shards rebuilds a run from):
    a failed setup or teardown is an error, a skip at setup a skip, else the
    call's outcome (xfail-aware); None for a phase that decides nothing."""
    if report.when != "call":
        if report.failed:
            return "error"
        if report.skipped and report.when == "setup":
            return "skipped"
        return None
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    return str(report.outcome)


def count(report: pytest.TestReport, counts: Counter[str]) -> None:
    """Count tests by outcome, as the report's ``pytest_outcomes`` shows them."""
    if report.when == "call" or (report.when == "setup" and not report.passed):
        outcome = "error" if report.when == "setup" and report.failed else report.outcome
        counts[outcome] += 1


__all__ = [
    "annotate",
    "count",
    "ended",
    "reported_outcome",
    "summarise",
    "test_id_of_report",
    "test_outcome",
]
