"""The run's conclusion, computed in the run layer: a run concluded whole and
the same run concluded from its shards' documents agree, field by field."""

from __future__ import annotations

import datetime
from pathlib import Path

from chime_conformance.reporting.matrix import cells
from chime_conformance.run.baseline import load_baseline
from chime_conformance.run.conclusion import RunConclusion, conclude, merged_conclusion
from chime_conformance.run.implementation import IMPLEMENTED, NOT_RUN, AnswerLog, TestOutcome
from chime_conformance.run.results import FAIL, PASS, CheckRecord
from chime_conformance.run.sharding import bucket

TODAY = datetime.date(2026, 1, 2)
RECORDS = [
    CheckRecord("t/a::one", "ListAppInstances", "status_code_matches_spec", PASS),
    CheckRecord("t/a::two", "CreateAppInstance", "status_code_matches_spec", FAIL, message="m"),
    CheckRecord("t/b::three", "CreateAppInstance", "response_matches_schema", PASS),
]
OUTCOMES = [
    TestOutcome("t/a::one", "ListAppInstances", "passed"),
    TestOutcome("t/a::two", "CreateAppInstance", "known", "known failure (baseline): later"),
    TestOutcome("t/b::three", "CreateAppInstance", "passed"),
    TestOutcome("t/b::four", None, "error", "TimeoutError: slow"),
]


def _answers(operations: list[str]) -> AnswerLog:
    log = AnswerLog()
    for operation in operations:
        log.observe(operation, {}, 200, {})
    return log


def _baseline(tmp_path: Path):
    path = tmp_path / "baseline.yaml"
    path.write_text(
        "known_failures:\n"
        "  - {operation: CreateAppInstance, check: status_code_matches_spec, reason: later}\n"
        "  - {operation: DeleteAppInstance, check: status_code_matches_spec, reason: gone,"
        " until: 2025-01-01}\n"
    )
    return load_baseline(path)


def _document(conclusion: RunConclusion) -> dict:
    return {"verdict": conclusion.to_json()}


def test_a_run_concluded_from_its_shards_concludes_as_the_whole(tmp_path: Path) -> None:
    baseline = _baseline(tmp_path)
    whole = conclude(
        _answers([o.operation for o in OUTCOMES if o.operation]),
        OUTCOMES,
        RECORDS,
        cells(RECORDS),
        baseline=baseline,
        today=TODAY,
    )
    parts = []
    for shard in (0, 1):
        records = [r for r in RECORDS if bucket(r.test_id, 2) == shard]
        outcomes = [o for o in OUTCOMES if bucket(o.test_id, 2) == shard]
        answers = _answers([o.operation for o in outcomes if o.operation])
        parts.append(
            conclude(answers, outcomes, records, cells(records), baseline=baseline, today=TODAY)
        )
    merged = merged_conclusion([_document(p) for p in parts], RECORDS, cells(RECORDS))
    assert merged is not None
    assert merged.score == whole.score
    assert merged.statuses == whole.statuses
    assert merged.causes == whole.causes
    assert sorted(merged.known) == sorted(whole.known)
    assert [e.label() for e in merged.expired] == [e.label() for e in whole.expired]
    statuses = {s.operation: s.status for s in whole.statuses}
    assert statuses["ListAppInstances"] == IMPLEMENTED and statuses["DeleteAccount"] == NOT_RUN
    assert whole.score.errored_tests == 1 and [e.operation for e in whole.expired] == [
        "DeleteAppInstance"
    ]


def test_without_a_conclusion_in_every_shard_there_is_none_to_merge() -> None:
    one = conclude(AnswerLog(), [], [], [])
    assert merged_conclusion([_document(one), {"verdict": None}], [], []) is None
    assert merged_conclusion([], [], []) is None


def test_the_conclusion_keeps_results_json_names() -> None:
    """results.json (format_version 1) names the statuses ``verdicts``, each ``verdict``."""
    document = conclude(_answers(["ListAppInstances"]), [], [], []).to_json()
    listed = {s["operation"]: s for s in document["verdicts"]}
    assert listed["ListAppInstances"]["verdict"] == IMPLEMENTED
    assert "status" not in listed["ListAppInstances"]
