"""Every check can fail: a hand-made bad exchange per check must raise
CheckFailure, and a good one must pass. The tables are checked against the
registry, so a new check without both cases fails this module."""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from chime_conformance import checks
from chime_conformance.checks import CHECKS, CheckContext, CheckFailure, Expectation
from chime_conformance.contract import spec
from chime_conformance.wire.client import Exchange, ReceivedResponse, SentRequest, Signing

NOW = 1_715_900_000.0  # 2024-05-16
ACCOUNT = "123456789012"
INSTANCE = f"arn:aws:chime:us-east-1:{ACCOUNT}:app-instance/5bd8ce3d-0e4c-4b9b-8c1a-2c4f1a2b3c4d"
USER = f"{INSTANCE}/user/alice"
BOT = f"{INSTANCE}/bot/7f1d0b5e-8d0a-4c8e-9a57-1b2c3d4e5f60"


def exchange(
    status: int,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
    signing: Signing = Signing.SIGNED,
) -> Exchange:
    """A hand-made exchange: ``body`` is JSON-encoded unless ``raw`` bytes are given."""
    content = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    if headers is None:
        headers = {"Content-Type": "application/json"} if content else {}
    return Exchange(
        request=SentRequest("POST", "http://127.0.0.1:1/x", {}, None),
        response=ReceivedResponse(status, headers, content),
        elapsed=0.01,
        signing=signing,
    )


def error(
    status: int,
    name: str | None,
    *,
    code: str | None = "",
    message: str | None = "m",
    signing: Signing = Signing.SIGNED,
) -> Exchange:
    """An error answer; ``code=""`` means the Code the contract gives ``name``."""
    body: dict[str, Any] = {}
    if code is not None:
        contract = checks.CONTRACT_ERROR_CODES.get((name or "").split(":")[0])
        body["Code"] = code or (contract[0] if contract else (name or "").removesuffix("Exception"))
    if message is not None:
        body["Message"] = message
    headers = {"Content-Type": "application/json"}
    if name is not None:
        headers["x-amzn-ErrorType"] = name
    return exchange(status, body, headers=headers, signing=signing)


def instance(**overrides: Any) -> dict[str, Any]:
    return {
        "AppInstanceArn": INSTANCE,
        "Name": "app",
        "Metadata": "",
        "CreatedTimestamp": NOW - 100,
        "LastUpdatedTimestamp": NOW - 50,
        **overrides,
    }


INVALID_NAME = spec.Violation("Name", "maxLength", "too long")
INVALID_PATH = spec.Violation("AppInstanceArn", "pattern", "not an ARN")
VALID = Expectation.valid_input()
PRESENT = Expectation.valid_input(resource="present")
ABSENT = Expectation.valid_input(resource="absent")
FOREIGN = Expectation.valid_input(resource="another-account")
INVALID = Expectation.invalid_input(INVALID_NAME)


@dataclass(frozen=True)
class Case:
    check: str
    name: str
    operation: str
    exchange: Exchange
    expectation: Expectation = VALID
    strict: bool = False
    members: dict[str, Any] = field(default_factory=dict)

    def context(self) -> CheckContext:
        return CheckContext(
            spec.operation(self.operation),
            strict=self.strict,
            account_id=ACCOUNT,
            region="us-east-1",
            members=self.members,
            clock=lambda: NOW,
        )

    def run(self) -> bool:
        return CHECKS[self.check](self.context(), self.exchange, self.expectation)


