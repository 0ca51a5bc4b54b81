"""What changed between two runs' results.json: the nightly question.

A *regression* is an (operation, check) cell that passed and now fails, or a
constraint that was covered and now is not. *Fixed* is the reverse. Cells
that fail now but did not run (or did not apply) before are *new failures*:
shown, but not regressions, since nothing that worked broke. Constraints are
compared only where both runs' catalogues list them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chime_conformance.reporting.matrix import NOT_RUN
from chime_conformance.run.results import FAIL, PASS

COVERED = "covered"
NOT_COVERED = "not covered"


@dataclass(frozen=True)
class Change:
    """One subject whose state changed: a cell ``Operation × check`` or a constraint id."""

    subject: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.old} → {self.new}"


@dataclass
class RunDiff:
    regressed: list[Change] = field(default_factory=list)
    fixed: list[Change] = field(default_factory=list)
    new_failures: list[Change] = field(default_factory=list)
    no_longer_run: list[Change] = field(default_factory=list)
    other_changes: list[Change] = field(default_factory=list)
    new_operations: list[str] = field(default_factory=list)
    unchanged: int = 0
    old_score: float | None = None
    new_score: float | None = None

    @property
    def has_regressions(self) -> bool:
        return bool(self.regressed)

    def to_json(self) -> dict[str, Any]:
        changes = ("regressed", "fixed", "new_failures", "no_longer_run", "other_changes")
        data: dict[str, Any] = {
            name: [{"subject": c.subject, "old": c.old, "new": c.new} for c in getattr(self, name)]
            for name in changes
        }
        data.update(
            new_operations=self.new_operations,
            unchanged=self.unchanged,
            old_score=self.old_score,
            new_score=self.new_score,
        )
        return data


def diff_results(old: Mapping[str, Any], new: Mapping[str, Any]) -> RunDiff:
    """Compare two results documents (already validated against the schema)."""
    result = RunDiff(old_score=old["score"]["value"], new_score=new["score"]["value"])
    old_cells, new_cells = _cell_states(old), _cell_states(new)
    for key in [*old_cells, *(k for k in new_cells if k not in old_cells)]:
        _classify_cell(result, key, old_cells.get(key, NOT_RUN), new_cells.get(key, NOT_RUN))
    _compare_constraints(result, _coverage(old), _coverage(new))
    result.new_operations = sorted(_operations_run(new) - _operations_run(old))
    return result


def _cell_states(document: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    return {(c["operation"], c["check"]): c["state"] for c in document["matrix"]}


def _classify_cell(result: RunDiff, key: tuple[str, str], old: str, new: str) -> None:
    change = Change(f"{key[0]} × {key[1]}", old, new)
    if old == new:
        result.unchanged += 1
    elif old == PASS and new == FAIL:
        result.regressed.append(change)
    elif old == FAIL and new == PASS:
        result.fixed.append(change)
    elif new == FAIL:
        result.new_failures.append(change)
    elif new == NOT_RUN:
        result.no_longer_run.append(change)
    else:
        result.other_changes.append(change)


def _coverage(document: Mapping[str, Any]) -> dict[str, bool]:
    rows = document["constraint_coverage"]["constraints"]
    return {row["id"]: row["covered"] for row in rows if row["in_catalogue"]}


def _compare_constraints(result: RunDiff, old: Mapping[str, bool], new: Mapping[str, bool]) -> None:
    for constraint_id in (i for i in old if i in new):
        before, after = old[constraint_id], new[constraint_id]
        change = Change(f"constraint {constraint_id}", _covered(before), _covered(after))
        if before == after:
            result.unchanged += 1
        elif before:
            result.regressed.append(change)
        else:
            result.fixed.append(change)


def _covered(flag: bool) -> str:
    return COVERED if flag else NOT_COVERED


def _operations_run(document: Mapping[str, Any]) -> set[str]:
    return {c["operation"] for c in document["matrix"] if c["state"] != NOT_RUN}


def format_diff(result: RunDiff) -> str:
    """The diff as text for a terminal or a CI log."""
    sections = [
        ("Regressed", result.regressed),
        ("Fixed", result.fixed),
        ("New failures (did not run or apply before)", result.new_failures),
        ("No longer run", result.no_longer_run),
        ("Other changes", result.other_changes),
    ]
    lines: list[str] = []
    for title, changes in sections:
        if changes:
            lines.append(f"{title} ({len(changes)}):")
            lines.extend(f"  {change}" for change in changes)
    if result.new_operations:
        lines.append(
            f"New operations ({len(result.new_operations)}): {', '.join(result.new_operations)}"
        )
    lines.append(_summary_line(result))
    return "\n".join(lines)


def _summary_line(result: RunDiff) -> str:
    return (
        f"{len(result.regressed)} regressed, {len(result.fixed)} fixed, "
        f"{len(result.new_failures)} new failures, {result.unchanged} unchanged, "
        f"{len(result.new_operations)} new operations; "
        f"score {_percent(result.old_score)} → {_percent(result.new_score)}"
    )


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"
