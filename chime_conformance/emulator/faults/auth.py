"""Auth: requests served that SigV4 says to refuse."""

from __future__ import annotations

from typing import Any

from chime_conformance.emulator.app import EmulatorApp
from chime_conformance.emulator.auth import AuthorizationHeader, ReceivedRequest, SigV4Verifier
from chime_conformance.emulator.exceptions import ChimeError
from chime_conformance.emulator.faults.registry import fault
from chime_conformance.emulator.hooks import Verify


def verifier_like(app: EmulatorApp, kind: type[SigV4Verifier], region: str | None = None) -> Any:
    """A verifier of class ``kind`` with ``app``'s credentials and clock."""
    credentials = {app.config.access_key: app.config.secret_key}
    return kind(credentials, region or app.config.region, clock=app.clock)


@fault(
    "unsigned_requests_accepted",
    category="auth",
    breaks="An unsigned request is a 403 MissingAuthenticationTokenException (DESIGN.md auth); "
    "here it is served.",
)
def _unsigned_requests_accepted(app: EmulatorApp) -> None:
    def wrapper(verify: Verify) -> Verify:
        return lambda request: (
            verify(request) if request.headers.get("authorization") else "anonymous"
        )

    app.hooks.wrap_verify(wrapper)


class _SignatureNotCompared(SigV4Verifier):
    def check_signature(self, *args: Any) -> None:
        return None


@fault(
    "signatures_not_compared",
    category="auth",
    breaks="A request whose signature does not match is a 403 InvalidSignatureException "
    "(DESIGN.md auth); here any signature of a known key is accepted.",
)
def _signatures_not_compared(app: EmulatorApp) -> None:
    lenient = verifier_like(app, _SignatureNotCompared)
    app.hooks.wrap_verify(lambda verify: lenient.verify)


@fault(
    "any_region_accepted",
    category="auth",
    breaks="A request signed for another region is a 403 InvalidSignatureException (DESIGN.md "
    "auth); here a signature valid for any region is accepted.",
)
def _any_region_accepted(app: EmulatorApp) -> None:
    def wrapper(verify: Verify) -> Verify:
        def verify_in_any_region(request: ReceivedRequest) -> str:
            try:
                region = AuthorizationHeader.parse(request.headers["authorization"]).scope_region
            except (KeyError, ChimeError):
                return verify(request)
            verified: str = verifier_like(app, SigV4Verifier, region).verify(request)
            return verified

        return verify_in_any_region

    app.hooks.wrap_verify(wrapper)


class _FreshnessNotChecked(SigV4Verifier):
    def check_freshness(self, amz_date: str) -> None:
        return None


@fault(
    "stale_signatures_accepted",
    category="auth",
    breaks="A request signed more than 15 minutes ago is a 403 InvalidSignatureException "
    "(DESIGN.md auth, SigV4); here it is served.",
)
def _stale_signatures_accepted(app: EmulatorApp) -> None:
    lenient = verifier_like(app, _FreshnessNotChecked)
    app.hooks.wrap_verify(lambda verify: lenient.verify)
