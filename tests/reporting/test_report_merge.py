"""``merge`` on a run with failures: split by test id into three shards (as
``--shard`` splits a run), the merged report is the whole run's, failing
cells, stateful failures and broken constraint sides included. Cheap: no
suite run (tests/adapter/test_sharding.py runs the real suite as shards)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from chime_conformance.reporting import write_reports
from chime_conformance.reporting.cli import main
from chime_conformance.run.coverage import ConstraintCoverage
from chime_conformance.run.results import FAIL
from chime_conformance.run.sharding import bucket
from tests.support.report_runs import small_run

SHARDS = 3
BROKEN_THEN_HELD = ("CreateAppInstance:Name:maxLength", "outside")


def probe_events(coverage: ConstraintCoverage) -> list[tuple[str, str, bool]]:
    events = []
    for constraint_id, sides in coverage.outcomes.items():
        for side, held in sides.items():
            events.append((constraint_id, side, held))
            if (constraint_id, side) == BROKEN_THEN_HELD:
                events.append((constraint_id, side, True))  # held in another shard
    return events


def covered(events: list[tuple[str, str, bool]]) -> ConstraintCoverage:
    coverage = ConstraintCoverage()
    for constraint_id, side, held in events:
        coverage.record(constraint_id, side, held)
    return coverage


def test_merged_shards_of_a_failing_run_are_the_whole_run(tmp_path: Path) -> None:
    run = small_run()
    events = probe_events(run.coverage)
    tests = {
        r.test_id: "failed"
        if any(o.test_id == r.test_id and o.outcome == FAIL for o in run.records)
        else "passed"
        for r in run.records
    }
    whole = write_reports(
        tmp_path / "whole",
        replace(run.info, run_id="r1", tests=tests),
        run.records,
        covered(events),
    )
    shard_files = []
    for k in range(SHARDS):
        records = [r for r in run.records if bucket(r.test_id, SHARDS) == k]
        info = replace(
            run.info,
            run_id="r1",
            shard={"total": SHARDS, "indices": [k + 1]},
            tests={t: o for t, o in tests.items() if bucket(t, SHARDS) == k},
        )
        shard_events = events[k::SHARDS]
        folder = tmp_path / f"shard{k + 1}"
        shard_files.append(write_reports(folder, info, records, covered(shard_events)).results_json)
    assert main(["merge", *map(str, shard_files), "--out", str(tmp_path / "merged")]) == 0

    def load(path: Path) -> dict[str, Any]:
        return dict(json.loads(path.read_text(encoding="utf-8")))

    merged, alone = load(tmp_path / "merged" / "results.json"), load(whole.results_json)
    for key in ("score", "matrix", "checks", "families", "constraint_coverage", "operations"):
        assert merged[key] == alone[key], key
    assert merged["run"]["tests"] == alone["run"]["tests"]
    assert merged["score"]["failing_cells"] >= 5  # failures, stateful one included
    side = next(
        c for c in merged["constraint_coverage"]["constraints"] if c["id"] == BROKEN_THEN_HELD[0]
    )
    assert side["outside"] == "broken"  # one shard's broken probe is not undone by another's
    key = sorted(json.dumps(r, sort_keys=True) for r in merged["records"])
    assert key == sorted(json.dumps(r, sort_keys=True) for r in alone["records"])
