"""Differential runs: the same requests to two targets; disagreements reported."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from chime_conformance.emulator.server import running_emulator
from chime_conformance.run.differential import CHECK_NAME, disagreements, shape_of
from chime_conformance.wire.client import Exchange, ReceivedResponse, SentRequest
from tests.support import pytest_forkserver as forked

REPO = Path(__file__).resolve().parents[2]


def exchange(status: int, body: object, error: str | None = None) -> Exchange:
    headers = {"Content-Type": "application/json"} | ({"x-amzn-ErrorType": error} if error else {})
    raw = json.dumps(body).encode()
    return Exchange(
        request=SentRequest("GET", "http://127.0.0.1:1/app-instances", {}, None),
        response=ReceivedResponse(status, headers, raw, body),
        elapsed=0.0,
        operation="ListAppInstances",
    )


def test_shapes_keep_names_and_types_but_not_values():
    assert shape_of({"B": [1, 2], "A": {"x": "s", "t": 1.5, "n": None}}) == {
        "A": {"n": "null", "t": "number", "x": "string"},
        "B": ["number"],
    }
    # pages of one list hold different items on two targets: only item types count
    assert shape_of({"Items": [{"Name": "a", "Metadata": "m"}]}) == shape_of(
        {"Items": [{"Name": "b"}]}
    )
    assert shape_of({"Arn": "arn:one"}) == shape_of({"Arn": "arn:two"})


def test_a_next_token_depends_on_how_much_a_target_holds_so_it_is_not_compared():
    assert (
        disagreements(exchange(200, {"Items": [], "NextToken": "t"}), exchange(200, {"Items": []}))
        == []
    )


def test_answers_that_differ_only_in_values_agree():
    ours = exchange(200, {"AppInstances": [{"AppInstanceArn": "a", "Name": "x"}]})
    theirs = exchange(200, {"AppInstances": [{"AppInstanceArn": "b", "Name": "y"}]})
    assert disagreements(ours, theirs) == []


@pytest.mark.parametrize(
    ("ours", "theirs", "what"),
    [
        (exchange(200, {}), exchange(201, {}), "status"),
        (
            exchange(400, {}, "BadRequestException"),
            exchange(400, {}, "ConflictException"),
            "error type",
        ),
        (
            exchange(200, {"AppInstances": []}),
            exchange(200, {"AppInstances": [], "Extra": "t"}),
            "response shape",
        ),
        (exchange(200, {"Name": 1}), exchange(200, {"Name": "1"}), "response shape"),
        (
            exchange(200, {"Items": ["a"]}),
            exchange(200, {"Items": [{"Name": "a"}]}),
            "response shape",
        ),
    ],
)
def test_each_kind_of_disagreement_is_named(ours, theirs, what):
    assert [found[0] for found in disagreements(ours, theirs)] == [what]


def run_differential(target: str, reference: str, report_dir: Path, selection: str) -> dict:
    command = [
        sys.executable, "-m", "pytest", str(REPO / "conformance"), "-p", "no:cacheprovider",
        "--hypothesis-profile", "ci", "--no-shrink", "-k", selection,
        "--target-url", target, "--reference-url", reference, "--report-dir", str(report_dir),
    ]  # fmt: skip
    forked.run(command, capture_output=True, text=True, timeout=300, cwd=REPO)
    return json.loads((report_dir / "results.json").read_text())


def differential_records(results: dict, outcome: str) -> list[dict]:
    """Failing records are kept whole; passes are counted per cell (format 2)."""
    if outcome == "pass":
        return [c for c in results["matrix"] if c["check"] == CHECK_NAME and c["passed"]]
    return [r for r in results["records"] if r["check"] == CHECK_NAME and r["outcome"] == outcome]


@pytest.mark.slow
def test_a_fault_in_one_of_two_emulators_shows_in_the_differential_report(tmp_path: Path):
    selection = "valid_request and (CreateAppInstance or DescribeAppInstance)"
    with (
        running_emulator(faults=("create_answers_200",), allow_faults=True) as faulty,
        running_emulator() as clean,
    ):
        results = run_differential(faulty.url, clean.url, tmp_path, selection)
    failures = differential_records(results, "fail")
    assert failures, "the differential report shows no disagreement"
    # the fault answers 200 to every create; DescribeAppInstance keeps agreeing
    operations = {r["operation"] for r in failures}
    assert "CreateAppInstance" in operations and all(op.startswith("Create") for op in operations)
    assert all("status 200" in r["message"] and "status 201" in r["message"] for r in failures)
    assert differential_records(results, "pass")  # DescribeAppInstance agreed
    html = (tmp_path / "compliance.html").read_text()
    assert CHECK_NAME in html


@pytest.mark.slow
def test_two_clean_emulators_agree(tmp_path: Path):
    with running_emulator() as first, running_emulator() as second:
        results = run_differential(
            first.url,
            second.url,
            tmp_path,
            "(valid_request or missing_resource) and AppInstanceUser",
        )
    assert differential_records(results, "pass")
    assert differential_records(results, "fail") == []
