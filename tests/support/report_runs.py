"""Runs built by hand for the reporting tests: records, run info, coverage."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from chime_conformance.contract import constraints, spec
from chime_conformance.reporting import RunInfo, write_reports
from chime_conformance.reporting.matrix import STATEFUL
from chime_conformance.run.coverage import ConstraintCoverage
from chime_conformance.run.results import FAIL, NOT_APPLICABLE, PASS, CheckRecord

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


# Three runs of one endpoint for the history tests
REGRESSED = ("CreateAppInstance", "status_code_matches_spec")  # passes, then breaks
FIXED = ("DescribeAppInstanceUser", "response_matches_schema")  # fails, then is fixed
STEADY = ("ListAppInstances", "pagination_visits_each_item_once")  # passes throughout
HOSTILE_CELL = (HOSTILE, "status_code_matches_spec")  # a target's string as an operation name


def record(cell: tuple[str, str], outcome: str) -> CheckRecord:
    operation, check = cell
    message = f"Received: {HOSTILE} Documented: 201" if outcome == FAIL else ""
    return CheckRecord(
        f"conformance/test_x.py::test_{operation}", operation, check, outcome, message
    )


def three_runs(folder: Path) -> list[Path]:
    """Oldest first: run 1 one failure; run 2 a regression; run 3 the old failure fixed."""
    outcomes = [
        {REGRESSED: PASS, FIXED: FAIL, STEADY: PASS, HOSTILE_CELL: PASS},
        {REGRESSED: FAIL, FIXED: FAIL, STEADY: PASS, HOSTILE_CELL: PASS},
        {REGRESSED: FAIL, FIXED: PASS, STEADY: PASS, HOSTILE_CELL: FAIL},
    ]
    paths = []
    for number, cells in enumerate(outcomes, start=1):
        started = STARTED + timedelta(days=number)
        info = run_info(
            run_id=f"night{number}", started=started, finished=started + timedelta(minutes=30)
        )
        records = [record(cell, outcome) for cell, outcome in cells.items()]
        paths.append(
            write_reports(folder / f"run{number}", info, records, ConstraintCoverage()).results_json
        )
    return paths
