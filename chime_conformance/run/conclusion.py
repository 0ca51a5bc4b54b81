"""The run's conclusion: what the whole run found, beyond each check's verdict.

Each operation's implementation status, the honest score, each repeated cause
once, and the baseline's findings (known, fixed and expired entries), computed
from what the run gathered: the answers the client observed, each test's
outcome, the check records. A run split in shards is concluded again from
what each shard's conclusion was computed from (:func:`merged_conclusion`),
so merged shards conclude exactly as the unsharded run.

Nothing here knows about pytest or about the reports: the plugin concludes a
run (:func:`conclude`), ``chime-conformance-report merge`` merges shards, and
reporting writes the conclusion into ``results.json`` (under its format's key
``verdict``) and the page.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from chime_conformance.run.baseline import Baseline, Entry
from chime_conformance.run.implementation import (
    AnswerLog,
    Cause,
    HonestScore,
    ImplementationStatus,
    TestOutcome,
    honest_score,
    implementation_statuses,
    repeated_causes,
)
from chime_conformance.run.results import FAIL, CheckRecord

__all__ = ["RunConclusion", "conclude", "merged_conclusion"]


@dataclass(frozen=True)
class RunConclusion:
    """What the run concluded (``results.json``'s ``verdict`` member)."""

    statuses: list[ImplementationStatus]
    score: HonestScore
    causes: list[Cause]
    known: list[tuple[str, str]]  # (test id, reason) of failures the baseline excuses
    fixed: list[Entry]
    expired: list[Entry]
    baseline: str | None  # the baseline file, if the run had one
    report: Path | None = None  # compliance.html, once written
    # what the conclusion was computed from, kept so shards' conclusions merge
    answers: AnswerLog = field(default_factory=AnswerLog)
    outcomes: list[TestOutcome] = field(default_factory=list)
    selected: frozenset[str] | None = None

    def with_report(self, report: Path | None) -> RunConclusion:
        return replace(self, report=report)

    def to_json(self) -> dict[str, Any]:
        return {
            "answers": self.answers.to_json(),
            "test_outcomes": [o.to_json() for o in self.outcomes],
            "selected": sorted(self.selected) if self.selected is not None else None,
            "operations_implemented": self.score.implemented,
            "operations_selected": self.score.selected,
            "operations_total": self.score.total,
            "errored_tests": self.score.errored_tests,
            "excluded_cells": self.score.excluded_cells,
            "verdicts": [s.to_json() for s in self.statuses],
            "causes": [c.to_json() for c in self.causes],
            "baseline": None
            if self.baseline is None
            else {
                "file": self.baseline,
                "known": [{"test_id": t, "reason": r} for t, r in self.known],
                "fixed": [e.to_json() for e in self.fixed],
                "expired": [e.to_json() for e in self.expired],
            },
        }


def conclude(
    answers: AnswerLog,
    outcomes: Sequence[TestOutcome],
    records: Sequence[CheckRecord],
    cells: Iterable[Any],
    *,
    selected: frozenset[str] | None = None,
    baseline: Baseline | None = None,
    today: datetime.date | None = None,
) -> RunConclusion:
    """The conclusion of one run (``cells``: the report matrix's cells of ``records``)."""
    today = today or datetime.date.today()
    statuses = implementation_statuses(answers, outcomes, selected)
    return RunConclusion(
        statuses=statuses,
        score=honest_score(cells, statuses, outcomes),
        causes=repeated_causes(outcomes),
        known=_known(outcomes),
        fixed=baseline.fixed(records, today) if baseline else [],
        expired=baseline.expired(today) if baseline else [],
        baseline=baseline.path if baseline else None,
        answers=answers,
        outcomes=list(outcomes),
        selected=selected,
    )


def merged_conclusion(
    documents: Sequence[Mapping[str, Any]], records: Sequence[CheckRecord], cells: Iterable[Any]
) -> RunConclusion | None:
    """The conclusion of a run split in shards (``chime-conformance-report merge``),
    recomputed from what each shard's was computed from; None unless every
    shard's results document has one."""
    if not documents or any("answers" not in (d.get("verdict") or {}) for d in documents):
        return None
    concluded: list[Mapping[str, Any]] = [d["verdict"] for d in documents]
    answers = AnswerLog()
    outcomes: list[TestOutcome] = []
    selected: set[str] | None = set()
    for shard in concluded:
        answers.merge(AnswerLog.from_json(shard["answers"]))
        outcomes.extend(TestOutcome(**o) for o in shard["test_outcomes"])
        chosen = shard.get("selected")
        selected = None if chosen is None or selected is None else selected | set(chosen)
    chosen_ops = frozenset(selected) if selected is not None else None
    statuses = implementation_statuses(answers, outcomes, chosen_ops)
    baselines = [shard["baseline"] for shard in concluded if shard.get("baseline")]
    failing = {(r.operation, r.check) for r in records if r.outcome == FAIL}
    return RunConclusion(
        statuses=statuses,
        score=honest_score(cells, statuses, outcomes),
        causes=repeated_causes(outcomes),
        known=_known(outcomes),
        fixed=[e for e in _entries(baselines, "fixed") if (e.operation, e.check) not in failing],
        expired=_entries(baselines, "expired"),
        baseline=baselines[0]["file"] if baselines else None,
        answers=answers,
        outcomes=outcomes,
        selected=chosen_ops,
    )


def _known(outcomes: Iterable[TestOutcome]) -> list[tuple[str, str]]:
    return [(o.test_id, o.cause or "") for o in outcomes if o.outcome == "known"]


def _entries(baselines: Sequence[Mapping[str, Any]], kind: str) -> list[Entry]:
    """The baseline entries of ``kind`` (fixed, expired) the shards reported, each once."""
    found: dict[str, Entry] = {}
    for baseline in baselines:
        for e in baseline[kind]:
            until = datetime.date.fromisoformat(e["until"]) if e.get("until") else None
            found[json.dumps(e, sort_keys=True)] = Entry(
                e["operation"], e["check"], e["reason"], e.get("constraint"), until
            )
    return list(found.values())
