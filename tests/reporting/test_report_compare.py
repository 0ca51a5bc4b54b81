"""compare, history and the badge read runs as endpoints: one column (or
section) per endpoint, and a not-implemented operation's cells never drawn
as failures."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from chime_conformance.reporting import write_reports
from chime_conformance.reporting.badge import render_badge
from chime_conformance.reporting.cli import main
from chime_conformance.reporting.endpoints import cell_state
from chime_conformance.run.coverage import ConstraintCoverage
from chime_conformance.run.results import FAIL, PASS, CheckRecord
from tests.support.report_runs import STARTED, run_info

IMPLEMENTED_CELL = ("CreateAppInstance", "status_code_matches_spec")
MISSING_CELL = ("UpdateAccount", "status_code_matches_spec")  # not implemented by "partial"
BROKEN_CELL = ("DescribeAppInstance", "timestamps_are_plausible")  # broken by "faulty"
HTML_500 = {"status": 501, "headers": {"Content-Type": "text/html"}, "body": "<html>no</html>"}


def record(cell: tuple[str, str], outcome: str, **details: Any) -> CheckRecord:
    operation, check = cell
    message = "Received: 501. Documented: 200" if outcome == FAIL else ""
    return CheckRecord(
        f"conformance/t.py::test[{operation}]", operation, check, outcome, message, **details
    )


def endpoint_run(folder: Path, name: str, day: int, outcomes: dict, not_implemented=()) -> Path:
    started = STARTED + timedelta(days=day)
    info = run_info(
        run_id=f"{name}-{day}", started=started, finished=started + timedelta(minutes=5),
        target_name=name,
    )  # fmt: skip
    records = [
        record(cell, outcome, response=HTML_500 if cell[0] in not_implemented else None)
        for cell, outcome in outcomes.items()
    ]
    path = write_reports(folder / f"{name}-{day}", info, records, ConstraintCoverage()).results_json
    document = json.loads(path.read_text(encoding="utf-8"))
    for operation in document["operations"]:  # as the run's verdict says it
        if operation["name"] in {c[0] for c in outcomes}:
            missing = operation["name"] in not_implemented
            operation["verdict"] = "not_implemented" if missing else "implemented"
            operation["evidence"] = "no answer in the API's shape" if missing else "answered"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def three_endpoints(folder: Path) -> list[Path]:
    clean = {IMPLEMENTED_CELL: PASS, MISSING_CELL: PASS, BROKEN_CELL: PASS}
    return [
        endpoint_run(folder, "emulator", 1, clean),
        endpoint_run(folder, "emulator", 2, clean),
        endpoint_run(folder, "faulty", 2, {**clean, BROKEN_CELL: FAIL}),
        endpoint_run(
            folder, "partial", 1, {**clean, MISSING_CELL: FAIL}, not_implemented=("UpdateAccount",)
        ),
        endpoint_run(
            folder, "partial", 2, {**clean, MISSING_CELL: FAIL}, not_implemented=("UpdateAccount",)
        ),
    ]


def test_compare_has_a_column_per_endpoint_and_never_draws_not_implemented_as_failure(
    tmp_path: Path,
) -> None:
    runs = three_endpoints(tmp_path)
    assert main(["compare", *map(str, runs), "--out", str(tmp_path / "out")]) == 0
    page = (tmp_path / "out" / "compare.html").read_text(encoding="utf-8")
    endpoints = re.findall(r'<th class="endpoint">([^<]+)</th>', page)
    assert endpoints == ["emulator", "faulty", "partial"]  # the latest run of each, once
    matrix = page.split('id="matrix-table"')[1]
    row = re.search(rf"<td class=\"mono\">{MISSING_CELL[0]}</td>.*?</tr>", matrix, re.S)
    assert row
    assert re.findall(r'class="state (\w+)"', row.group(0)) == ["pass", "pass", "notimpl"]
    broken = re.search(rf"<td class=\"mono\">{BROKEN_CELL[0]}</td>.*?</tr>", matrix, re.S)
    assert broken
    assert re.findall(r'class="state (\w+)"', broken.group(0)) == ["pass", "fail", "pass"]
    differences = page.split('id="differences-table"')[1].split("</table>")[0]
    assert "Received: 501. Documented: 200" in differences  # faulty's cause, where they differ
    for name in ("emulator", "faulty", "partial"):
        assert (tmp_path / "out" / f"badge-{name}.svg").is_file()


def test_history_groups_runs_by_endpoint_and_never_fails_a_not_implemented_cell(
    tmp_path: Path,
) -> None:
    runs = three_endpoints(tmp_path)
    assert main(["history", *map(str, runs), "--out", str(tmp_path / "out")]) == 0
    page = (tmp_path / "out" / "history.html").read_text(encoding="utf-8")
    sections = re.findall(r'<section class="endpoint" id="endpoint-(\d)">\s*<h2>([^<]+?) <', page)
    assert [name for _, name in sections] == ["emulator", "faulty", "partial"]
    partial = page.split('id="endpoint-3"')[1]
    assert "UpdateAccount" not in partial  # its only failing cell is not implemented
    # each run's score as its document says it (these have no verdict, so the plain one)
    assert re.findall(r'id="score-3-\d">([^<]+)<', partial) == ["66.7%", "66.7%"]
    assert "score 66.7% → 66.7%" in partial


def test_a_not_implemented_operations_cells_are_not_implemented() -> None:
    document = {
        "operations": [{"name": "UpdateAccount", "verdict": "not_implemented"}],
        "matrix": [{"operation": "UpdateAccount", "check": "c", "state": "fail"}],
    }
    assert cell_state(document, "UpdateAccount", "c") == "not_implemented"
    document["operations"][0]["verdict"] = "implemented"
    assert cell_state(document, "UpdateAccount", "c") == "fail"


def test_the_badge_says_score_and_implemented_operations(tmp_path: Path) -> None:
    path = endpoint_run(
        tmp_path, "partial", 1, {IMPLEMENTED_CELL: PASS, MISSING_CELL: FAIL},
        not_implemented=("UpdateAccount",),
    )  # fmt: skip
    document = json.loads(path.read_text(encoding="utf-8"))
    svg = render_badge(document)
    assert svg.startswith("<svg") and "</svg>" in svg
    assert "50.0% · 1/35" in svg
    written = (path.parent / "badge.svg").read_text(encoding="utf-8")
    assert "chime conformance" in written
