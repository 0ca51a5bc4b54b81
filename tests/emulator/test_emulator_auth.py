"""SigV4: every auth failure gets AWS's 403 and error name; good signatures pass."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from chime_conformance.emulator.server import RunningEmulator, running_emulator
from tests.support.emulator_helpers import (
    EmulatorProcess,
    clients,
    plain_request,
    presigned_target,
    signed_request,
)

INSTANCES = "/app-instances"


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator() as running:
        yield running


def test_signed_request_is_accepted(emulator: RunningEmulator) -> None:
    assert signed_request(emulator.url, "GET", INSTANCES).status == 200


def test_unsigned_request_is_missing_authentication_token(emulator: RunningEmulator) -> None:
    response = plain_request(emulator.url, "GET", INSTANCES)
    assert (response.status, response.error_type) == (403, "MissingAuthenticationTokenException")
    assert response.document == {
        "Code": "MissingAuthenticationToken",
        "Message": "Missing Authentication Token",
    }


def test_bad_signature_is_invalid_signature(emulator: RunningEmulator) -> None:
    response = signed_request(emulator.url, "GET", INSTANCES, secret_key="not-the-secret")
    assert (response.status, response.error_type) == (403, "InvalidSignatureException")


def test_unknown_access_key_is_unrecognized_client(emulator: RunningEmulator) -> None:
    response = signed_request(emulator.url, "GET", INSTANCES, access_key="AKIDUNKNOWN")
    assert (response.status, response.error_type) == (403, "UnrecognizedClientException")


def test_stale_date_is_signature_expired(emulator: RunningEmulator) -> None:
    stale = datetime.now(UTC) - timedelta(minutes=16)
    response = signed_request(emulator.url, "GET", INSTANCES, signed_at=stale)
    assert (response.status, response.error_type) == (403, "InvalidSignatureException")
    assert response.document["Message"].startswith("Signature expired")


def test_date_within_fifteen_minutes_is_accepted(emulator: RunningEmulator) -> None:
    recent = datetime.now(UTC) - timedelta(minutes=14)
    assert signed_request(emulator.url, "GET", INSTANCES, signed_at=recent).status == 200


def test_future_date_is_refused(emulator: RunningEmulator) -> None:
    future = datetime.now(UTC) + timedelta(minutes=16)
    response = signed_request(emulator.url, "GET", INSTANCES, signed_at=future)
    assert (response.status, response.error_type) == (403, "InvalidSignatureException")


def test_signed_for_another_region_is_refused(emulator: RunningEmulator) -> None:
    response = signed_request(emulator.url, "GET", INSTANCES, region="eu-west-1")
    assert response.status == 403
    assert "region" in response.document["Message"]


def test_signed_for_another_service_is_refused(emulator: RunningEmulator) -> None:
    response = signed_request(emulator.url, "GET", INSTANCES, service="identity-chime")
    assert response.status == 403
    assert "service" in response.document["Message"]


def test_boto3_client_for_another_region_is_refused(emulator: RunningEmulator) -> None:
    identity, _ = clients(emulator.url, region_name="us-west-2")
    with pytest.raises(identity.exceptions.ClientError) as raised:
        identity.list_app_instances()
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_body_swapped_after_signing_is_refused(emulator: RunningEmulator) -> None:
    body = b'{"Name": "a", "ClientRequestToken": "tok-1"}'
    tampered = signed_request(
        emulator.url, "POST", INSTANCES, body, sent_body=body.replace(b'"a"', b'"b"')
    )
    assert (tampered.status, tampered.error_type) == (403, "InvalidSignatureException")


def test_arn_path_label_is_signed_over_the_double_encoded_path(emulator: RunningEmulator) -> None:
    arn = "arn:aws:chime:us-east-1:123456789012:app-instance/missing"
    response = signed_request(emulator.url, "GET", f"{INSTANCES}/{quote(arn, safe='')}")
    assert (response.status, response.error_type) == (404, "NotFoundException")


def test_query_signed_in_normalised_form_is_accepted(emulator: RunningEmulator) -> None:
    # botocore signs the query as serialized; other clients decode and re-encode
    # each pair (SigV4's canonical form); both are honest signatures
    identity, _ = clients(emulator.url)
    arn = identity.create_app_instance(Name="q")["AppInstanceArn"]
    target = f"/app-instance-users?max-results=5&app-instance-arn={arn}"
    assert signed_request(emulator.url, "GET", target).status == 200
    response = signed_request(emulator.url, "GET", target, sign_normalised_query=True)
    assert response.status == 200, response.document


def test_reset_endpoint_needs_no_signature(emulator: RunningEmulator) -> None:
    assert plain_request(emulator.url, "POST", "/_emulator/reset").status == 200
    assert plain_request(emulator.url, "GET", "/_emulator/health").document["Status"] == "ok"


def test_custom_credentials() -> None:
    with running_emulator(access_key="AKIDCUSTOM", secret_key="s3cret") as custom:
        assert signed_request(custom.url, "GET", INSTANCES).status == 403
        ok = signed_request(
            custom.url, "GET", INSTANCES, access_key="AKIDCUSTOM", secret_key="s3cret"
        )
        assert ok.status == 200


# -- temporary credentials (docs/contract.md, session-token) ---------------------------

TEMPORARY = ("ASIATEMPORARY", "temporary-secret", "the-issued-session-token")


@pytest.fixture(scope="module")
def with_session() -> Iterator[RunningEmulator]:
    with running_emulator(temporary_credentials=TEMPORARY) as running:
        yield running


def test_boto3_with_the_issued_session_token_is_accepted(with_session: RunningEmulator) -> None:
    key, secret, token = TEMPORARY
    identity, _ = clients(
        with_session.url,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )
    assert identity.list_app_instances()["AppInstances"] == []


@pytest.mark.parametrize(
    ("access_key", "secret_key", "token"),
    [
        pytest.param(*TEMPORARY[:2], "a-token-nobody-issued", id="unknown-token"),
        pytest.param(*TEMPORARY[:2], None, id="temporary-key-without-token"),
        pytest.param("testing", "testing", TEMPORARY[2], id="long-term-key-with-a-token"),
    ],
)
def test_a_token_not_issued_with_the_key_is_unrecognized(
    with_session: RunningEmulator, access_key: str, secret_key: str, token: str | None
) -> None:
    identity, _ = clients(
        with_session.url,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        aws_session_token=token,
    )
    with pytest.raises(identity.exceptions.ClientError) as raised:
        identity.list_app_instances()
    response = raised.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert response["Error"]["Code"] == "UnrecognizedClientException"
    assert response["Error"]["Message"] == "The security token included in the request is invalid."


def test_an_unsigned_session_token_header_is_refused(with_session: RunningEmulator) -> None:
    key, secret, token = TEMPORARY
    response = signed_request(with_session.url, "GET", INSTANCES, access_key=key, secret_key=secret)
    assert (response.status, response.error_type) == (403, "UnrecognizedClientException")
    unsigned = signed_request(
        with_session.url,
        "GET",
        INSTANCES,
        access_key=key,
        secret_key=secret,
        unsigned_headers={"X-Amz-Security-Token": token},
    )
    assert (unsigned.status, unsigned.error_type) == (403, "InvalidSignatureException")


def test_the_long_term_key_still_works_beside_temporary_credentials(
    with_session: RunningEmulator,
) -> None:
    assert signed_request(with_session.url, "GET", INSTANCES).status == 200


# -- presigned requests (docs/contract.md, presigned) ----------------------------------


def test_boto3_presigned_url_is_accepted(emulator: RunningEmulator) -> None:
    identity, _ = clients(emulator.url)
    url = identity.generate_presigned_url("list_app_instances", ExpiresIn=60)
    assert "X-Amz-Signature=" in url and "Authorization" not in url
    response = plain_request(emulator.url, "GET", url.removeprefix(emulator.url))
    assert response.status == 200, response.document
    assert response.document == {"AppInstances": []}


def test_presigned_with_session_token_is_accepted(with_session: RunningEmulator) -> None:
    key, secret, token = TEMPORARY
    target = presigned_target(
        with_session.url, INSTANCES, access_key=key, secret_key=secret, token=token
    )
    assert "X-Amz-Security-Token=" in target
    assert plain_request(with_session.url, "GET", target).status == 200
    forged = presigned_target(
        with_session.url, INSTANCES, access_key=key, secret_key=secret, token="forged"
    )
    response = plain_request(with_session.url, "GET", forged)
    assert (response.status, response.error_type) == (403, "UnrecognizedClientException")


def test_presigned_within_its_expiry_is_accepted(emulator: RunningEmulator) -> None:
    signed_at = datetime.now(UTC) - timedelta(minutes=50)  # older than SigV4's 15 minutes
    target = presigned_target(emulator.url, INSTANCES, expires=3600, signed_at=signed_at)
    assert plain_request(emulator.url, "GET", target).status == 200


def test_an_expired_presigned_request_is_refused(emulator: RunningEmulator) -> None:
    signed_at = datetime.now(UTC) - timedelta(seconds=120)
    target = presigned_target(emulator.url, INSTANCES, expires=60, signed_at=signed_at)
    response = plain_request(emulator.url, "GET", target)
    assert (response.status, response.error_type) == (403, "InvalidSignatureException")
    assert response.document["Message"].startswith("Signature expired")


def test_a_tampered_presigned_request_is_refused(emulator: RunningEmulator) -> None:
    target = presigned_target(emulator.url, INSTANCES + "?max-results=2")
    tampered = target.replace("max-results=2", "max-results=3")
    assert plain_request(emulator.url, "GET", target).status == 200
    response = plain_request(emulator.url, "GET", tampered)
    assert (response.status, response.error_type) == (403, "InvalidSignatureException")


def test_a_presigned_request_with_an_unknown_key_is_unrecognized(
    emulator: RunningEmulator,
) -> None:
    target = presigned_target(emulator.url, INSTANCES, access_key="AKIDUNKNOWN")
    response = plain_request(emulator.url, "GET", target)
    assert (response.status, response.error_type) == (403, "UnrecognizedClientException")


@pytest.mark.parametrize("dropped", ["X-Amz-Expires", "X-Amz-Credential"])
def test_an_incomplete_presigned_request_is_refused(
    emulator: RunningEmulator, dropped: str
) -> None:
    target = presigned_target(emulator.url, INSTANCES)
    path, _, query = target.partition("?")
    kept = "&".join(p for p in query.split("&") if not p.startswith(f"{dropped}="))
    response = plain_request(emulator.url, "GET", f"{path}?{kept}")
    assert (response.status, response.error_type) == (403, "IncompleteSignatureException")


def test_the_command_line_takes_temporary_credentials() -> None:
    process = EmulatorProcess("--temporary-credentials", *TEMPORARY)
    try:
        key, secret, token = TEMPORARY
        identity, _ = clients(
            process.url,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
        )
        assert identity.list_app_instances()["AppInstances"] == []
        bogus, _ = clients(
            process.url,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token="bogus",
        )
        with pytest.raises(bogus.exceptions.ClientError) as raised:
            bogus.list_app_instances()
        assert raised.value.response["Error"]["Code"] == "UnrecognizedClientException"
    finally:
        code, log = process.stop()
    assert code == 0, log
    assert token not in log and secret not in log
