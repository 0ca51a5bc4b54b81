"""What the request was meant to provoke (docs/contract.md validation,
missing-resource): input that breaks a constraint is refused with 400, input
that keeps every one is accepted, and a missing resource is reported."""

from __future__ import annotations

from collections.abc import Mapping

from chime_conformance.checks.answers import error_type, received
from chime_conformance.checks.registry import (
    SCHEMATHESIS,
    CheckContext,
    Expectation,
    check,
    declare,
    fail,
)
from chime_conformance.wire.exchange import Exchange

# Lenient alternatives for a missing resource (docs/contract.md: *unverified*).
MISSING_RESOURCE_ALTERNATIVES: Mapping[int, str] = {
    404: "NotFoundException",
    403: "ForbiddenException",
    400: "BadRequestException",
}


def missing_resource_answers(strict: bool) -> Mapping[int, str]:
    """The answers that report a missing resource, by status: 404
    NotFoundException, and unless ``strict`` the unverified alternatives too.
    The one place the suite's layers (oracles, scenarios, state machines,
    schemathesis) read this fact from."""
    return {404: "NotFoundException"} if strict else MISSING_RESOURCE_ALTERNATIVES


def missing_resource_statuses(strict: bool) -> frozenset[int]:
    """The statuses of :func:`missing_resource_answers`."""
    return frozenset(missing_resource_answers(strict))


@check(rule="validation")
def invalid_input_rejected(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """Input that breaks a constraint is refused with 400 BadRequestException,
    never accepted and never a server error."""
    if exp.input_is_valid:
        return False
    name = error_type(exchange)
    fact = (
        f"invalid input ({exp.describe_violations()}) is refused "
        "(docs/contract.md validation: 400 BadRequestException)"
    )
    if exchange.status == 400 and (name == "BadRequestException" or not ctx.strict):
        return True
    if not ctx.strict and exchange.status in (403, 404) and _violates_path(ctx, exp):
        return True  # an unroutable path may be refused before validation
    raise fail(ctx, fact, received(exchange), "400 BadRequestException")


def _violates_path(ctx: CheckContext, exp: Expectation) -> bool:
    for violation in exp.violations:
        try:
            location, _ = ctx.operation.location_of(violation.member.split(".")[0])
        except KeyError:
            continue  # "(body)" and the like
        if location == "path":
            return True
    return False


@check(rule="validation")
def valid_input_accepted(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """Input that keeps every constraint is not refused as invalid (nor, when
    the resource exists, as missing)."""
    if not exp.input_is_valid or exp.resource in ("absent", "another-account"):
        return False
    name = error_type(exchange)
    rejected_as_invalid = exchange.status == 422 or (
        exchange.status == 400 and name != "ResourceLimitExceededException"
    )
    missing = exp.resource == "present" and exchange.status == 404
    if rejected_as_invalid or missing:
        raise fail(
            ctx,
            f"valid input is accepted (spec: the members satisfy every constraint of "
            f"{ctx.operation.name}'s input)",
            received(exchange),
            f"{ctx.operation.success_status}",
        )
    return True


@check(rule="missing-resource")
def missing_resource_reported(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """A request about a resource that does not exist gets 404 NotFoundException
    (lenient: also 403 Forbidden or 400 BadRequest)."""
    if exp.resource != "absent" or not exp.input_is_valid:
        return False
    name = error_type(exchange)
    allowed = missing_resource_answers(ctx.strict)
    expected_name = allowed.get(exchange.status)
    # lenient: an answer without x-amzn-ErrorType is error_shape_is_aws's to report
    wrong_name = name != expected_name and (ctx.strict or name is not None)
    if expected_name is None or wrong_name:
        raise fail(
            ctx,
            "a missing resource is reported (docs/contract.md missing-resource)",
            received(exchange),
            " or ".join(f"{status} {exception}" for status, exception in allowed.items()),
        )
    return True


# schemathesis' checks of the same rule
NEGATIVE_DATA_REJECTION = declare(
    "negative_data_rejection",
    rule="validation",
    description="schemathesis: input that breaks the schema is refused with 400.",
    kind=SCHEMATHESIS,
)
POSITIVE_DATA_ACCEPTANCE = declare(
    "positive_data_acceptance",
    rule="validation",
    description="schemathesis: input that keeps the schema is accepted (or 404/409 for the state).",
    kind=SCHEMATHESIS,
)
