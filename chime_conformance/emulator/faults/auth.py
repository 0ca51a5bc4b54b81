"""Auth: requests served that SigV4 says to refuse."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from botocore.awsrequest import AWSRequest

from chime_conformance.emulator.app import EmulatorApp
from chime_conformance.emulator.auth import (
    AuthorizationHeader,
    ReceivedRequest,
    SigV4Verifier,
    verifier_for,
)
from chime_conformance.emulator.exceptions import ChimeError, MissingAuthenticationTokenException
from chime_conformance.emulator.faults.registry import fault
from chime_conformance.emulator.hooks import Verify


def verifier_like(app: EmulatorApp, kind: type[SigV4Verifier], region: str | None = None) -> Any:
    """A verifier of class ``kind`` with ``app``'s credentials and clock."""
    return verifier_for(app.config, clock=app.clock, kind=kind, region=region)


def verify_with(app: EmulatorApp, kind: type[SigV4Verifier]) -> None:
    """Serve ``app`` with a verifier of class ``kind`` (one broken SigV4 rule)
    in place of its own."""
    replacement = verifier_like(app, kind)
    app.hooks.wrap_verify(lambda verify: replacement.verify)


@fault(
    "unsigned_requests_accepted",
    category="auth",
    breaks="An unsigned request is a 403 MissingAuthenticationTokenException (docs/contract.md auth); "
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
    "(docs/contract.md auth); here any signature of a known key is accepted.",
)
def _signatures_not_compared(app: EmulatorApp) -> None:
    verify_with(app, _SignatureNotCompared)


@fault(
    "any_region_accepted",
    category="auth",
    breaks="A request signed for another region is a 403 InvalidSignatureException (docs/contract.md "
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
    "(docs/contract.md auth, SigV4); here it is served.",
)
def _stale_signatures_accepted(app: EmulatorApp) -> None:
    verify_with(app, _FreshnessNotChecked)


class _AnySessionToken(SigV4Verifier):
    def secret_for(self, access_key: str, token: str | None) -> str:
        return super().secret_for(access_key, self.session_token_of(access_key))


@fault(
    "session_tokens_not_verified",
    category="auth",
    breaks="A request signed with a session token the target never issued is a 403 "
    "UnrecognizedClientException (docs/contract.md session-token); here any token is accepted.",
)
def _session_tokens_not_verified(app: EmulatorApp) -> None:
    verify_with(app, _AnySessionToken)


class _PresignedUnsigned(SigV4Verifier):
    def verify_presigned(self, request: ReceivedRequest, query: Any) -> str:
        raise MissingAuthenticationTokenException("Missing Authentication Token")


@fault(
    "presigned_requests_unsigned",
    category="auth",
    breaks="A request presigned with SigV4 in the query string is served until it expires "
    "(docs/contract.md presigned); here it counts as unsigned.",
)
def _presigned_requests_unsigned(app: EmulatorApp) -> None:
    verify_with(app, _PresignedUnsigned)


class _ExpiryIgnored(SigV4Verifier):
    def check_expiry(self, amz_date: str, expires: str) -> None:
        return None


@fault(
    "presigned_expiry_ignored",
    category="auth",
    breaks="A presigned request is refused once X-Amz-Date + X-Amz-Expires has passed "
    "(docs/contract.md presigned); here it is served forever.",
)
def _presigned_expiry_ignored(app: EmulatorApp) -> None:
    verify_with(app, _ExpiryIgnored)


class _CanonicalUriEncodedOnce(SigV4Verifier):
    def canonical_variants(self, request: ReceivedRequest, amz_date: str) -> Iterator[AWSRequest]:
        if request.method != "GET":  # reads only: the suite's setup (creates) still works
            return super().canonical_variants(request, amz_date)
        once = replace(request, raw_path=unquote(request.raw_path))
        return super().canonical_variants(once, amz_date)


@fault(
    "canonical_uri_encoded_once",
    category="auth",
    breaks="The canonical URI is the path as sent, percent-encoded again (docs/contract.md "
    "sigv4-canonical-uri); here a read's is encoded once, as for S3, so botocore's signature "
    "over an ARN path label does not match.",
)
def _canonical_uri_encoded_once(app: EmulatorApp) -> None:
    verify_with(app, _CanonicalUriEncodedOnce)
