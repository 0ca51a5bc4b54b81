"""results.json: everything the report shows, machine-readable.

The document is the one data model of a report: the HTML is rendered from it
and ``diff`` compares two of them. Its shape is documented, and checked, by
``results.schema.json`` next to this module.

Format 2 keeps a record, with its exchange and reproducers, for every check
that failed; the checks that passed or did not apply are counted per
(operation, check) cell in ``matrix`` (a clean ``ci`` run's 16,000 pass
records made format 1 documents 7.7 MB). :func:`document_records` gives them
back as records, for a merge of shards.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import jsonschema_rs

from chime_conformance.reporting import constraint_table, matrix, promise_table
from chime_conformance.reporting.run_info import RunInfo
from chime_conformance.reporting.run_scope import scope_of
from chime_conformance.run.coverage import ConstraintCoverage
from chime_conformance.run.events import RunEvents
from chime_conformance.run.results import FAIL, NOT_APPLICABLE, PASS, CheckRecord

if TYPE_CHECKING:  # the spec is read only when a conclusion is written
    from chime_conformance.run.conclusion import RunConclusion

SCHEMA_PATH = Path(__file__).with_name("results.schema.json")
FORMAT_VERSION = 2


class UnreadableResults(ValueError):
    """A results.json that cannot be read or does not match the schema, in one sentence."""


def build_results_document(
    run: RunInfo,
    records: Sequence[CheckRecord],
    coverage: ConstraintCoverage,
    *,
    events: RunEvents | None = None,
    conclusion: RunConclusion | None = None,
    promises: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The results.json document of one run (with ``events``: its retries,
    throttled tests, leftovers and state-machine rule counts too; with the
    run's ``conclusion``, the score is the honest one and the operations
    carry their implementation statuses; ``promises``: the promise table, when
    the records cannot give it, as a merge's)."""
    rows = matrix.operation_rows(records)
    cells = matrix.cells(records)
    score = matrix.score(cells)
    coverage_rows = constraint_table.constraint_rows(coverage)
    document = {
        "format_version": FORMAT_VERSION,
        "tool": {"name": "chime-conformance", "version": _tool_version()},
        "run": run.to_json(),
        "score": {
            "partial": bool(run.scope is not None and run.scope.partial),
            "value": score.value,
            "passing_cells": score.passing_cells,
            "failing_cells": score.failing_cells,
            "definition": matrix.SCORE_DEFINITION,
        },
        "operations": [{"name": r.name, "api": r.api, "family": r.family} for r in rows],
        "checks": matrix.check_names(records),
        "check_declarations": matrix.check_declarations(records),
        "matrix": [_cell_json(cell) for cell in cells],
        "families": [_family_json(rate) for rate in matrix.family_pass_rates(rows, cells)],
        "constraint_coverage": {
            "covered": sum(row.covered for row in coverage_rows if row.in_catalogue),
            "total": sum(row.in_catalogue for row in coverage_rows),
            "constraints": [row.to_json() for row in coverage_rows],
        },
        "promises": promises if promises is not None else promise_table.promise_table(records),
        "records": [_json_ready(r.to_json()) for r in records if r.outcome == FAIL],
        **(events.to_json() if events is not None else {}),
    }
    if conclusion is not None:
        with_conclusion(document, conclusion)
    return document


def with_conclusion(document: dict[str, Any], conclusion: RunConclusion) -> None:
    """Put the run's conclusion into ``document`` (its format's ``verdict``
    members): the honest score, each operation's implementation status, the
    repeated causes and the baseline's findings."""
    from chime_conformance.run.implementation import SCORE_DEFINITION

    honest = conclusion.score
    document["score"].update(
        value=honest.value,
        passing_cells=honest.passing_cells,
        failing_cells=honest.failing_cells,
        definition=SCORE_DEFINITION,
        errored_tests=honest.errored_tests,
        excluded_cells=honest.excluded_cells,
        operations_implemented=honest.implemented,
        operations_selected=honest.selected,
        operations_total=honest.total,
        headline=honest.headline,
    )
    by_name = {s.operation: s for s in conclusion.statuses}
    for operation in document["operations"]:
        found = by_name.get(operation["name"])
        if found is not None:
            operation["verdict"] = found.status
            operation["evidence"] = found.evidence
    document["verdict"] = _json_ready(conclusion.to_json())
    scope = scope_of(document)
    if scope is not None:
        document["score"]["headline"] = scope.label(honest.headline)