GOOD = [
    Case("status_code_matches_spec", "201 for Create", "CreateAppInstance", exchange(201, {})),
    Case(
        "status_code_matches_spec",
        "documented 409",
        "CreateAppInstance",
        error(409, "ConflictException"),
    ),
    Case(
        "status_code_matches_spec",
        "lenient 404 for a missing resource",
        "CreateAppInstance",
        error(404, "NotFoundException"),
        ABSENT,
    ),
    Case(
        "status_code_matches_spec",
        "401 for an unsigned request",
        "DescribeAppInstance",
        error(401, "UnauthorizedClientException", signing=Signing.UNSIGNED),
    ),
    Case(
        "response_matches_schema",
        "valid AppInstance",
        "DescribeAppInstance",
        exchange(200, {"AppInstance": instance()}),
    ),
    Case(
        "response_matches_schema",
        "unknown members allowed",
        "CreateAppInstance",
        exchange(201, {"AppInstanceArn": INSTANCE, "New": 1}),
    ),
    Case("content_type_is_json", "application/json", "CreateAppInstance", exchange(201, {})),
    Case(
        "content_type_is_json",
        "with charset",
        "CreateAppInstance",
        exchange(201, {}, headers={"Content-Type": "application/json; charset=utf-8"}),
    ),
    Case(
        "error_shape_is_aws", "BadRequest", "CreateAppInstance", error(400, "BadRequestException")
    ),
    Case(
        "error_shape_is_aws",
        "header with a URL suffix",
        "CreateAppInstance",
        error(404, "NotFoundException:http://internal.amazon.com/coral/", code="NotFound"),
    ),
    Case(
        "error_shape_is_aws",
        "lenient: Throttled code",
        "CreateAppInstance",
        error(429, "ThrottledClientException", code="Throttled"),
    ),
    Case(
        "session_token_verified",
        "lenient: 401 with the error shape",
        "ListAppInstances",
        error(401, "UnauthorizedClientException", signing=Signing.BOGUS_SESSION_TOKEN),
    ),
    Case(
        "session_token_verified",
        "strict: 403 UnrecognizedClient",
        "ListAppInstances",
        error(403, "UnrecognizedClientException", signing=Signing.BOGUS_SESSION_TOKEN),
        strict=True,
    ),
    Case(
        "presigned_request_verified",
        "presigned read served",
        "ListAppInstances",
        exchange(200, {"AppInstances": []}, signing=Signing.PRESIGNED),
    ),
    Case(
        "presigned_request_verified",
        "strict: expired presigned refused with 403",
        "ListAppInstances",
        error(403, "InvalidSignatureException", signing=Signing.PRESIGNED_EXPIRED),
        strict=True,
    ),
    Case(
        "error_code_enum",
        "strict: 429 Throttled",
        "CreateAppInstance",
        error(429, "ThrottledClientException", code="Throttled"),
        strict=True,
    ),
    Case(
        "error_code_enum",
        "lenient: 429 Throttling",
        "CreateAppInstance",
        error(429, "ThrottledClientException", code="Throttling"),
    ),
    Case(
        "error_code_enum",
        "strict: 422 Unprocessable",
        "DeleteAccount",
        error(422, "UnprocessableEntityException"),
        strict=True,
    ),
    Case(
        "error_code_enum",
        "strict: 401 Unauthorized",
        "DescribeAppInstance",
        error(401, "UnauthorizedClientException"),
        strict=True,
    ),
    Case(
        "error_shape_is_aws",
        "lenient: gateway-style lower-case message",
        "CreateAppInstance",
        exchange(
            403,
            {"message": "Missing Authentication Token"},
            headers={"x-amzn-ErrorType": "MissingAuthenticationTokenException"},
        ),
    ),
    Case(
        "arns_match_pattern",
        "AppInstance of this account and region",
        "DescribeAppInstance",
        exchange(200, {"AppInstance": instance()}),
    ),
    Case(
        "arns_match_pattern",
        "admins are users or bots of the instance",
        "ListAppInstanceAdmins",
        exchange(
            200,
            {
                "AppInstanceArn": INSTANCE,
                "AppInstanceAdmins": [{"Admin": {"Arn": USER}}, {"Admin": {"Arn": BOT}}],
            },
        ),
        members={"AppInstanceArn": INSTANCE},
    ),
    Case(
        "arns_match_pattern",
        "strict: UUID ids",
        "CreateAppInstanceBot",
        exchange(201, {"AppInstanceBotArn": BOT}),
        strict=True,
    ),
    Case(
        "timestamps_are_plausible",
        "epoch seconds",
        "DescribeAppInstance",
        exchange(200, {"AppInstance": instance()}),
    ),
    Case(
        "timestamps_are_plausible",
        "created == updated",
        "DescribeAppInstance",
        exchange(200, {"AppInstance": instance(LastUpdatedTimestamp=NOW - 100)}),
    ),
    Case(
        "timestamps_are_plausible",
        "accounts: ISO-8601",
        "GetAccount",
        exchange(200, {"Account": {"CreatedTimestamp": "2021-07-16T12:00:00.000Z"}}),
    ),
    Case(
        "invalid_input_rejected",
        "400 BadRequest",
        "CreateAppInstance",
        error(400, "BadRequestException"),
        INVALID,
    ),
    Case(
        "invalid_input_rejected",
        "lenient: 404 for an unroutable path",
        "DescribeAppInstance",
        error(404, "NotFoundException"),
        Expectation.invalid_input(INVALID_PATH),
    ),
    Case("valid_input_accepted", "201", "CreateAppInstance", exchange(201, {})),
    Case(
        "valid_input_accepted",
        "409 is not a validation error",
        "CreateAppInstance",
        error(409, "ConflictException"),
    ),
    Case(
        "valid_input_accepted",
        "quota is not a validation error",
        "CreateAppInstance",
        error(400, "ResourceLimitExceededException"),
    ),
    Case("not_a_server_error", "4xx", "CreateAppInstance", error(400, "BadRequestException")),
    Case(
        "auth_enforced",
        "unsigned: 403 with the error shape",
        "ListAppInstances",
        error(403, "MissingAuthenticationTokenException", signing=Signing.UNSIGNED),
    ),
    Case(
        "auth_enforced",
        "strict: exact name",
        "ListAppInstances",
        error(403, "UnrecognizedClientException", signing=Signing.UNKNOWN_KEY),
        strict=True,
    ),
    Case(
        "signed_request_authenticated",
        "a permission error is not an authentication error",
        "ListAppInstances",
        error(403, "ForbiddenException"),
    ),
    Case(
        "missing_resource_reported",
        "404",
        "DescribeAppInstance",
        error(404, "NotFoundException"),
        ABSENT,
    ),
    Case(
        "missing_resource_reported",
        "lenient: 403",
        "DescribeAppInstance",
        error(403, "ForbiddenException"),
        ABSENT,
    ),
    Case(
        "other_account_refused",
        "strict: 403",
        "DescribeAppInstance",
        error(403, "ForbiddenException"),
        FOREIGN,
        strict=True,
    ),
    Case(
        "other_account_refused",
        "strict, accounts API: 404",
        "GetAccount",
        error(404, "NotFoundException"),
        FOREIGN,
        strict=True,
    ),
    Case(
        "other_account_refused",
        "lenient: 404",
        "DescribeAppInstance",
        error(404, "NotFoundException"),
        FOREIGN,
    ),
    # request_id_present lives in chime_conformance.checks.protocol (docs/contract.md request-id)
    Case(
        "request_id_present",
        "a success with its id",
        "DescribeAppInstance",
        exchange(200, {}, headers={"x-amzn-RequestId": "4f1e8c1e-1b1e-4c1e-8e1e-1e1e1e1e1e1e"}),
    ),
    Case(
        "request_id_present",
        "an error with its id",
        "DescribeAppInstance",
        exchange(
            404, {}, headers={"x-amzn-ErrorType": "NotFoundException", "x-amzn-RequestId": "r"}
        ),
        ABSENT,
    ),
]

