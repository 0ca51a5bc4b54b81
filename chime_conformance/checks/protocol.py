"""The protocol around every answer (docs/contract.md request-id): an oracle
run on every exchange, whatever the operation."""

from __future__ import annotations

from chime_conformance.checks.answers import error_type
from chime_conformance.checks.auth import AUTHENTICATION_ERRORS
from chime_conformance.checks.registry import CheckContext, Expectation, check, fail
from chime_conformance.wire.exchange import Exchange

REQUEST_ID_HEADER = "x-amzn-RequestId"


@check(rule="request-id")
def request_id_present(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """Every answer, success or error, carries one non-empty x-amzn-RequestId,
    which the AWS SDKs read into their response metadata (lenient: an error of
    the signing layer may lack it)."""
    value = exchange.response.header(REQUEST_ID_HEADER)
    # the signing layer answers before the service: that its gateway adds one is *unverified*
    signing_layer = error_type(exchange) in AUTHENTICATION_ERRORS
    if not ctx.strict and signing_layer and value is None:
        return False
    if value is None or not value.strip() or "," in value:
        said = "no x-amzn-RequestId" if value is None else f"x-amzn-RequestId: {value!r}"
        raise fail(
            ctx,
            "every answer carries a request id (docs/contract.md request-id; botocore's "
            "RestJSONParser reads x-amzn-requestid into ResponseMetadata.RequestId)",
            f"{exchange.status} with {said}",
            "one non-empty x-amzn-RequestId header",
        )
    return True
