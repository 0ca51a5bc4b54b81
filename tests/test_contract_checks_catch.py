"""The checks of rules session-token, presigned, sigv4-canonical-uri and
error-code-enum fail against an emulator broken in exactly that rule, and pass
against the clean one.

The breaks below are the installers proposed to the fault catalogue (as
``session_tokens_not_verified``, ``presigned_requests_unsigned``,
``presigned_expiry_ignored`` and ``canonical_uri_encoded_once``; the catalogue's
``error_code_is_http_phrase`` is caught by error_code_enum); until the
catalogue has them, this module is their proof (tests/test_contract_doc.py
counts it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.awsrequest import AWSRequest

from chime_conformance import checks, spec
from chime_conformance.client import ChimeClient, Signing
from chime_conformance.emulator.app import EmulatorApp
from chime_conformance.emulator.auth import ReceivedRequest, SigV4Verifier
from chime_conformance.emulator.exceptions import MissingAuthenticationTokenException
from chime_conformance.emulator.faults import FAULTS
from chime_conformance.emulator.faults.auth import verifier_like
from chime_conformance.emulator.server import RunningEmulator, running_emulator


class _AnySessionToken(SigV4Verifier):
    def secret_for(self, access_key: str, token: str | None) -> str:
        return super().secret_for(access_key, self.session_token_of(access_key))


class _PresignedUnsigned(SigV4Verifier):
    def verify_presigned(self, request: ReceivedRequest, query: Mapping[str, str]) -> str:
        raise MissingAuthenticationTokenException("Missing Authentication Token")


class _ExpiryIgnored(SigV4Verifier):
    def check_expiry(self, amz_date: str, expires: str) -> None:
        return None


class _CanonicalUriEncodedOnce(SigV4Verifier):
    def canonical_variants(self, request: ReceivedRequest, amz_date: str) -> list[AWSRequest]:
        if request.method != "GET":  # reads only: the suite's setup (creates) still works
            return super().canonical_variants(request, amz_date)
        once = replace(request, raw_path=unquote(request.raw_path))
        return super().canonical_variants(once, amz_date)


def _verifying_with(kind: type[SigV4Verifier]) -> Callable[[EmulatorApp], None]:
    """An installer: ``app`` verifies with a ``kind`` of its credentials."""

    def install(app: EmulatorApp) -> None:
        broken = verifier_like(app, kind)
        app.hooks.wrap_verify(lambda verify: broken.verify)

    return install


session_tokens_not_verified = _verifying_with(_AnySessionToken)
presigned_requests_unsigned = _verifying_with(_PresignedUnsigned)
presigned_expiry_ignored = _verifying_with(_ExpiryIgnored)
canonical_uri_encoded_once = _verifying_with(_CanonicalUriEncodedOnce)


def error_code_is_http_phrase(app: EmulatorApp) -> None:
    """The registry's fault of that name."""
    FAULTS["error_code_is_http_phrase"].install(app)


MISSING_ARN = (
    "arn:aws:chime:us-east-1:123456789012:app-instance/00000000-0000-0000-0000-000000000000"
)
LIST: tuple[str, dict[str, Any]] = ("ListAppInstances", {})
DESCRIBE_MISSING: tuple[str, dict[str, Any]] = (
    "DescribeAppInstance",
    {"AppInstanceArn": MISSING_ARN},
)

CASES = [
    pytest.param(
        session_tokens_not_verified,
        Signing.BOGUS_SESSION_TOKEN,
        LIST,
        "session_token_verified",
        id="session-token",
    ),
    pytest.param(
        presigned_requests_unsigned,
        Signing.PRESIGNED,
        LIST,
        "presigned_request_verified",
        id="presigned",
    ),
    pytest.param(
        presigned_expiry_ignored,
        Signing.PRESIGNED_EXPIRED,
        LIST,
        "presigned_request_verified",
        id="presigned-expired",
    ),
    pytest.param(
        canonical_uri_encoded_once,
        Signing.SIGNED,
        DESCRIBE_MISSING,
        "signed_request_authenticated",
        id="sigv4-canonical-uri",
    ),
    pytest.param(
        error_code_is_http_phrase,
        Signing.SIGNED,
        DESCRIBE_MISSING,
        "error_code_enum",
        id="error-code-enum",
    ),
]


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator() as running:
        yield running


def _verdict(
    emulator: RunningEmulator, signing: Signing, call: tuple[str, dict[str, Any]], check: str
) -> bool:
    operation, members = call
    with ChimeClient(emulator.url) as client:
        exchange = client.call(operation, members, signing=signing)
    context = checks.CheckContext(spec.operation(operation), strict=True)
    return checks.CHECKS[check](context, exchange, checks.Expectation.valid_input())


@pytest.mark.parametrize(("install", "signing", "call", "check"), CASES)
def test_the_clean_emulator_passes(
    emulator: RunningEmulator,
    install: Callable[[EmulatorApp], None],
    signing: Signing,
    call: tuple[str, dict[str, Any]],
    check: str,
) -> None:
    assert _verdict(emulator, signing, call, check) is True


@pytest.mark.parametrize(("install", "signing", "call", "check"), CASES)
def test_the_broken_emulator_fails_the_check(
    emulator: RunningEmulator,
    install: Callable[[EmulatorApp], None],
    signing: Signing,
    call: tuple[str, dict[str, Any]],
    check: str,
) -> None:
    install(emulator.app)
    with pytest.raises(checks.CheckFailure) as failure:
        _verdict(emulator, signing, call, check)
    assert failure.value.check == check