BAD = [
    Case("status_code_matches_spec", "200 instead of 201", "CreateAppInstance", exchange(200, {})),
    Case(
        "status_code_matches_spec",
        "undocumented 422",
        "CreateAppInstance",
        error(422, "UnprocessableEntityException"),
    ),
    Case("status_code_matches_spec", "a redirect", "CreateAppInstance", exchange(302)),
    Case(
        "status_code_matches_spec",
        "404 where none is documented",
        "CreateAppInstance",
        error(404, "NotFoundException"),
    ),
    Case(
        "response_matches_schema",
        "timestamp as a string",
        "DescribeAppInstance",
        exchange(200, {"AppInstance": instance(CreatedTimestamp="2024-01-01")}),
    ),
    Case(
        "response_matches_schema", "not JSON", "DescribeAppInstance", exchange(200, raw=b"<html>")
    ),
    Case(
        "response_matches_schema",
        "an ARN that is not one",
        "CreateAppInstance",
        exchange(201, {"AppInstanceArn": "nope"}),
    ),
    Case(
        "content_type_is_json",
        "text/html",
        "CreateAppInstance",
        exchange(201, {}, headers={"Content-Type": "text/html"}),
    ),
    Case(
        "content_type_is_json",
        "no Content-Type",
        "CreateAppInstance",
        exchange(201, {}, headers={}),
    ),
    Case(
        "content_type_is_json",
        "says JSON, is not",
        "CreateAppInstance",
        exchange(201, raw=b"{oops", headers={"Content-Type": "application/json"}),
    ),
    Case(
        "content_type_is_json",
        "strict: x-amz-json-1.1",
        "CreateAppInstance",
        exchange(201, {}, headers={"Content-Type": "application/x-amz-json-1.1"}),
        strict=True,
    ),
    Case("error_shape_is_aws", "no header", "CreateAppInstance", error(400, None)),
    Case(
        "error_shape_is_aws",
        "header and status disagree",
        "CreateAppInstance",
        error(404, "BadRequestException", code="BadRequest"),
    ),
    Case(
        "error_shape_is_aws",
        "Code not a string",
        "CreateAppInstance",
        error(400, "BadRequestException", code=400),  # type: ignore[arg-type]
    ),
    Case(
        "session_token_verified",
        "bogus token served",
        "ListAppInstances",
        exchange(200, {"AppInstances": []}, signing=Signing.BOGUS_SESSION_TOKEN),
    ),
    Case(
        "session_token_verified",
        "strict: refused with another exception",
        "ListAppInstances",
        error(403, "InvalidSignatureException", signing=Signing.BOGUS_SESSION_TOKEN),
        strict=True,
    ),
    Case(
        "presigned_request_verified",
        "presigned read counted as unsigned",
        "ListAppInstances",
        error(403, "MissingAuthenticationTokenException", signing=Signing.PRESIGNED),
    ),
    Case(
        "presigned_request_verified",
        "expired presigned read served",
        "ListAppInstances",
        exchange(200, {"AppInstances": []}, signing=Signing.PRESIGNED_EXPIRED),
    ),
    Case(
        "presigned_request_verified",
        "strict: expired presigned refused with 401",
        "ListAppInstances",
        error(401, "UnauthorizedClientException", signing=Signing.PRESIGNED_EXPIRED),
        strict=True,
    ),
    Case(
        "error_code_enum",
        "strict: Code and header disagree",
        "CreateAppInstance",
        error(400, "BadRequestException", code="NotFound"),
        strict=True,
    ),
    Case(
        "error_code_enum",
        "exception name, not an ErrorCode",
        "DescribeAppInstance",
        error(401, "UnauthorizedClientException", code="UnauthorizedClient"),
    ),
    Case(
        "error_code_enum",
        "accounts: UnprocessableEntity is not an ErrorCode",
        "DeleteAccount",
        error(422, "UnprocessableEntityException", code="UnprocessableEntity"),
    ),
    Case(
        "error_code_enum",
        "HTTP reason phrase",
        "DescribeAppInstance",
        error(404, "NotFoundException", code="Not Found"),
    ),
    Case(
        "error_code_enum",
        "strict: Throttling is the unverified alternative",
        "CreateAppInstance",
        error(429, "ThrottledClientException", code="Throttling"),
        strict=True,
    ),
    Case(
        "error_shape_is_aws",
        "no Message",
        "CreateAppInstance",
        error(400, "BadRequestException", message=None),
    ),
    Case(
        "error_shape_is_aws",
        "body not JSON",
        "CreateAppInstance",
        exchange(400, raw=b"Bad", headers={"x-amzn-ErrorType": "BadRequestException"}),
    ),
    Case("error_shape_is_aws", "not an exception name", "CreateAppInstance", error(400, "Oops")),
    Case(
        "error_shape_is_aws",
        "strict: no Code",
        "CreateAppInstance",
        error(400, "BadRequestException", code=None),
        strict=True,
    ),
    Case(
        "arns_match_pattern",
        "another region",
        "CreateAppInstance",
        exchange(201, {"AppInstanceArn": INSTANCE.replace("us-east-1", "eu-west-1")}),
    ),
    Case(
        "arns_match_pattern",
        "another account",
        "CreateAppInstance",
        exchange(201, {"AppInstanceArn": INSTANCE.replace(ACCOUNT, "999999999999")}),
    ),
    Case(
        "arns_match_pattern",
        "another service",
        "CreateAppInstance",
        exchange(201, {"AppInstanceArn": INSTANCE.replace(":chime:", ":lex:")}),
    ),
    Case(
        "arns_match_pattern",
        "not an ARN",
        "CreateAppInstance",
        exchange(201, {"AppInstanceArn": "app-instance/1"}),
    ),
    Case(
        "arns_match_pattern",
        "a user ARN for an AppInstance",
        "CreateAppInstance",
        exchange(201, {"AppInstanceArn": USER}),
    ),
    Case(
        "arns_match_pattern",
        "a bot ARN for a user",
        "CreateAppInstanceUser",
        exchange(201, {"AppInstanceUserArn": BOT}),
    ),
    Case(
        "arns_match_pattern",
        "a user of another AppInstance",
        "ListAppInstanceUsers",
        exchange(200, {"AppInstanceUsers": [{"AppInstanceUserArn": USER.replace("5bd8", "0000")}]}),
        members={"AppInstanceArn": INSTANCE},
    ),
    Case(
        "arns_match_pattern",
        "not the requested user id",
        "CreateAppInstanceUser",
        exchange(201, {"AppInstanceUserArn": USER}),
        members={"AppInstanceArn": INSTANCE, "AppInstanceUserId": "bob"},
    ),
    Case(
        "arns_match_pattern",
        "strict: AppInstance id not a UUID",
        "CreateAppInstance",
        exchange(201, {"AppInstanceArn": f"arn:aws:chime:us-east-1:{ACCOUNT}:app-instance/abc"}),
        strict=True,
    ),
    Case(
        "timestamps_are_plausible",
        "milliseconds",
        "DescribeAppInstance",
        exchange(200, {"AppInstance": instance(CreatedTimestamp=NOW * 1000)}),
    ),
    Case(
        "timestamps_are_plausible",
        "in the future",
        "DescribeAppInstance",
        exchange(200, {"AppInstance": instance(LastUpdatedTimestamp=NOW + 3600)}),
    ),
    Case(
        "timestamps_are_plausible",
        "absurdly old",
        "DescribeAppInstance",
        exchange(200, {"AppInstance": instance(CreatedTimestamp=0, LastUpdatedTimestamp=0)}),
    ),
    Case(
        "timestamps_are_plausible",
        "a string in the identity API",
        "DescribeAppInstance",
        exchange(200, {"AppInstance": instance(CreatedTimestamp="2024-05-16T00:00:00Z")}),
    ),
    Case(
        "timestamps_are_plausible",
        "a boolean",
        "DescribeAppInstance",
        exchange(200, {"AppInstance": instance(CreatedTimestamp=True)}),
    ),
    Case(
        "timestamps_are_plausible",
        "updated before created",
        "DescribeAppInstance",
        exchange(200, {"AppInstance": instance(LastUpdatedTimestamp=NOW - 200)}),
    ),
    Case(
        "timestamps_are_plausible",
        "accounts: epoch number",
        "GetAccount",
        exchange(200, {"Account": {"CreatedTimestamp": NOW}}),
    ),
    Case(
        "timestamps_are_plausible",
        "strict accounts: no time zone",
        "GetAccount",
        exchange(200, {"Account": {"CreatedTimestamp": "2021-07-16T12:00:00"}}),
        strict=True,
    ),
    Case("invalid_input_rejected", "accepted", "CreateAppInstance", exchange(201, {}), INVALID),
    Case(
        "invalid_input_rejected",
        "server error",
        "CreateAppInstance",
        error(500, "ServiceFailureException"),
        INVALID,
    ),
    Case(
        "invalid_input_rejected",
        "404 for a body constraint",
        "CreateAppInstance",
        error(404, "NotFoundException"),
        INVALID,
    ),
    Case(
        "invalid_input_rejected",
        "strict: 400 of another kind",
        "CreateAppInstance",
        error(400, "ResourceLimitExceededException"),
        INVALID,
        strict=True,
    ),
    Case(
        "invalid_input_rejected",
        "strict: 404 for a path constraint",
        "DescribeAppInstance",
        error(404, "NotFoundException"),
        Expectation.invalid_input(INVALID_PATH),
        strict=True,
    ),
    Case(
        "valid_input_accepted",
        "rejected as invalid",
        "CreateAppInstance",
        error(400, "BadRequestException"),
    ),
    Case(
        "valid_input_accepted",
        "unprocessable",
        "CreateAccount",
        error(422, "UnprocessableEntityException"),
    ),
    Case(
        "valid_input_accepted",
        "existing resource not found",
        "DescribeAppInstance",
        error(404, "NotFoundException"),
        PRESENT,
    ),
    Case("not_a_server_error", "500", "CreateAppInstance", error(500, "ServiceFailureException")),
    Case(
        "not_a_server_error",
        "503 after retries",
        "CreateAppInstance",
        error(503, "ServiceUnavailableException"),
    ),
    Case(
        "auth_enforced",
        "unsigned accepted",
        "ListAppInstances",
        exchange(200, {}, signing=Signing.UNSIGNED),
    ),
    Case(
        "auth_enforced",
        "tampered signature accepted",
        "ListAppInstances",
        exchange(200, {}, signing=Signing.TAMPERED),
    ),
    Case(
        "auth_enforced",
        "stale date refused without the error shape",
        "ListAppInstances",
        exchange(403, raw=b"Forbidden", headers={}, signing=Signing.STALE_DATE),
    ),
    Case(
        "auth_enforced",
        "other region: 400",
        "ListAppInstances",
        error(400, "BadRequestException", signing=Signing.OTHER_REGION),
    ),
    Case(
        "auth_enforced",
        "strict: wrong exception name",
        "ListAppInstances",
        error(403, "ForbiddenException", signing=Signing.UNSIGNED),
        strict=True,
    ),
    Case(
        "signed_request_authenticated",
        "botocore's signature refused",
        "ListAppInstances",
        error(403, "InvalidSignatureException"),
    ),
    Case(
        "missing_resource_reported",
        "200",
        "DescribeAppInstance",
        exchange(200, {"AppInstance": instance()}),
        ABSENT,
    ),
    Case(
        "missing_resource_reported", "204 for a delete", "DeleteAppInstance", exchange(204), ABSENT
    ),
    Case(
        "missing_resource_reported",
        "500",
        "DescribeAppInstance",
        error(500, "ServiceFailureException"),
        ABSENT,
    ),
    Case(
        "missing_resource_reported",
        "404 named otherwise",
        "DescribeAppInstance",
        error(404, "ConflictException"),
        ABSENT,
    ),
    Case(
        "missing_resource_reported",
        "strict: 403",
        "DescribeAppInstance",
        error(403, "ForbiddenException"),
        ABSENT,
        strict=True,
    ),
    Case(
        "other_account_refused",
        "served",
        "DescribeAppInstance",
        exchange(200, {"AppInstance": instance()}),
        FOREIGN,
    ),
    Case(
        "other_account_refused",
        "strict: 404",
        "DescribeAppInstance",
        error(404, "NotFoundException"),
        FOREIGN,
        strict=True,
    ),
    Case(
        "other_account_refused",
        "an error carrying the resource",
        "DescribeAppInstance",
        exchange(
            403,
            {"Code": "Forbidden", "Message": "m", "AppInstance": instance()},
            headers={"Content-Type": "application/json", "x-amzn-ErrorType": "ForbiddenException"},
        ),
        FOREIGN,
    ),
    Case("request_id_present", "a success without one", "DescribeAppInstance", exchange(200, {})),
    Case(
        "request_id_present",
        "an error without one",
        "DescribeAppInstance",
        error(404, "NotFoundException"),
        ABSENT,
    ),
    Case(
        "request_id_present",
        "an empty one",
        "DescribeAppInstance",
        exchange(200, {}, headers={"x-amzn-RequestId": " "}),
    ),
    Case(
        "request_id_present",
        "strict: the signing layer's error without one",
        "ListAppInstances",
        error(403, "InvalidSignatureException", signing=Signing.TAMPERED),
        strict=True,
    ),
]


