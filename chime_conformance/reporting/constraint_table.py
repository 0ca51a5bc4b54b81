"""The constraint-coverage table: every constraint of the catalogue, and how
its probes went on each side.

A side is ``held`` when its probes behaved as the contract says (a value just
inside accepted, one just outside rejected), ``broken`` when a probe did not,
and ``not_probed`` when no probe was recorded. A constraint is covered when
both sides held. Constraints that cannot be broken alone (``shadowed_by``)
are listed with the reason the suite cannot cover them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chime_conformance.contract import constraints
from chime_conformance.run.coverage import INSIDE, OUTSIDE, ConstraintCoverage

HELD = "held"
BROKEN = "broken"
NOT_PROBED = "not_probed"
SIDE_STATES = (HELD, BROKEN, NOT_PROBED)


@dataclass(frozen=True)
class ConstraintRow:
    id: str
    operation: str
    member: str
    rule: str
    bound: Any  # JSON-ready: number, string, bool or list
    shadowed_by: str | None
    in_catalogue: bool
    inside: str
    outside: str

    @property
    def covered(self) -> bool:
        return self.inside == HELD and self.outside == HELD

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "operation": self.operation,
            "member": self.member,
            "rule": self.rule,
            "bound": self.bound,
            "shadowed_by": self.shadowed_by,
            "in_catalogue": self.in_catalogue,
            "inside": self.inside,
            "outside": self.outside,
            "covered": self.covered,
        }


def constraint_rows(coverage: ConstraintCoverage) -> list[ConstraintRow]:
    """One row per constraint of the catalogue, in catalogue order, then one
    per constraint id the probes named that the catalogue does not know."""
    rows = [_catalogued_row(c, coverage.outcomes) for c in constraints.all_constraints()]
    known = {row.id for row in rows}
    rows.extend(
        _uncatalogued_row(i, coverage.outcomes) for i in sorted(coverage.outcomes) if i not in known
    )
    return rows


def _catalogued_row(
    constraint: constraints.Constraint, outcomes: Mapping[str, Mapping[str, bool]]
) -> ConstraintRow:
    sides = outcomes.get(constraint.id, {})
    return ConstraintRow(
        id=constraint.id,
        operation=constraint.operation,
        member=constraint.member,
        rule=constraint.keyword,
        bound=list(constraint.bound) if isinstance(constraint.bound, tuple) else constraint.bound,
        shadowed_by=constraint.shadowed_by,
        in_catalogue=True,
        inside=_side_state(sides, INSIDE),
        outside=_side_state(sides, OUTSIDE),
    )


def _uncatalogued_row(
    constraint_id: str, outcomes: Mapping[str, Mapping[str, bool]]
) -> ConstraintRow:
    operation, _, rest = constraint_id.partition(":")
    member, _, rule = rest.rpartition(":")
    sides = outcomes[constraint_id]
    return ConstraintRow(
        constraint_id, operation, member, rule, None, None, False,
        _side_state(sides, INSIDE), _side_state(sides, OUTSIDE),
    )  # fmt: skip


def _side_state(sides: Mapping[str, bool], side: str) -> str:
    if side not in sides:
        return NOT_PROBED
    return HELD if sides[side] else BROKEN
