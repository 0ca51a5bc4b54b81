"""Statuses (docs/contract.md success-codes, no-server-error): a success is
the operation's one documented status, an error one of its documented ones,
and no input makes the server fail."""

from __future__ import annotations

from chime_conformance.checks.answers import is_success, received
from chime_conformance.checks.inputs import missing_resource_statuses
from chime_conformance.checks.registry import (
    SCHEMATHESIS,
    CheckContext,
    Expectation,
    check,
    declare,
    fail,
)
from chime_conformance.checks.tenants import other_account_answers
from chime_conformance.wire.exchange import Exchange, Signing


@check(rule="success-codes")
def status_code_matches_spec(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """A 2xx is the operation's one success status; any other status is documented."""
    op, status = ctx.operation, exchange.status
    if is_success(exchange):
        if status != op.success_status:
            raise fail(
                ctx,
                f"success status (spec responses: {op.success_status})",
                received(exchange),
                str(op.success_status),
            )
        return True
    allowed = _allowed_error_statuses(ctx, exchange, exp)
    if status not in allowed:
        documented = sorted(s for s in op.documented_statuses if s >= 300)
        raise fail(
            ctx,
            f"error statuses (spec responses: {', '.join(map(str, documented))})",
            received(exchange),
            ", ".join(map(str, sorted(allowed))),
        )
    return True


def _allowed_error_statuses(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> set[int]:
    allowed = {s for s in ctx.operation.documented_statuses if s >= 300}
    if exchange.signing is not Signing.SIGNED:
        allowed |= {401, 403}  # the gateway's, for every operation
    if exp.resource == "absent" and exp.input_is_valid:
        allowed |= missing_resource_statuses(ctx.strict)
    if exp.resource == "another-account" and exp.input_is_valid:
        allowed |= set(other_account_answers(ctx.operation.api, ctx.strict))
    return allowed


@check(rule="no-server-error")
def not_a_server_error(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """No input makes the server fail."""
    if exchange.status >= 500:
        raise fail(
            ctx,
            "no server error for any input (docs/contract.md validation: never 5xx)",
            received(exchange),
            f"{ctx.operation.success_status} or a 4xx",
        )
    return True


# schemathesis' check of the same rule; its not_a_server_error is the oracle above
STATUS_CODE_CONFORMANCE = declare(
    "status_code_conformance",
    rule="success-codes",
    description="schemathesis: the status is one the operation documents.",
    kind=SCHEMATHESIS,
)
