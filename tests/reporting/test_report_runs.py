"""Runs built by hand for the reporting tests, and the matrix and score rules.

``small_run`` is a realistic run with passes, failures on several operations,
a stateful failure, a hostile target's strings and constraint coverage with
gaps; ``full_run`` is a synthetic run of every operation and constraint, the
size of a nightly run. Other ``test_report_*`` modules import them.
"""

from __future__ import annotations

from chime_conformance.contract import constraints, spec
from chime_conformance.reporting.matrix import NOT_RUN, STATEFUL, cells, score
from chime_conformance.run.results import FAIL, NOT_APPLICABLE, PASS, CheckRecord
from tests.support.report_runs import (
    full_run,
    name_too_long,
    passing,
    small_run,
)


def test_a_cell_fails_when_any_record_failed_and_passes_when_one_passed() -> None:
    records = [
        passing("CreateAppInstance", "status_code_matches_spec"),
        name_too_long(),
        passing("CreateAppInstance", "invalid_input_rejected", "test_other"),
        CheckRecord("t", "TagResource", "invalid_input_rejected", NOT_APPLICABLE),
    ]
    states = {(c.operation, c.check): c.state for c in cells(records)}
    assert states[("CreateAppInstance", "status_code_matches_spec")] == PASS
    assert states[("CreateAppInstance", "invalid_input_rejected")] == FAIL
    assert states[("TagResource", "invalid_input_rejected")] == NOT_APPLICABLE
    assert states[("DeleteAccount", "invalid_input_rejected")] == NOT_RUN


def test_score_counts_passing_cells_among_cells_that_ran_to_a_verdict() -> None:
    records = [
        passing("CreateAppInstance", "status_code_matches_spec"),
        passing("ListAppInstances", "status_code_matches_spec"),
        passing("DeleteAccount", "status_code_matches_spec"),
        name_too_long(),
        CheckRecord("t", "TagResource", "status_code_matches_spec", NOT_APPLICABLE),
    ]
    result = score(cells(records))
    assert (result.passing_cells, result.failing_cells) == (3, 1)
    assert result.value == 0.75


def test_score_is_none_when_nothing_ran() -> None:
    assert score(cells([])).value is None


def test_every_operation_of_the_spec_is_a_row_and_the_stateful_checks_one_more() -> None:
    operations = {c.operation for c in cells(small_run().records)}
    assert operations == {op.name for op in spec.operations()} | {STATEFUL}
    assert len(spec.operations()) == 35


def test_the_full_run_is_the_size_of_a_nightly_run() -> None:
    run = full_run()
    failures = [r for r in run.records if r.outcome == FAIL]
    assert len(run.records) > 1000
    assert 30 <= len(failures) <= 100
    assert len(run.coverage.outcomes) == len(constraints.all_constraints())
