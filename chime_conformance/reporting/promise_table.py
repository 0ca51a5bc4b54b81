"""The promise × operation table: was each promise checked on each operation?

A promise (``chime_conformance.checks.promises``) applies to a class of operations the
spec defines; for each pair the table says ``checked`` (with the outcome: some
record of the promise's checks on that operation, from a test that applies
the promise, passed or failed), ``not_applicable`` (the operation is not in the
promise's class) or ``not_reached`` (it is, and the run never checked it: a
promise test did not run, or stopped before that check). A run's table is
built from its records; a merged run's from its shards' tables (results.json
keeps no test id of a passing record), a cell checked in any shard being
checked. It is ``results.json``'s ``promises`` member, and a section of
``compliance.html``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from chime_conformance.checks import promises
from chime_conformance.contract import spec
from chime_conformance.run.results import FAIL, PASS, CheckRecord

__all__ = [
    "CHECKED",
    "NOT_APPLICABLE",
    "NOT_REACHED",
    "STATES",
    "merged_promise_table",
    "promise_table",
    "unreached",
]

CHECKED, NOT_APPLICABLE, NOT_REACHED = "checked", "not_applicable", "not_reached"
STATES = (CHECKED, NOT_APPLICABLE, NOT_REACHED)


def _outcomes(
    records: Iterable[CheckRecord], stated: Sequence[promises.Promise]
) -> dict[tuple[str, str], str]:
    """(promise id, operation) -> the outcome of its records: fail if any failed."""
    found: dict[tuple[str, str], str] = {}
    by_check: dict[str, list[promises.Promise]] = {}
    for promise in stated:
        for declared in promise.checks:
            by_check.setdefault(declared.name, []).append(promise)
    for record in records:
        if record.outcome not in (PASS, FAIL):
            continue
        for promise in by_check.get(record.check, ()):
            if promise.proven_by(record.test_id):
                key = (promise.id, record.operation)
                if found.get(key) != FAIL:
                    found[key] = record.outcome
    return found


def promise_table(
    records: Iterable[CheckRecord], stated: Sequence[promises.Promise] = promises.PROMISES
) -> dict[str, Any]:
    """``results.json``'s ``promises``: the promises, the operations, and one
    cell per pair."""
    outcomes = _outcomes(records, stated)
    operations = [op.name for op in spec.operations()]
    cells = []
    for promise in stated:
        applies = set(promise.operations())
        for operation in operations:
            outcome = outcomes.get((promise.id, operation))
            if operation not in applies:
                state = NOT_APPLICABLE
            else:
                state = CHECKED if outcome is not None else NOT_REACHED
            cells.append(
                {
                    "promise": promise.id,
                    "operation": operation,
                    "state": state,
                    "outcome": outcome if state == CHECKED else None,
                }
            )
    return {
        "promises": [promise.to_json() for promise in stated],
        "operations": operations,
        "cells": cells,
    }


def unreached(table: dict[str, Any]) -> list[tuple[str, str]]:
    """The (promise, operation) pairs a promise applies to that the run never checked."""
    return [(c["promise"], c["operation"]) for c in table["cells"] if c["state"] == NOT_REACHED]


def merged_promise_table(
    tables: Iterable[dict[str, Any] | None], stated: Sequence[promises.Promise] = promises.PROMISES
) -> dict[str, Any]:
    """The table of a run made of shards: a cell is checked if a shard checked
    it (failed if a shard's failed), whatever the others reached."""
    table = promise_table((), stated)
    found: dict[tuple[str, str], str] = {}
    for shard in tables:
        for cell in (shard or {}).get("cells", ()):
            if cell["state"] == CHECKED:
                key = (cell["promise"], cell["operation"])
                if found.get(key) != FAIL:
                    found[key] = cell["outcome"]
    for cell in table["cells"]:
        outcome = found.get((cell["promise"], cell["operation"]))
        if outcome is not None and cell["state"] != NOT_APPLICABLE:
            cell.update(state=CHECKED, outcome=outcome)
    return table