def _id(case: Case) -> str:
    return f"{case.check}: {case.name}"


def test_every_check_has_a_good_and_a_bad_case() -> None:
    assert {case.check for case in GOOD} == set(CHECKS)
    assert {case.check for case in BAD} == set(CHECKS)


@pytest.mark.parametrize("case", GOOD, ids=_id)
def test_good_exchange_passes(case: Case) -> None:
    assert case.run() is True


@pytest.mark.parametrize("case", BAD, ids=_id)
def test_bad_exchange_fails(case: Case) -> None:
    with pytest.raises(CheckFailure) as caught:
        case.run()
    failure = caught.value
    assert failure.check == case.check
    assert failure.operation == case.operation
    message = str(failure)
    assert message.startswith(f"[{case.check}] {case.operation}: {failure.spec_fact}\n")
    assert "\nReceived: " in message
    assert "\nDocumented: " in message


def test_failure_message_names_the_spec_fact() -> None:
    case = BAD[0]
    with pytest.raises(CheckFailure) as caught:
        case.run()
    assert caught.value.message == (
        "CreateAppInstance: success status (spec responses: 201)\nReceived: 200\nDocumented: 201"
    )


def test_check_failure_is_an_assertion_error() -> None:
    assert issubclass(CheckFailure, AssertionError)


