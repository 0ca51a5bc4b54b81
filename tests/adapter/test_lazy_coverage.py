"""schemathesis' example and coverage cases, deferred to run time, are the same
cases it attaches eagerly at collection: faster start-up, nothing tested less."""

from __future__ import annotations

from typing import Any

import pytest
from schemathesis.core.marks import Mark
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.hypothesis import builder

from chime_conformance.contract import spec
from chime_conformance.pytest_plugin import _library_internals as _lazy_coverage
from chime_conformance.pytest_plugin._library_internals import (
    explicit_examples,
    schemathesis_operation_test,
)
from conformance._schemathesis_harness import load_schema

# one operation with path labels, one with a body and tags, one of the accounts API
LABELS = {
    spec.IDENTITY: ("GET /app-instances/{appInstanceArn}", "POST /app-instances"),
    spec.ACCOUNTS: ("POST /accounts",),
}


@pytest.fixture
def restore_schemathesis(monkeypatch: pytest.MonkeyPatch) -> None:
    """schemathesis as shipped (even if the suite's import patched it), and
    the patch undone after the test, whatever it did."""
    for name in _lazy_coverage._ATTACHERS:
        eager = _lazy_coverage._EAGER.get(name, getattr(builder, name))
        monkeypatch.setattr(builder, name, eager)
    monkeypatch.setattr(_lazy_coverage, "_APPLIED", [])


def _operations() -> list[tuple[Any, Any]]:
    found = []
    for api, labels in LABELS.items():
        schema = load_schema(api)
        by_label = {result.ok().label: result.ok() for result in schema.get_all_operations()}
        found.extend((schema, by_label[label]) for label in labels)
    return found


def _build(schema: Any, operation: Any) -> Any:
    def test(case: Any) -> None:
        pass

    return schemathesis_operation_test(
        config=schema.config,
        operation=operation,
        test_func=test,
        given_kwargs={},
        feedback=FeedbackSources(),
    )


def _cases(test: Any) -> list[tuple[Any, ...]]:
    """What Hypothesis runs, in its order: the explicit examples reversed."""
    cases = [example.kwargs["case"] for example in reversed(explicit_examples(test))]
    return [
        (c.method, c.path, repr(c.path_parameters), repr(c.query), repr(c.body), repr(c.headers))
        for c in cases
    ]


def test_deferred_cases_are_the_eager_ones(restore_schemathesis: None) -> None:
    operations = _operations()
    eager = [_cases(_build(schema, op)) for schema, op in operations]
    assert _lazy_coverage.defer_coverage_cases()
    deferred = [_cases(_build(schema, op)) for schema, op in operations]
    assert all(eager), "every operation has example and coverage cases"
    assert deferred == eager


def test_building_a_test_computes_no_case_until_it_runs(restore_schemathesis: None) -> None:
    assert _lazy_coverage.defer_coverage_cases()
    schema, op = _operations()[0]
    examples = explicit_examples(_build(schema, op))
    assert isinstance(examples, _lazy_coverage.DeferredExamples)
    assert examples._pending is not None  # nothing computed yet
    assert len(examples) > 0
    assert examples._pending is None


def test_marks_set_while_building_cases_reach_the_test() -> None:
    mark = Mark[str](attr_name="chime_conformance_probe")

    def attach(holder: Any) -> None:
        mark.set(holder, "set while building")

    def test() -> None:
        pass

    examples = _lazy_coverage.DeferredExamples([], attach, test)
    assert mark.get(test) is None
    list(examples)
    assert mark.get(test) == "set while building"


def test_a_changed_schemathesis_is_left_eager(
    restore_schemathesis: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def add_coverage(test: Any, something_else: Any) -> Any:
        return test

    monkeypatch.setattr(builder, "add_coverage", add_coverage)
    assert _lazy_coverage.defer_coverage_cases() is False
    assert builder.add_coverage is add_coverage
