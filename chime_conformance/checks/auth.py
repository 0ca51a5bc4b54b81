"""Authentication (docs/contract.md auth, sigv4-canonical-uri, session-token,
presigned): a request signed as botocore signs it is served, one unsigned or
signed wrongly is refused, in the header or in the query string."""

from __future__ import annotations

from collections.abc import Mapping

from chime_conformance.checks.answers import error_type, message_of, received
from chime_conformance.checks.registry import CheckContext, Expectation, check, fail
from chime_conformance.wire.exchange import PRESIGNED_SIGNINGS, Exchange, Signing

# The gateway's authentication errors, exactly (docs/contract.md `auth`, --strict).
STRICT_AUTH_ERRORS: Mapping[Signing, str] = {
    Signing.UNSIGNED: "MissingAuthenticationTokenException",
    Signing.TAMPERED: "InvalidSignatureException",
    Signing.UNKNOWN_KEY: "UnrecognizedClientException",
    Signing.OTHER_REGION: "InvalidSignatureException",
    Signing.OTHER_SERVICE: "InvalidSignatureException",
    Signing.STALE_DATE: "InvalidSignatureException",
}
AUTHENTICATION_ERRORS = frozenset(
    {
        *STRICT_AUTH_ERRORS.values(),
        "IncompleteSignatureException",
        "SignatureDoesNotMatchException",
        "ExpiredTokenException",
    }
)


@check(rule="auth")
def auth_enforced(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """A request that is unsigned or signed wrongly is refused with 401/403 and
    the error shape (strict: 403 and the exact exception of docs/contract.md)."""
    if exchange.signing not in STRICT_AUTH_ERRORS:  # signed, or a signing with its own rule
        return False
    name = error_type(exchange)
    strict_name = STRICT_AUTH_ERRORS[exchange.signing]
    fact = f"a request with {exchange.signing.value} is refused (docs/contract.md auth)"
    if ctx.strict:
        refused = exchange.status == 403 and name == strict_name
        documented = f"403 {strict_name}"
    else:
        refused = (
            exchange.status in (401, 403) and bool(name) and message_of(exchange.json) is not None
        )
        documented = "401 or 403 with x-amzn-ErrorType and a Message"
    if not refused:
        raise fail(ctx, fact, received(exchange), documented)
    return True


@check(rule="sigv4-canonical-uri")
def signed_request_authenticated(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """A request signed as botocore signs it is not refused as unauthenticated."""
    if exchange.signing is not Signing.SIGNED:
        return False
    name = error_type(exchange)
    if name in AUTHENTICATION_ERRORS:
        raise fail(
            ctx,
            "a correctly signed request is authenticated (docs/contract.md sigv4-canonical-uri)",
            received(exchange),
            "no authentication error for botocore's SigV4 signature",
        )
    return True


def _refused(exchange: Exchange) -> bool:
    """401/403 with the error shape: how any signing layer refuses a request."""
    return (
        exchange.status in (401, 403)
        and bool(error_type(exchange))
        and message_of(exchange.json) is not None
    )


@check(rule="session-token")
def session_token_verified(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """A request signed with a session token the target never issued is refused
    (strict: 403 UnrecognizedClientException, as AWS answers "The security token
    included in the request is invalid")."""
    if exchange.signing is not Signing.BOGUS_SESSION_TOKEN:
        return False
    fact = "a bogus X-Amz-Security-Token is refused (docs/contract.md session-token)"
    if ctx.strict:
        refused = exchange.status == 403 and error_type(exchange) == "UnrecognizedClientException"
        documented = "403 UnrecognizedClientException"
    else:
        refused = _refused(exchange)
        documented = "401 or 403 with x-amzn-ErrorType and a Message"
    if not refused:
        raise fail(ctx, fact, received(exchange), documented)
    return True


@check(rule="presigned")
def presigned_request_verified(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """SigV4 in the query string is a signature: a presigned request is served
    until X-Amz-Expires runs out, and refused (401/403) after."""
    if exchange.signing not in PRESIGNED_SIGNINGS:
        return False
    if exchange.signing is Signing.PRESIGNED:
        name = error_type(exchange)
        if exchange.status in (401, 403) or name in AUTHENTICATION_ERRORS:
            raise fail(
                ctx,
                "a presigned request is authenticated until it expires "
                "(docs/contract.md presigned)",
                received(exchange),
                "no authentication error for botocore's SigV4QueryAuth signature",
            )
        return True
    if not _refused(exchange) or (ctx.strict and exchange.status != 403):
        raise fail(
            ctx,
            "an expired presigned request is refused (docs/contract.md presigned)",
            received(exchange),
            "403 with x-amzn-ErrorType and a Message" if ctx.strict else "401 or 403",
        )
    return True
