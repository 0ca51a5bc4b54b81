"""Every modeled error the emulator answers with carries a Code of botocore's
ErrorCode enum, the one docs/contract.md gives its exception (error-code-enum).

Each error is provoked twice: through boto3 (whose parser reads the exception
from x-amzn-ErrorType and the modeled Code member from the body) and as a raw
signed request (the body exactly as sent). The emulator does not throttle and
has no 401, so ThrottledClient and UnauthorizedClient are checked on their
classes only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import botocore.exceptions
import pytest
from botocore.config import Config
from botocore.loaders import Loader

from chime_conformance.checks import CONTRACT_ERROR_CODES
from chime_conformance.emulator import exceptions, models
from chime_conformance.emulator.server import RunningEmulator, running_emulator
from tests.support.emulator_helpers import clients, plain_request, signed_request

ERROR_CODE_ENUM = frozenset(
    Loader().load_service_model("chime-sdk-identity", "service-2")["shapes"]["ErrorCode"]["enum"]
)
MODELED = [
    exceptions.BadRequestException,
    exceptions.ResourceLimitExceededException,
    exceptions.UnauthorizedClientException,
    exceptions.ForbiddenException,
    exceptions.NotFoundException,
    exceptions.ConflictException,
    exceptions.UnprocessableEntityException,
    exceptions.ThrottledClientException,
    exceptions.ServiceFailureException,
    exceptions.ServiceUnavailableException,
]
SIGNING_LAYER = [
    exceptions.MissingAuthenticationTokenException,
    exceptions.InvalidSignatureException,
    exceptions.UnrecognizedClientException,
    exceptions.IncompleteSignatureException,
]


@pytest.mark.parametrize("error", MODELED, ids=lambda e: e.__name__)
def test_every_modeled_exception_class_sends_the_contract_code(
    error: type[exceptions.ChimeError],
) -> None:
    body = error("m").body()
    assert body["Code"] in ERROR_CODE_ENUM
    assert body["Code"] == CONTRACT_ERROR_CODES[error.error_type][0]


@pytest.mark.parametrize("error", SIGNING_LAYER, ids=lambda e: e.__name__)
def test_signing_layer_errors_keep_their_own_code(error: type[exceptions.ChimeError]) -> None:
    assert error("m").body()["Code"] == error.error_type.removesuffix("Exception")


# -- provoked on a running emulator ----------------------------------------------------


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator() as running:
        yield running


@dataclass(frozen=True)
class Provoked:
    """One modeled error, provoked by boto3 (``call``) and by a raw request (``raw``)."""

    name: str
    status: int
    call: Callable[[Any, Any, dict[str, str]], Any]
    raw: Callable[[str, dict[str, str]], Any]


def _setup(emulator: RunningEmulator) -> dict[str, str]:
    emulator.reset()
    identity, _ = clients(emulator.url)
    instance = identity.create_app_instance(
        Name="codes", ClientRequestToken="token-codes-1", Tags=FIFTY_TAGS
    )
    arn = instance["AppInstanceArn"]
    identity.create_app_instance_user(AppInstanceArn=arn, AppInstanceUserId="taken", Name="t")
    seeded = plain_request(
        emulator.url,
        "POST",
        "/_emulator/accounts",
        b'{"Name": "Directory", "AccountType": "EnterpriseDirectory"}',
    )
    return {"instance": arn, "account": seeded.document["Account"]["AccountId"]}


def _json(document: Any) -> bytes:
    return json.dumps(document).encode()


FIFTY_TAGS = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
ONE_TAG_TOO_MANY = [{"Key": "k50", "Value": "v"}]
MISSING_ARN = (
    "arn:aws:chime:us-east-1:123456789012:app-instance/00000000-0000-0000-0000-000000000000"
)

CASES = [
    Provoked(
        "BadRequestException",
        400,
        lambda identity, accounts, ids: identity.create_app_instance(
            Name="", ClientRequestToken="token-bad-1"
        ),
        lambda url, ids: signed_request(
            url, "POST", "/app-instances", _json({"Name": "", "ClientRequestToken": "token-bad-2"})
        ),
    ),
    Provoked(
        "ResourceLimitExceededException",
        400,
        lambda identity, accounts, ids: identity.tag_resource(
            ResourceARN=ids["instance"], Tags=ONE_TAG_TOO_MANY
        ),
        lambda url, ids: signed_request(
            url,
            "POST",
            "/tags?operation=tag-resource",
            _json({"ResourceARN": ids["instance"], "Tags": ONE_TAG_TOO_MANY}),
        ),
    ),
    Provoked(
        "NotFoundException",
        404,
        lambda identity, accounts, ids: identity.describe_app_instance(AppInstanceArn=MISSING_ARN),
        lambda url, ids: signed_request(
            url, "GET", f"/app-instances/{quote(MISSING_ARN, safe='')}"
        ),
    ),
    Provoked(
        "ConflictException",
        409,
        lambda identity, accounts, ids: identity.create_app_instance_user(
            AppInstanceArn=ids["instance"], AppInstanceUserId="taken", Name="again"
        ),
        lambda url, ids: signed_request(
            url,
            "POST",
            "/app-instance-users",
            _json(
                {
                    "AppInstanceArn": ids["instance"],
                    "AppInstanceUserId": "taken",
                    "Name": "again",
                    "ClientRequestToken": "token-conflict-2",
                }
            ),
        ),
    ),
    Provoked(
        "UnprocessableEntityException",
        422,
        lambda identity, accounts, ids: accounts.delete_account(AccountId=ids["account"]),
        lambda url, ids: signed_request(url, "DELETE", f"/accounts/{ids['account']}"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_boto3_sees_the_exception_and_its_enum_code(
    emulator: RunningEmulator, case: Provoked
) -> None:
    ids = _setup(emulator)
    # boto3 would refuse the invalid input itself: let it reach the emulator
    identity, accounts = clients(
        emulator.url, config=Config(retries={"max_attempts": 1}, parameter_validation=False)
    )
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        case.call(identity, accounts, ids)
    response = raised.value.response
    assert response["Error"]["Code"] == case.name  # from x-amzn-ErrorType
    assert response["ResponseMetadata"]["HTTPStatusCode"] == case.status
    assert response["Code"] == CONTRACT_ERROR_CODES[case.name][0]  # the modeled body member
    assert response["Code"] in ERROR_CODE_ENUM


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_raw_request_gets_the_enum_code_in_the_body(
    emulator: RunningEmulator, case: Provoked
) -> None:
    ids = _setup(emulator)
    response = case.raw(emulator.url, ids)
    assert (response.status, response.error_type) == (case.status, case.name)
    assert response.document["Code"] == CONTRACT_ERROR_CODES[case.name][0]
    assert response.document["Code"] in ERROR_CODE_ENUM
    assert isinstance(response.document["Message"], str)


def test_the_list_of_provoked_errors_is_every_error_the_emulator_raises() -> None:
    """A new modeled error raised by models.py needs a case above."""
    source = Path(models.__file__).read_text(encoding="utf-8")
    raised = {cls.error_type for cls in MODELED if f"raise {cls.__name__}(" in source}
    assert raised == {case.name for case in CASES}
