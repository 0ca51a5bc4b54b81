"""Constraint coverage: was each spec constraint probed from both sides?

A constraint is *covered* when a value just inside it was accepted and a value
just outside it was rejected. Workers record probes and hand them over in
their report (:mod:`chime_conformance.run.worker_report`); the controller
merges them; the report and the terminal summary read the result.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

INSIDE = "inside"
OUTSIDE = "outside"


@dataclass
class ConstraintCoverage:
    """Probe outcomes per constraint id: ``{id: {"inside": bool, "outside": bool}}``.

    An outcome is True when the probe behaved as the contract says (inside
    accepted, outside rejected); a later failing probe never un-fails it."""

    outcomes: dict[str, dict[str, bool]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(self, constraint_id: str, side: str, held: bool) -> None:
        if side not in (INSIDE, OUTSIDE):
            raise ValueError(f"side must be {INSIDE!r} or {OUTSIDE!r}, got {side!r}")
        with self._lock:
            sides = self.outcomes.setdefault(constraint_id, {})
            sides[side] = sides.get(side, True) and held

    def covered(self, constraint_id: str) -> bool:
        sides = self.outcomes.get(constraint_id, {})
        return sides.get(INSIDE) is True and sides.get(OUTSIDE) is True

    def summary(self, all_ids: Iterable[str]) -> tuple[int, int]:
        """``(covered, total)`` over ``all_ids``, the constraints that exist."""
        ids = list(all_ids)
        return sum(self.covered(i) for i in ids), len(ids)

    def merge(self, other: ConstraintCoverage) -> None:
        for constraint_id, sides in other.outcomes.items():
            for side, held in sides.items():
                self.record(constraint_id, side, held)
