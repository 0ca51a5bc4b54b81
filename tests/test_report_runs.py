"""Runs built by hand for the reporting tests, and the matrix and score rules.

``small_run`` is a realistic run with passes, failures on several operations,
a stateful failure, a hostile target's strings and constraint coverage with
gaps; ``full_run`` is a synthetic run of every operation and constraint, the
size of a nightly run. Other ``test_report_*`` modules import them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chime_conformance import constraints, spec
from chime_conformance.coverage import ConstraintCoverage
from chime_conformance.reporting import RunInfo
from chime_conformance.reporting.matrix import NOT_RUN, STATEFUL, cells, score
from chime_conformance.results import FAIL, NOT_APPLICABLE, PASS, CheckRecord

TARGET = "http://127.0.0.1:8642"
CHECKS = (
    "status_code_matches_spec",
    "error_shape_matches_spec",
    "response_body_matches_schema",
    "content_type_is_json",
    "arns_match_chime_arn",
    "timestamps_are_epoch_seconds",
    "invalid_input_rejected",
    "valid_input_accepted",
    "pagination_visits_each_item_once",
    "idempotent_create",
    "missing_resource_not_found",
    "auth_enforced",
)
HOSTILE = '"><script>alert("pwned")</script><img src=x onerror=alert(1)>'
STARTED = datetime(2025, 6, 1, 2, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Run:
    info: RunInfo
    records: list[CheckRecord]
    coverage: ConstraintCoverage


def run_info(**changes: Any) -> RunInfo:
    values: dict[str, Any] = {
        "target_url": TARGET,
        "run_id": "cc1a2b3c4d5e",
        "started": STARTED,
        "finished": STARTED + timedelta(minutes=12, seconds=7),
        "seed": 20250601,
        "hypothesis_profile": "nightly",
        "pytest_outcomes": {"passed": 402, "failed": 5, "skipped": 3},
    }
    return RunInfo(**{**values, **changes})


# --------------------------------------------------------------------------
# Records as the suite writes them


def passing(operation: str, check: str, test: str = "test_valid_inputs") -> CheckRecord:
    return CheckRecord(f"conformance/test_{operation}.py::{test}", operation, check, PASS)


def request(method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    headers = {
        "Authorization": "AWS4-HMAC-SHA256 Credential=[redacted]/20250601/us-east-1/chime/aws4_request, SignedHeaders=host;x-amz-date, Signature=[redacted]",
        "X-Amz-Date": "20250601T020304Z",
    }
    if body is not None:
        headers["Content-Type"] = "application/json"
    return {
        "method": method,
        "url": TARGET + path,
        "headers": headers,
        "body": None if body is None else json.dumps(body),
    }


def response(status: int, body: Any, error_type: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "x-amzn-RequestId": "5f2c0d9e-0b1a-4c3e"}
    if error_type:
        headers["x-amzn-ErrorType"] = error_type
    return {"status": status, "headers": headers, "body": body}


def curl_for(method: str, path: str, body: dict[str, Any] | None) -> str:
    data = (
        f" \\\n  -H 'Content-Type: application/json' --data-binary '{json.dumps(body)}'"
        if body
        else ""
    )
    return (
        f"curl -sS -X {method} --aws-sigv4 'aws:amz:us-east-1:chime' \\\n"
        f'  --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"{data} \\\n'
        f"  '{TARGET}{path}'"
    )


def python_for(method: str, path: str, body: dict[str, Any] | None) -> str:
    return "\n".join(
        [
            "import json, botocore.session",
            "from botocore.auth import SigV4Auth",
            "from botocore.awsrequest import AWSRequest",
            "import urllib.request",
            "credentials = botocore.session.get_session().get_credentials()",
            f"request = AWSRequest(method={method!r}, url={TARGET + path!r}, data={json.dumps(body) if body else ''!r})",
            "SigV4Auth(credentials, 'chime', 'us-east-1').add_auth(request)",
            "print(urllib.request.urlopen(urllib.request.Request(request.url, request.body, dict(request.headers), method=request.method)).read())",
        ]
    )


def failing(
    operation: str,
    check: str,
    message: str,
    exchange: tuple[str, str, dict[str, Any] | None, dict[str, Any]],
    constraint: str | None = None,
    spec_fact: str = "",
) -> CheckRecord:
    method, path, body, answer = exchange
    return CheckRecord(
        test_id=f"conformance/test_{operation}.py::test_contract",
        operation=operation,
        check=check,
        outcome=FAIL,
        message=message,
        spec_fact=spec_fact,
        constraint=constraint,
        request=request(method, path, body),
        response=answer,
        reproducer_curl=curl_for(method, path, body),
        reproducer_python=python_for(method, path, body),
    )


def name_too_long() -> CheckRecord:
    body = {"Name": "a" * 257, "ClientRequestToken": "tok-0001"}
    arn = "arn:aws:chime:us-east-1:123456789012:app-instance/3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
    return failing(
        "CreateAppInstance",
        "invalid_input_rejected",
        "Received: 201 Created for a Name of 257 characters. Documented: Name has maxLength 256; a request that breaks it gets 400 BadRequestException.",
        ("POST", "/app-instances", body, response(201, {"AppInstanceArn": arn})),
        constraint="CreateAppInstance:Name:maxLength",
        spec_fact="CreateAppInstance:Name:maxLength",
    )


def server_error_on_describe_user() -> CheckRecord:
    path = "/app-instance-users/arn%3Aaws%3Achime%3Aus-east-1%3A123456789012%3Aapp-instance%2Fabc%2Fuser%2Fmissing"
    return failing(
        "DescribeAppInstanceUser",
        "missing_resource_not_found",
        "Received: 500 ServiceFailureException for a user that does not exist. Documented: 404 NotFoundException (also accepted: 403, 400).",
        (
            "GET",
            path,
            None,
            response(
                500,
                {"Code": "ServiceFailure", "Message": "NullPointer"},
                "ServiceFailureException:",
            ),
        ),
        spec_fact="missing or deleted resource",
    )


def hostile_error_shape() -> CheckRecord:
    path = "/accounts/00000000-0000-0000-0000-000000000000"
    return failing(
        "GetAccount",
        "error_shape_matches_spec",
        f'Received: a body without Code: {HOSTILE}. Documented: {{"Code": "NotFound", "Message": "…"}}',
        ("GET", path, None, response(404, HOSTILE)),
        spec_fact="error shape",
    )


def lost_page_item() -> CheckRecord:
    return failing(
        "ListAppInstances",
        "pagination_visits_each_item_once",
        "Received: 3 pages listing 2 of the 3 AppInstances created (missing: app-instance/9b…). Documented: following NextToken visits every item exactly once.",
        (
            "GET",
            "/app-instances?max-results=1&next-token=AAEC",
            None,
            response(200, {"AppInstances": []}),
        ),
        spec_fact="pagination",
    )


def deleted_user_still_described() -> CheckRecord:
    steps = (
        "state = AppInstanceLifecycle()",
        "app_instance_0 = state.create_app_instance(name='a')",
        "user_0 = state.create_app_instance_user(app_instance=app_instance_0, user_id='u0')",
        "state.delete_app_instance_user(user=user_0)",
        "state.describe_app_instance_user(user=user_0)  # expected 404",
        "state.teardown()",
    )
    path = "/app-instance-users/arn%3Aaws%3Achime%3Aus-east-1%3A123456789012%3Aapp-instance%2Fa%2Fuser%2Fu0"
    return CheckRecord(
        test_id="conformance/test_lifecycle.py::TestAppInstanceLifecycle::runTest",
        operation=STATEFUL,
        check="deleted_resource_is_gone",
        outcome=FAIL,
        message="Received: 200 OK describing AppInstanceUser u0 after DeleteAppInstanceUser returned 204. Documented: a deleted resource is NotFound (404).",
        spec_fact="missing or deleted resource",
        request=request("GET", path),
        response=response(200, {"AppInstanceUser": {"Name": "u0"}}),
        reproducer_curl=curl_for("GET", path, None),
        steps=steps,
    )


def small_run() -> Run:
    """Passes on most operations, four check failures, one stateful failure."""
    failures = [
        name_too_long(),
        server_error_on_describe_user(),
        hostile_error_shape(),
        lost_page_item(),
    ]
    records = [passing(op.name, check) for op in spec.operations()[:20] for check in CHECKS[:4]]
    records += [passing("CreateAppInstance", "invalid_input_rejected", "test_other_constraints")]
    records += [
        CheckRecord(
            "conformance/test_tags.py::test_tags",
            "TagResource",
            "pagination_visits_each_item_once",
            NOT_APPLICABLE,
        )
    ]
    records += [passing(STATEFUL, "deleted_resource_is_gone", "TestAdmins::runTest")]
    records += [*failures, deleted_user_still_described()]
    return Run(run_info(), records, gappy_coverage())


def gappy_coverage() -> ConstraintCoverage:
    """Both sides held for CreateAppInstance's constraints, except Name's
    maxLength, whose outside probe was accepted; one side only on
    CreateAppInstanceUser; nothing elsewhere."""
    coverage = ConstraintCoverage()
    for c in constraints.constraints(spec.operation("CreateAppInstance")):
        coverage.record(c.id, "inside", True)
        coverage.record(c.id, "outside", c.id != "CreateAppInstance:Name:maxLength")
    for c in constraints.constraints(spec.operation("CreateAppInstanceUser")):
        coverage.record(c.id, "inside", True)
    return coverage


def full_run() -> Run:
    """Every operation × 12 checks, three passing tests a cell, 48 failures
    with their exchanges and reproducers, a few stateful failures, and every
    constraint of the catalogue probed (nine in ten covered)."""
    records: list[CheckRecord] = []
    templates = [
        name_too_long(),
        server_error_on_describe_user(),
        hostile_error_shape(),
        lost_page_item(),
    ]
    for index, op in enumerate(spec.operations()):
        for number, check in enumerate(CHECKS):
            records += [passing(op.name, check, f"test_{n}") for n in range(3)]
            if (index * 12 + number) % 9 == 0:
                template = templates[number % len(templates)]
                records.append(
                    CheckRecord(
                        **{**template.to_json(), "operation": op.name, "check": check, "steps": ()}
                    )
                )
    records += [deleted_user_still_described() for _ in range(3)]
    coverage = ConstraintCoverage()
    for number, c in enumerate(constraints.all_constraints()):
        coverage.record(c.id, "inside", True)
        coverage.record(c.id, "outside", number % 10 != 0)
    return Run(run_info(), records, coverage)


# --------------------------------------------------------------------------
# The matrix and the score


def test_a_cell_fails_when_any_record_failed_and_passes_when_one_passed() -> None:
    records = [
        passing("CreateAppInstance", "status_code_matches_spec"),
        name_too_long(),
        passing("CreateAppInstance", "invalid_input_rejected", "test_other"),
        CheckRecord("t", "TagResource", "invalid_input_rejected", NOT_APPLICABLE),
    ]
    states = {(c.operation, c.check): c.state for c in cells(records)}
    assert states[("CreateAppInstance", "status_code_matches_spec")] == PASS
    assert states[("CreateAppInstance", "invalid_input_rejected")] == FAIL
    assert states[("TagResource", "invalid_input_rejected")] == NOT_APPLICABLE
    assert states[("DeleteAccount", "invalid_input_rejected")] == NOT_RUN


def test_score_counts_passing_cells_among_cells_that_ran_to_a_verdict() -> None:
    records = [
        passing("CreateAppInstance", "status_code_matches_spec"),
        passing("ListAppInstances", "status_code_matches_spec"),
        passing("DeleteAccount", "status_code_matches_spec"),
        name_too_long(),
        CheckRecord("t", "TagResource", "status_code_matches_spec", NOT_APPLICABLE),
    ]
    result = score(cells(records))
    assert (result.passing_cells, result.failing_cells) == (3, 1)
    assert result.value == 0.75


def test_score_is_none_when_nothing_ran() -> None:
    assert score(cells([])).value is None


def test_every_operation_of_the_spec_is_a_row_and_the_stateful_checks_one_more() -> None:
    operations = {c.operation for c in cells(small_run().records)}
    assert operations == {op.name for op in spec.operations()} | {STATEFUL}
    assert len(spec.operations()) == 35


def test_the_full_run_is_the_size_of_a_nightly_run() -> None:
    run = full_run()
    failures = [r for r in run.records if r.outcome == FAIL]
    assert len(run.records) > 1000
    assert 30 <= len(failures) <= 100
    assert len(run.coverage.outcomes) == len(constraints.all_constraints())
