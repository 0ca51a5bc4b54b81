"""What a run found: one record per check applied, merged across workers.

Tests record every check they apply (pass or fail) through a
:class:`ResultLog`; reporting only reads the records. A Hypothesis test may
fail many times while it shrinks: for each test only the *last* failure of a
check is kept, which is the minimal example Hypothesis replays at the end.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any

PASS = "pass"
FAIL = "fail"
NOT_APPLICABLE = "not_applicable"
OUTCOMES = (PASS, FAIL, NOT_APPLICABLE)


@dataclass(frozen=True)
class CheckRecord:
    """One check applied to one exchange (or to one stateful run)."""

    test_id: str  # the pytest node id
    operation: str  # the AWS operation name, or "(stateful)" for a machine-level check
    check: str  # the check's registered name, e.g. "status_code_matches_spec"
    outcome: str  # PASS, FAIL or NOT_APPLICABLE
    message: str = ""  # the failure's "Received: … Documented: …" text
    spec_fact: str = ""  # which spec fact the check compares against
    constraint: str | None = None  # the constraint id a probe targeted
    request: dict[str, Any] | None = None  # redacted: method, url, headers, body
    response: dict[str, Any] | None = None  # status, headers, body
    reproducer_curl: str | None = None
    reproducer_python: str | None = None
    steps: tuple[str, ...] = ()  # a stateful failure's minimal step sequence

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, got {self.outcome!r}")

    def to_json(self) -> dict[str, Any]:
        """The record's fields as a new dict, for serializing at once: the
        request and response dicts are the record's own, not copies (asdict's
        deep copy of 16,000 records was a third of a ``ci`` run's report time)."""
        data = {name: getattr(self, name) for name in _FIELD_NAMES}
        data["steps"] = list(self.steps)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckRecord:
        return cls(**{**data, "steps": tuple(data.get("steps", ()))})


_FIELD_NAMES = tuple(f.name for f in fields(CheckRecord))


@dataclass
class ResultLog:
    """Check records of one process, with at most one failure per (test, check)."""

    passes: dict[tuple[str, str, str], int] = field(default_factory=dict)
    failures: dict[tuple[str, str, str], CheckRecord] = field(default_factory=dict)
    # one per (test, operation, check): a check that never applies in a test
    # would otherwise add a record for every Hypothesis example
    not_applicable: dict[tuple[str, str, str], CheckRecord] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __repr__(self) -> str:  # not every record: a run holds thousands
        return (
            f"ResultLog({len(self.passes)} passing, {len(self.failures)} failing, "
            f"{len(self.not_applicable)} not applicable)"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # Hypothesis' printer
        printer.text(repr(self))

    def record(self, record: CheckRecord) -> None:
        key = (record.test_id, record.operation, record.check)
        with self._lock:
            if record.outcome == FAIL:
                self.failures[key] = record  # the latest failure is the shrunk one
            elif record.outcome == PASS:
                self.passes[key] = self.passes.get(key, 0) + 1
            else:
                self.not_applicable.setdefault(key, record)

    def discard_failures_of(self, test_id: str) -> None:
        """Forget failures of a test that passed in the end (e.g. a flaky retry)."""
        with self._lock:
            for key in [k for k in self.failures if k[0] == test_id]:
                del self.failures[key]

    def records(self) -> Iterator[CheckRecord]:
        """One record per (test, operation, check): its kept failure, else a
        pass if it ever passed, else not-applicable."""
        with self._lock:
            for (test_id, operation, check), _ in self.passes.items():
                if (test_id, operation, check) not in self.failures:
                    yield CheckRecord(test_id, operation, check, PASS)
            yield from self.failures.values()
            for key, record in self.not_applicable.items():
                if key not in self.failures and key not in self.passes:
                    yield record
