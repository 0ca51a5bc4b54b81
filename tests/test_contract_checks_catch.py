"""The checks of rules session-token and presigned fail against an emulator
broken in exactly that rule, and pass against the clean one.

The breaks below are the installers proposed to the fault catalogue (the lead
adds them there as ``session_tokens_not_verified``, ``presigned_requests_unsigned``
and ``presigned_expiry_ignored``); until then this module is their proof.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chime_conformance import checks, spec
from chime_conformance.client import ChimeClient, Signing
from chime_conformance.emulator.app import EmulatorApp
from chime_conformance.emulator.exceptions import MissingAuthenticationTokenException
from chime_conformance.emulator.server import RunningEmulator, running_emulator


def session_tokens_not_verified(app: EmulatorApp) -> None:
    """Any session token (or none) goes with a known key."""
    secrets = app.verifier._secrets

    def secret(access_key: str, token: str | None) -> str:
        return secrets[access_key]

    app.verifier._secret = secret  # type: ignore[method-assign]


def presigned_requests_unsigned(app: EmulatorApp) -> None:
    """SigV4 in the query string counts as no signature at all."""

    def refuse(request: Any, query: Any) -> str:
        raise MissingAuthenticationTokenException("Missing Authentication Token")

    app.verifier.verify_presigned = refuse  # type: ignore[method-assign]


def presigned_expiry_ignored(app: EmulatorApp) -> None:
    """A presigned request is served whatever its X-Amz-Expires says."""
    app.verifier._check_expiry = lambda amz_date, expires: None  # type: ignore[method-assign]


CASES = [
    pytest.param(
        session_tokens_not_verified,
        Signing.BOGUS_SESSION_TOKEN,
        "session_token_verified",
        id="session-token",
    ),
    pytest.param(
        presigned_requests_unsigned, Signing.PRESIGNED, "presigned_request_verified", id="presigned"
    ),
    pytest.param(
        presigned_expiry_ignored,
        Signing.PRESIGNED_EXPIRED,
        "presigned_request_verified",
        id="presigned-expired",
    ),
]


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator() as running:
        yield running


def _verdict(emulator: RunningEmulator, signing: Signing, check: str) -> bool:
    with ChimeClient(emulator.url) as client:
        exchange = client.call("ListAppInstances", {}, signing=signing)
    context = checks.CheckContext(spec.operation("ListAppInstances"), strict=True)
    return checks.CHECKS[check](context, exchange, checks.Expectation.valid_input())


@pytest.mark.parametrize(("install", "signing", "check"), CASES)
def test_the_clean_emulator_passes(
    emulator: RunningEmulator,
    install: Callable[[EmulatorApp], None],
    signing: Signing,
    check: str,
) -> None:
    assert _verdict(emulator, signing, check) is True


@pytest.mark.parametrize(("install", "signing", "check"), CASES)
def test_the_broken_emulator_fails_the_check(
    emulator: RunningEmulator,
    install: Callable[[EmulatorApp], None],
    signing: Signing,
    check: str,
) -> None:
    install(emulator.app)
    with pytest.raises(checks.CheckFailure) as failure:
        _verdict(emulator, signing, check)
    assert failure.value.check == check