@pytest.mark.parametrize(
    ("check", "the_exchange", "expectation"),
    [
        ("response_matches_schema", error(400, "BadRequestException"), VALID),
        ("response_matches_schema", exchange(204), VALID),
        ("content_type_is_json", exchange(204), VALID),
        ("error_shape_is_aws", exchange(201, {}), VALID),
        ("arns_match_pattern", error(404, "NotFoundException"), VALID),
        ("timestamps_are_plausible", exchange(201, {"AppInstanceArn": INSTANCE}), VALID),
        ("invalid_input_rejected", exchange(201, {}), VALID),
        ("valid_input_accepted", error(400, "BadRequestException"), INVALID),
        ("valid_input_accepted", error(404, "NotFoundException"), ABSENT),
        ("auth_enforced", exchange(201, {}), VALID),
        ("signed_request_authenticated", exchange(200, {}, signing=Signing.UNSIGNED), VALID),
        ("missing_resource_reported", exchange(201, {}), VALID),
        ("missing_resource_reported", error(400, "BadRequestException"), INVALID),
        ("other_account_refused", error(403, "ForbiddenException"), ABSENT),
        ("valid_input_accepted", error(403, "ForbiddenException"), FOREIGN),
        ("error_code_enum", exchange(201, {}), VALID),
        ("session_token_verified", exchange(200, {}), VALID),
        ("presigned_request_verified", exchange(200, {}), VALID),
        ("auth_enforced", error(403, "X", signing=Signing.BOGUS_SESSION_TOKEN), VALID),
        ("auth_enforced", exchange(200, {}, signing=Signing.PRESIGNED), VALID),
        # the signing layer is not modeled: its errors keep their own Code
        (
            "error_code_enum",
            error(403, "MissingAuthenticationTokenException", signing=Signing.UNSIGNED),
            VALID,
        ),
    ],
)
def test_checks_that_do_not_apply_say_so(
    check: str, the_exchange: Exchange, expectation: Expectation
) -> None:
    ctx = CheckContext(spec.operation("CreateAppInstance"), clock=lambda: NOW)
    assert CHECKS[check](ctx, the_exchange, expectation) is False


