"""The promise × operation table in a run's reports: results.json holds it
(valid against results.schema.json) and compliance.html shows it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from chime_conformance.reporting import write_reports
from chime_conformance.reporting.promise_table import NOT_REACHED
from chime_conformance.run.results import FAIL, PASS, CheckRecord
from tests.support.report_runs import small_run

PROMISES_TEST = "conformance/test_promises.py::test_every_list_pages_to_the_end"


def test_the_reports_carry_the_promise_table(tmp_path: Path) -> None:
    run = small_run()
    records = [
        *run.records,
        CheckRecord(
            f"{PROMISES_TEST}[ListAppInstanceBots]", "ListAppInstanceBots", "pagination", PASS
        ),
        CheckRecord(f"{PROMISES_TEST}[ListAccounts]", "ListAccounts", "pagination", FAIL),
    ]
    paths = write_reports(tmp_path, run.info, records, run.coverage)  # validates the document
    table = json.loads(paths.results_json.read_text(encoding="utf-8"))["promises"]
    cells = {(c["promise"], c["operation"]): c for c in table["cells"]}
    assert cells[("pagination", "ListAppInstanceBots")]["outcome"] == "pass"
    assert cells[("pagination", "ListAccounts")]["outcome"] == "fail"
    assert cells[("pagination", "ListAppInstanceUsers")]["state"] == NOT_REACHED
    page = paths.compliance_html.read_text(encoding="utf-8")
    section = page.split('id="promises"', 1)[1].split("<h2", 1)[0]
    assert 'title="ListAppInstanceBots × pagination: checked, held"' in section
    assert 'title="ListAccounts × pagination: checked, broken"' in section
    assert 'title="ListAppInstanceUsers × pagination: not reached"' in section
    rows = re.findall(r"<tr>\s*<th class=\"mono\">", section)
    assert len(rows) == len(table["operations"])
