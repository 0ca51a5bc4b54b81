"""results.json: written for every run, valid against its shipped schema."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import jsonschema
import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chime_conformance.reporting import write_reports
from chime_conformance.reporting.results_document import (
    SCHEMA_PATH,
    UnreadableResults,
    document_records,
    load_results_document,
    results_schema,
    validate_results_document,
)
from chime_conformance.run.results import FAIL, CheckRecord
from tests.support.report_runs import full_run, small_run


@pytest.fixture
def small_document(tmp_path: Path) -> dict:
    run = small_run()
    paths = write_reports(tmp_path, run.info, run.records, run.coverage)
    return json.loads(paths.results_json.read_text(encoding="utf-8"))


def test_the_schema_ships_inside_the_package_and_is_a_valid_2020_12_schema() -> None:
    assert SCHEMA_PATH.parent.name == "reporting"
    jsonschema.Draft202012Validator.check_schema(results_schema())


def test_results_json_of_a_run_with_failures_validates_against_the_schema(small_document) -> None:
    jsonschema.Draft202012Validator(results_schema()).validate(small_document)


def test_results_json_of_a_full_run_validates_against_the_schema(tmp_path: Path) -> None:
    run = full_run()
    paths = write_reports(tmp_path, run.info, run.records, run.coverage)
    validate_results_document(load_results_document(paths.results_json))


def test_results_json_carries_the_run_the_score_and_every_record(small_document) -> None:
    run = small_run()
    assert small_document["run"]["run_id"] == run.info.run_id
    assert small_document["run"]["seed"] == 20250601
    assert small_document["run"]["duration_seconds"] == 727.0
    assert small_document["run"]["spec_versions"] == {
        "chime-sdk-identity": "2021-04-20",
        "chime-accounts": "2018-05-01",
    }
    records = [CheckRecord.from_json(r) for r in small_document["records"]]
    assert records == [r for r in run.records if r.outcome == FAIL]  # format 2: failures only
    rebuilt = Counter((r.operation, r.check, r.outcome) for r in document_records(small_document))
    assert rebuilt == Counter((r.operation, r.check, r.outcome) for r in run.records)
    failing_cells = [c for c in small_document["matrix"] if c["state"] == FAIL]
    assert small_document["score"]["failing_cells"] == len(failing_cells) == 5


def test_constraint_coverage_lists_every_constraint_with_the_gaps(small_document) -> None:
    table = {row["id"]: row for row in small_document["constraint_coverage"]["constraints"]}
    assert table["CreateAppInstance:Name:maxLength"]["outside"] == "broken"
    assert table["CreateAppInstance:Name:maxLength"]["covered"] is False
    assert table["CreateAppInstance:Name:required"]["covered"] is True
    assert table["CreateAppInstanceUser:AppInstanceUserId:required"]["outside"] == "not_probed"
    assert table["DeleteAccount:AccountId:required"]["inside"] == "not_probed"
    assert small_document["constraint_coverage"]["total"] == len(table)


def test_a_document_off_the_schema_is_refused_with_where_it_departs(small_document) -> None:
    small_document["matrix"][0]["state"] = "maybe"
    with pytest.raises(UnreadableResults, match=r"matrix/0/state"):
        validate_results_document(small_document)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**6) | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


REFERENCE = jsonschema.Draft202012Validator(results_schema())
COMPILED = jsonschema_rs.Draft202012Validator(results_schema())


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_compiled_schema_and_jsonschema_agree_on_every_changed_document(
    small_document, data: st.DataObject
) -> None:
    """validate_results_document lets jsonschema-rs decide validity and asks
    jsonschema only for the message: one change anywhere in a real document
    (a value replaced, a key dropped or added) gets the same verdict from both."""
    document = json.loads(json.dumps(small_document))
    parent, key = None, None
    node = document
    while isinstance(node, dict | list) and node and data.draw(st.booleans(), label="deeper"):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        parent, key = node, data.draw(st.sampled_from(keys), label="key")
        node = node[key]
    change = data.draw(st.sampled_from(["replace", "drop", "add"]), label="change")
    if change == "replace" and parent is not None:
        parent[key] = data.draw(JSON_VALUES, label="value")
    elif change == "drop" and isinstance(parent, dict):
        del parent[key]
    elif isinstance(node, dict):
        node[data.draw(st.text(max_size=12), label="new key")] = data.draw(JSON_VALUES)
    expected = REFERENCE.is_valid(document)
    assert COMPILED.is_valid(document) is expected
    if expected:
        validate_results_document(document)
    else:
        with pytest.raises(UnreadableResults, match=r"does not match results\.schema\.json at "):
            validate_results_document(document)


def test_raw_bytes_in_a_record_are_written_as_text(tmp_path: Path) -> None:
    run = small_run()
    raw = CheckRecord(
        "t::raw",
        "CreateAppInstance",
        "content_type_is_json",
        FAIL,
        message="Received: text/html. Documented: application/json",
        request={
            "method": "POST",
            "url": "http://127.0.0.1:8642/app-instances",
            "body": b'{"Name": "a"}',
        },
        response={"status": 502, "headers": {}, "body": b"<html>\xff bad gateway</html>"},
    )
    paths = write_reports(tmp_path, run.info, [*run.records, raw], run.coverage)
    document = load_results_document(paths.results_json)
    written = document["records"][-1]
    assert written["request"]["body"] == '{"Name": "a"}'
    assert written["response"]["body"] == "<html>\ufffd bad gateway</html>"
    assert "&lt;html&gt;\ufffd bad gateway" in paths.compliance_html.read_text(encoding="utf-8")


def test_a_clean_runs_results_stay_under_a_megabyte(tmp_path: Path) -> None:
    """Passes are counted per cell, not listed: 16,000 passing records (a clean
    ci run's count; format 1 wrote them in 7.7 MB) and 1,000 tests' outcomes
    still make well under 1 MB."""
    from chime_conformance.contract import spec
    from tests.support.report_runs import CHECKS, passing, run_info

    operations = [op.name for op in spec.operations()]
    records = [
        passing(operations[n % len(operations)], CHECKS[n % len(CHECKS)], f"test_{n % 1000}")
        for n in range(16_000)
    ]
    tests = {f"conformance/test_requests.py::test_{n}[{'x' * 40}]": "passed" for n in range(1000)}
    info = run_info(tests=tests, pytest_outcomes={"passed": 1000})
    full = full_run()
    paths = write_reports(tmp_path, info, records, full.coverage)
    size = paths.results_json.stat().st_size
    print(f"results.json of a clean run of 16,000 records: {size} bytes")
    assert size < 1_000_000
    document = load_results_document(paths.results_json)
    assert document["records"] == []
    assert sum(cell["passed"] for cell in document["matrix"]) == 16_000
