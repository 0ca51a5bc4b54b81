"""A session that runs no test writes no report and prints no verdict: ``--co``
and a selection of nothing leave the report directory exactly as it was
(never a fresh, empty junit.xml beside the last run's compliance.html)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.end_to_end.test_partial_endpoints import SUITE, run_suite

SLICE = ("-k", "test_a_valid_request_is_accepted and DescribeAppInstance]")
REPORTS = ("compliance.html", "results.json", "junit.xml", "badge.svg")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in REPORTS}


@pytest.mark.slow
def test_collect_only_and_an_empty_selection_leave_the_last_report_alone(tmp_path: Path) -> None:
    one_file = ("--suite", str(SUITE / "test_requests.py"))
    done, _ = run_suite(*SLICE, *one_file, "--report-dir", str(tmp_path), timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    before = snapshot(tmp_path)
    scope = json.loads(before["results.json"])["run"]["scope"]
    assert scope["state"] == "complete" and scope["partial"] is True  # a selection
    assert scope["selection"] == [f"-k {SLICE[1]}", "only test_requests.py"]
    for options, status in ((("--co",), 0), (("-k", "no_test_is_called_this"), 5)):
        done, _ = run_suite(*options, *one_file, "--report-dir", str(tmp_path), timeout=300)
        assert done.returncode == status, done.stdout[-3000:]
        assert "chime-conformance verdict" not in done.stdout
        assert "generated xml file" not in done.stdout
        assert snapshot(tmp_path) == before, options
        assert not (tmp_path / ".parts").exists() or not any((tmp_path / ".parts").iterdir())