def test_account_is_not_compared_when_unknown() -> None:
    ctx = CheckContext(spec.operation("CreateAppInstance"), account_id=None)
    other = exchange(201, {"AppInstanceArn": INSTANCE.replace(ACCOUNT, "999999999999")})
    assert CHECKS["arns_match_pattern"](ctx, other, VALID) is True


def test_lex_alias_arns_are_not_chime_arns() -> None:
    ctx = CheckContext(
        spec.operation("DescribeAppInstanceBot"), account_id=ACCOUNT, clock=lambda: NOW
    )
    bot = {
        "AppInstanceBotArn": BOT,
        "Configuration": {"Lex": {"LexBotAliasArn": "arn:aws:lex:us-east-1:1:bot-alias/A/B"}},
    }
    assert CHECKS["arns_match_pattern"](ctx, exchange(200, {"AppInstanceBot": bot}), VALID) is True


def test_run_checks_collects_every_outcome() -> None:
    ctx = CheckContext(spec.operation("CreateAppInstance"), account_id=ACCOUNT, clock=lambda: NOW)
    results = checks.run_checks(ctx, error(500, "ServiceFailureException"), INVALID)
    by_name = {result.check: result for result in results}
    assert set(by_name) == set(CHECKS)
    assert not by_name["not_a_server_error"].passed
    assert not by_name["invalid_input_rejected"].passed
    assert by_name["error_shape_is_aws"].passed
    assert not by_name["response_matches_schema"].applied