def _json_ready(value: Any) -> Any:
    """``value`` as JSON will hold it: bytes (a body the client kept raw)
    become text, anything else unknown its ``str``."""
    return json.loads(json.dumps(value, default=_as_json_value))


def _as_json_value(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return str(value)


def _cell_json(cell: matrix.Cell) -> dict[str, Any]:
    return {
        "operation": cell.operation,
        "check": cell.check,
        "state": cell.state,
        "passed": cell.passed,
        "failed": cell.failed,
        "not_applicable": cell.not_applicable,
    }


def _family_json(rate: matrix.FamilyPassRate) -> dict[str, Any]:
    return {
        "family": rate.family,
        "passing_cells": rate.passing_cells,
        "cells_run": rate.cells_run,
        "pass_rate": rate.pass_rate,
    }


def _tool_version() -> str:
    try:
        return metadata.version("chime-conformance")
    except metadata.PackageNotFoundError:
        return "unknown"


@functools.cache
def results_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@functools.cache
def _compiled_results_schema() -> Any:
    return jsonschema_rs.Draft202012Validator(results_schema())


def validate_results_document(document: Any) -> None:
    """Raise :class:`UnreadableResults` naming the first place ``document``
    departs from the schema.

    The schema is compiled once by jsonschema-rs, which decides whether the
    document is valid (a full run's document: about 20 ms, where jsonschema's
    walk took 1.5 s at the end of every run); only a document it refuses is
    walked again by jsonschema, for the message of its best-matching error.
    tests/reporting/test_report_results_json.py holds the two to the same verdicts."""
    if _compiled_results_schema().is_valid(document):
        return
    validator = jsonschema.Draft202012Validator(results_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is None:  # never seen: the two validators disagree; say so, do not pass it
        raise UnreadableResults(
            "does not match results.schema.json (jsonschema-rs refuses it, "
            "jsonschema accepts it: please report this document)"
        )
    where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
    raise UnreadableResults(f"does not match results.schema.json at {where}: {error.message}")


def write_results_document(document: dict[str, Any], path: Path) -> None:
    """Compact JSON, one top-level key a line (``jq`` shows it indented)."""
    lines = [
        f"{json.dumps(key)}:{json.dumps(value, ensure_ascii=False, separators=(',', ':'))}"
        for key, value in document.items()
    ]
    path.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")


def document_records(document: Mapping[str, Any]) -> list[CheckRecord]:
    """The check records a results document stands for: each failing record
    as written, and one record per pass or not-applicable its matrix counts
    (without a test id: format 2 counts them per cell)."""
    records = [CheckRecord.from_json(dict(r)) for r in document["records"] if r["outcome"] == FAIL]
    if document.get("format_version", 1) < 2:  # format 1 listed every record
        records += [
            CheckRecord.from_json(dict(r)) for r in document["records"] if r["outcome"] != FAIL
        ]
        return records
    for cell in document["matrix"]:
        for outcome, count in ((PASS, cell["passed"]), (NOT_APPLICABLE, cell["not_applicable"])):
            if count:
                records += [CheckRecord("", cell["operation"], cell["check"], outcome)] * count
    return records


def load_results_document(path: Path) -> dict[str, Any]:
    """A results.json, checked against the schema; :class:`UnreadableResults` if it is not one."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UnreadableResults(f"cannot read it: {error.strerror or error}") from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UnreadableResults(f"is not JSON: {error}") from error
    validate_results_document(document)
    return dict(document)
