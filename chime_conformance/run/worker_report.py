"""What one xdist worker hands the controller at the end: one file, one format.

A worker gathers, in its own process, the check records, the constraint
probes, the run's events (retries, throttled tests, leftovers, rule counts)
and the answers each operation got. When its session ends it writes them as
one JSON document, ``worker-<id>.json``; the controller reads every worker's
once (:func:`read_worker_reports`) and merges them into its own before it
concludes the run and writes the reports. Nothing here knows about pytest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chime_conformance.run.coverage import ConstraintCoverage
from chime_conformance.run.events import RunEvents
from chime_conformance.run.implementation import AnswerLog
from chime_conformance.run.results import CheckRecord

__all__ = ["FORMAT", "WorkerReport", "read_worker_reports"]

FORMAT = "chime-conformance worker report 1"
PATTERN = "worker-*.json"


@dataclass
class WorkerReport:
    """One process's share of the run."""

    records: list[CheckRecord] = field(default_factory=list)
    coverage: ConstraintCoverage | None = None  # None: it probed no constraint
    events: RunEvents = field(default_factory=RunEvents)
    answers: AnswerLog = field(default_factory=AnswerLog)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "records": [record.to_json() for record in self.records],
            "coverage": self.coverage.outcomes if self.coverage is not None else None,
            "events": self.events.to_json(),
            "answers": self.answers.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkerReport:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT!r} document: {str(data.get('format'))[:40]!r}")
        coverage = data["coverage"]
        return cls(
            records=[CheckRecord.from_json(record) for record in data["records"]],
            coverage=ConstraintCoverage(outcomes=coverage) if coverage is not None else None,
            events=RunEvents.from_json(data["events"]),
            answers=AnswerLog.from_json(data["answers"]),
        )

    def dump(self, folder: Path, worker: str) -> Path:
        """Write it as ``folder/worker-<worker>.json``; returns the path."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"worker-{worker}.json"
        path.write_text(json.dumps(self.to_json(), default=_text), encoding="utf-8")
        return path

    def merge(self, other: WorkerReport) -> None:
        self.records.extend(other.records)
        if other.coverage is not None:
            self.coverage = self.coverage or ConstraintCoverage()
            self.coverage.merge(other.coverage)
        self.events.merge(other.events)
        self.answers.merge(other.answers)


def read_worker_reports(folder: Path) -> list[WorkerReport]:
    """Every worker's report in ``folder``, in worker order."""
    return [
        WorkerReport.from_json(json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(folder.glob(PATTERN))
    ]


def _text(value: Any) -> Any:
    """A value JSON does not know (a body kept as bytes) as text."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)