def test_expectation_from_members_uses_the_spec() -> None:
    op = spec.operation("CreateAppInstance")
    invalid = Expectation.from_members(op, {"Name": "", "ClientRequestToken": "token-1"})
    assert not invalid.input_is_valid
    assert "Name" in invalid.describe_violations()
    valid = Expectation.from_members(
        op, {"Name": "a", "ClientRequestToken": "token-1"}, resource="present"
    )
    assert valid.input_is_valid and valid.resource == "present"


def test_invalid_input_needs_a_violation() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Expectation.invalid_input()


def test_a_check_name_is_registered_once() -> None:
    def status_code_matches_spec(ctx: CheckContext, ex: Exchange, exp: Expectation) -> bool:
        return True

    with pytest.raises(ValueError, match="already registered"):
        checks.check(rule="success-codes")(status_code_matches_spec)


def test_the_checks_package_does_not_import_pytest() -> None:
    for module in Path(checks.__file__).parent.glob("*.py"):
        assert "import pytest" not in module.read_text(encoding="utf-8"), module.name


def test_failures_survive_pickling() -> None:
    with pytest.raises(CheckFailure) as caught:
        BAD[0].run()
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (str(copy), copy.check, copy.spec_fact) == (
        str(caught.value),
        caught.value.check,
        caught.value.spec_fact,
    )


def test_a_body_found_valid_once_is_judged_alike_every_time() -> None:
    """The schema check remembers bodies it found valid; what differs in any
    way validation sees (a value, a type, another schema) is walked again."""
    valid = exchange(200, {"AppInstance": instance()})
    again = exchange(200, {"AppInstance": dict(reversed(list(instance().items())))})
    as_string = exchange(200, {"AppInstance": instance(CreatedTimestamp=str(NOW - 100))})
    describe = Case("response_matches_schema", "", "DescribeAppInstance", valid)
    assert describe.run() and describe.run()
    assert Case("response_matches_schema", "", "DescribeAppInstance", again).run()
    with pytest.raises(CheckFailure, match="CreatedTimestamp"):
        Case("response_matches_schema", "", "DescribeAppInstance", as_string).run()
    # a body valid as a CreateAppInstance answer is not a DescribeAppInstance one
    body = {"AppInstanceArn": INSTANCE, "AppInstance": "not an object"}
    assert Case("response_matches_schema", "", "CreateAppInstance", exchange(201, body)).run()
    with pytest.raises(CheckFailure, match="AppInstance"):
        Case("response_matches_schema", "", "DescribeAppInstance", exchange(200, body)).run()
