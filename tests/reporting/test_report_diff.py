"""``chime-conformance-report diff OLD.json NEW.json``: the nightly comparison."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from chime_conformance.reporting import write_reports
from chime_conformance.reporting.cli import main
from chime_conformance.reporting.diff import diff_results
from chime_conformance.run.coverage import ConstraintCoverage
from chime_conformance.run.results import CheckRecord
from tests.support.report_runs import name_too_long, passing, run_info

STATUS = "status_code_matches_spec"
NAME_MAX_LENGTH = "CreateAppInstance:Name:maxLength"


def results_json(folder: Path, records: Sequence[CheckRecord], covered: Sequence[str] = ()) -> Path:
    coverage = ConstraintCoverage()
    for constraint_id in covered:
        coverage.record(constraint_id, "inside", True)
        coverage.record(constraint_id, "outside", True)
    return write_reports(folder, run_info(), list(records), coverage).results_json


@pytest.fixture
def runs(tmp_path: Path):
    """A writer of results.json files, one folder each."""
    counter = iter(range(1000))

    def write(records: Sequence[CheckRecord], covered: Sequence[str] = ()) -> Path:
        return results_json(tmp_path / f"run{next(counter)}", records, covered)

    return write


BASELINE = [
    passing("CreateAppInstance", STATUS),
    passing("CreateAppInstance", "invalid_input_rejected"),
    passing("ListAppInstances", STATUS),
]


def test_a_check_that_went_from_pass_to_fail_is_a_regression_and_exits_1(runs, capsys) -> None:
    old = runs(BASELINE)
    new = runs([*BASELINE, name_too_long()])
    assert main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "Regressed (1):" in out
    assert "CreateAppInstance × invalid_input_rejected: pass → fail" in out


def test_a_check_that_went_from_fail_to_pass_is_fixed_and_exits_0(runs, capsys) -> None:
    old = runs([*BASELINE, name_too_long()])
    new = runs(BASELINE)
    assert main(["diff", str(old), str(new)]) == 0
    out = capsys.readouterr().out
    assert "Fixed (1):" in out and "Regressed" not in out
    assert "CreateAppInstance × invalid_input_rejected: fail → pass" in out


def test_the_same_results_twice_are_all_unchanged_and_exit_0(runs, capsys) -> None:
    old, new = runs(BASELINE), runs(BASELINE)
    assert main(["diff", str(old), str(new)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("0 regressed, 0 fixed, 0 new failures,")
    result = diff_results(json.loads(old.read_text()), json.loads(new.read_text()))
    assert result.unchanged == len(json.loads(new.read_text())["matrix"]) + 309


def test_a_newly_tested_operation_is_reported_new_not_regressed(runs, capsys) -> None:
    old = runs(BASELINE)
    new = runs([*BASELINE, passing("GetAccount", STATUS)])
    assert main(["diff", str(old), str(new)]) == 0
    assert "New operations (1): GetAccount" in capsys.readouterr().out


def test_a_failure_where_nothing_ran_before_is_a_new_failure_not_a_regression(runs, capsys) -> None:
    failure = CheckRecord(
        **{**name_too_long().to_json(), "operation": "CreateAccount", "steps": ()}
    )
    old = runs(BASELINE)
    new = runs([*BASELINE, failure])
    assert main(["diff", str(old), str(new)]) == 0
    out = capsys.readouterr().out
    assert "CreateAccount × invalid_input_rejected: not_run → fail" in out
    assert "New operations (1): CreateAccount" in out


def test_a_constraint_no_longer_covered_is_a_regression(runs, capsys) -> None:
    old = runs(BASELINE, covered=[NAME_MAX_LENGTH])
    new = runs(BASELINE)
    assert main(["diff", str(old), str(new)]) == 1
    assert f"constraint {NAME_MAX_LENGTH}: covered → not covered" in capsys.readouterr().out
    assert main(["diff", str(new), str(old)]) == 0
    assert f"constraint {NAME_MAX_LENGTH}: not covered → covered" in capsys.readouterr().out


def test_the_diff_as_json(runs, capsys) -> None:
    old = runs(BASELINE)
    new = runs([*BASELINE, name_too_long()])
    assert main(["diff", "--format", "json", str(old), str(new)]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["regressed"] == [
        {"subject": "CreateAppInstance × invalid_input_rejected", "old": "pass", "new": "fail"}
    ]
    assert data["old_score"] == 1.0 and data["new_score"] == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        (None, "cannot read it"),
        ("{not json", "is not JSON"),
        ('{"format_version": 1}', "does not match results.schema.json"),
        ("\udcff", "is not JSON"),
    ],
    ids=["missing", "not-json", "off-schema", "not-utf8"],
)
def test_unreadable_input_exits_2_with_one_line(
    runs, tmp_path: Path, capsys, content, complaint
) -> None:
    good = runs(BASELINE)
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_bytes(content.encode("utf-8", "surrogateescape"))
    assert main(["diff", str(bad), str(good)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"chime-conformance-report: error: {bad}: {complaint}")


def test_a_usage_error_exits_2(capsys) -> None:
    assert main(["diff", "only-one.json"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("chime-conformance-report: error: diff: ") and error.count("\n") == 1
    assert "NEW.json" in error


def test_python_dash_m_runs_the_command(runs) -> None:
    old = runs(BASELINE)
    new = runs([*BASELINE, name_too_long()])
    command = [sys.executable, "-m", "chime_conformance.reporting", "diff", str(old), str(new)]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert finished.returncode == 1, finished.stderr
    assert "1 regressed" in finished.stdout


def test_render_rewrites_the_page_from_results_json(runs, capsys) -> None:
    results = runs([*BASELINE, name_too_long()])
    page = results.with_name("compliance.html")
    original = page.read_text(encoding="utf-8")
    page.unlink()
    assert main(["render", str(results)]) == 0
    assert page.read_text(encoding="utf-8") == original
