"""The compliance matrix: one cell per (operation, check), and the score.

A cell's state sums up every record of that operation and check:
``fail`` if any record failed, else ``pass`` if any passed, else
``not_applicable`` if the check was applied but did not apply, else
``not_run``. The score is read off the cells (see :data:`SCORE_DEFINITION`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from chime_conformance.contract import spec
from chime_conformance.run.results import FAIL, NOT_APPLICABLE, PASS, CheckRecord

NOT_RUN = "not_run"
CELL_STATES = (PASS, FAIL, NOT_APPLICABLE, NOT_RUN)
STATEFUL = "(stateful)"  # the operation name of machine-level checks

SCORE_DEFINITION = (
    "The compliance score is the share of (operation, check) cells that pass "
    "among the cells that ran to a verdict: passing cells / (passing cells + "
    "failing cells). A cell fails when any test's check on that operation "
    "failed, and passes when at least one passed and none failed. Cells whose "
    "check did not apply, or that no test ran, do not count."
)


@dataclass(frozen=True)
class OperationRow:
    """One row of the matrix: an operation of the spec, or the stateful checks."""

    name: str
    api: str
    family: str


@dataclass(frozen=True)
class Cell:
    operation: str
    check: str
    state: str
    passed: int
    failed: int
    not_applicable: int


@dataclass(frozen=True)
class Score:
    passing_cells: int
    failing_cells: int

    @property
    def value(self) -> float | None:
        """The score in [0, 1], or None when no cell ran to a verdict."""
        ran = self.passing_cells + self.failing_cells
        return self.passing_cells / ran if ran else None


@dataclass(frozen=True)
class FamilyPassRate:
    family: str
    passing_cells: int
    cells_run: int

    @property
    def pass_rate(self) -> float | None:
        return self.passing_cells / self.cells_run if self.cells_run else None


def operation_rows(records: Iterable[CheckRecord]) -> list[OperationRow]:
    """The spec's operations in document order, then any other operation the
    records name (stateful checks, or names the spec does not know)."""
    rows = [OperationRow(op.name, op.api, op.family) for op in spec.operations()]
    known = {row.name for row in rows}
    for name in sorted({r.operation for r in records} - known):
        family = STATEFUL if name == STATEFUL else "(unknown operation)"
        rows.append(OperationRow(name, "", family))
    return rows


def check_names(records: Iterable[CheckRecord]) -> list[str]:
    """Every check that any record names, sorted."""
    return sorted({r.check for r in records})


def check_declarations(records: Iterable[CheckRecord]) -> dict[str, dict[str, str]]:
    """The registry's declaration (rule, description, kind) of every column
    of :func:`check_names` (a name the registry does not know, from an
    older run, has none)."""
    from chime_conformance.checks import REGISTRY

    return {
        name: {k: v for k, v in REGISTRY[name].to_json().items() if k != "name"}
        for name in check_names(records)
        if name in REGISTRY
    }


def cells(records: Sequence[CheckRecord]) -> list[Cell]:
    """Every (operation, check) cell, rows in :func:`operation_rows` order."""
    counts = Counter((r.operation, r.check, r.outcome) for r in records)
    return [
        _cell(row.name, check, counts)
        for row in operation_rows(records)
        for check in check_names(records)
    ]


def _cell(operation: str, check: str, counts: Counter[tuple[str, str, str]]) -> Cell:
    passed, failed, not_applicable = (
        counts[(operation, check, outcome)] for outcome in (PASS, FAIL, NOT_APPLICABLE)
    )
    return Cell(
        operation, check, _state(passed, failed, not_applicable), passed, failed, not_applicable
    )


def _state(passed: int, failed: int, not_applicable: int) -> str:
    if failed:
        return FAIL
    if passed:
        return PASS
    return NOT_APPLICABLE if not_applicable else NOT_RUN


def score(matrix: Iterable[Cell]) -> Score:
    states = Counter(cell.state for cell in matrix)
    return Score(passing_cells=states[PASS], failing_cells=states[FAIL])


def family_pass_rates(rows: Sequence[OperationRow], matrix: Iterable[Cell]) -> list[FamilyPassRate]:
    """Passing cells among cells run, per resource family, in row order."""
    family_of = {row.name: row.family for row in rows}
    passing: Counter[str] = Counter()
    run: Counter[str] = Counter()
    for cell in matrix:
        if cell.state in (PASS, FAIL):
            run[family_of[cell.operation]] += 1
            passing[family_of[cell.operation]] += cell.state == PASS
    families = dict.fromkeys(row.family for row in rows)
    return [FamilyPassRate(family, passing[family], run[family]) for family in families]
