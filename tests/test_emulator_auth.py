"""SigV4: every auth failure gets AWS's 403 and error name; good signatures pass."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from chime_conformance.emulator.server import RunningEmulator, running_emulator
from tests.emulator_helpers import clients, plain_request, signed_request

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
