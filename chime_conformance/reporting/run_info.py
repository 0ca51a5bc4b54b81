"""What the report says about the run itself: target, seed, profile, timing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chime_conformance.contract import spec
from chime_conformance.reporting.run_scope import RunScope


def documented_spec_versions() -> dict[str, str]:
    """``{api: version}`` of the spec documents the run checked against."""
    return {api: str(spec.load_document(api)["info"]["version"]) for api in spec.APIS}


@dataclass(frozen=True)
class RunInfo:
    """The run's settings and timing, as the plugin knows them at session end.

    ``started`` and ``finished`` should be timezone-aware; ``pytest_outcomes``
    counts tests by pytest outcome (``{"passed": 410, "failed": 3, …}``).
    """

    target_url: str
    run_id: str
    started: datetime
    finished: datetime
    reference_url: str | None = None
    seed: int | str | None = None
    hypothesis_profile: str = "default"
    strict: bool = False
    spec_versions: Mapping[str, str] = field(default_factory=documented_spec_versions)
    pytest_outcomes: Mapping[str, int] = field(default_factory=dict)
    # --shard: {"total": N, "indices": [K, …]} (a merge holds several), else None
    shard: Mapping[str, Any] | None = None
    # every test id that ran → its outcome (what a merge of shards rebuilds from)
    tests: Mapping[str, str] = field(default_factory=dict)
    # the endpoint's label in reports (--target-name; default its host:port)
    target_name: str | None = None
    # what ran: complete, a selection, interrupted… (reporting.run_scope.RunScope)
    scope: RunScope | None = None

    @property
    def name(self) -> str:
        """The endpoint's label: ``target_name``, else the target URL."""
        return self.target_name or self.target_url

    @property
    def duration_seconds(self) -> float:
        return (self.finished - self.started).total_seconds()

    def to_json(self) -> dict[str, Any]:
        return {
            "target_url": self.target_url,
            "reference_url": self.reference_url,
            "run_id": self.run_id,
            "seed": self.seed,
            "hypothesis_profile": self.hypothesis_profile,
            "strict": self.strict,
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat(),
            "duration_seconds": round(self.duration_seconds, 3),
            "spec_versions": dict(self.spec_versions),
            "pytest_outcomes": dict(self.pytest_outcomes),
            "shard": dict(self.shard) if self.shard is not None else None,
            "tests": dict(self.tests),
            "target_name": self.name,
            "scope": self.scope.to_json() if self.scope is not None else None,
        }
