"""The client's session-token and presigned signings, and their reproducers."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from botocore.credentials import Credentials

from chime_conformance.emulator.server import RunningEmulator, running_emulator
from chime_conformance.wire.client import BOGUS_SESSION_TOKEN, ChimeClient, Signing


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator() as running:
        yield running


@pytest.mark.parametrize(
    ("signing", "status", "error"),
    [
        (Signing.PRESIGNED, 200, None),
        (Signing.PRESIGNED_EXPIRED, 403, "InvalidSignatureException"),
        (Signing.BOGUS_SESSION_TOKEN, 403, "UnrecognizedClientException"),
    ],
    ids=lambda value: getattr(value, "value", str(value)),
)
def test_the_python_reproducer_replays_the_signing(
    emulator: RunningEmulator, signing: Signing, status: int, error: str | None
) -> None:
    with ChimeClient(emulator.url) as client:
        exchange = client.call("ListAppInstances", {}, signing=signing)
    assert (exchange.status, exchange.response.header("x-amzn-ErrorType")) == (status, error)
    replayed = subprocess.run(
        [sys.executable, "-c", exchange.as_python()], capture_output=True, text=True, timeout=60
    )
    assert replayed.stdout.startswith(f"{status} {error}"), replayed.stdout + replayed.stderr


def test_a_presigned_request_has_no_authorization_header(emulator: RunningEmulator) -> None:
    with ChimeClient(emulator.url) as client:
        exchange = client.call("ListAppInstances", {}, signing=Signing.PRESIGNED)
    assert "Authorization" not in exchange.request.headers
    assert "X-Amz-Signature=" in exchange.request.url
    assert "--aws-sigv4" not in exchange.as_curl()


def test_the_bogus_token_is_signed_along(emulator: RunningEmulator) -> None:
    with ChimeClient(emulator.url) as client:
        exchange = client.call("ListAppInstances", {}, signing=Signing.BOGUS_SESSION_TOKEN)
    assert "x-amz-security-token" in exchange.request.headers["Authorization"]
    assert (
        BOGUS_SESSION_TOKEN in exchange.as_python()
    )  # the record keeps no token, the script names it


def test_a_presigned_url_is_recorded_without_its_secrets(emulator: RunningEmulator) -> None:
    temporary = Credentials("ASIATEMPORARY", "temporary-secret", "the-session-token")
    with ChimeClient(emulator.url, credentials=temporary) as client:
        exchange = client.call("ListAppInstances", {}, signing=Signing.PRESIGNED)
    url = exchange.request.url
    assert "X-Amz-Signature=[REDACTED]" in url and "X-Amz-Security-Token=[REDACTED]" in url
    assert "ASIATEMPORARY" not in url and "the-session-token" not in url
    assert "us-east-1%2Fchime%2Faws4_request" in url  # the scope explains a refusal


def test_a_request_with_a_body_cannot_be_presigned(emulator: RunningEmulator) -> None:
    with ChimeClient(emulator.url) as client, pytest.raises(ValueError, match="presigned"):
        client.call("CreateAppInstance", {"Name": "a"}, signing=Signing.PRESIGNED)
