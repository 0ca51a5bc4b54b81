"""Accounts kept apart (docs/contract.md tenant-isolation): a request naming a
resource of another AWS account is refused, and its answer carries nothing of
the resource."""

from __future__ import annotations

from collections.abc import Mapping

from chime_conformance.checks.answers import error_type, received
from chime_conformance.checks.registry import CheckContext, Expectation, check, declare, fail
from chime_conformance.contract import spec
from chime_conformance.wire.exchange import Exchange

# How a resource of another account is refused; lenient: any of them
OTHER_ACCOUNT_ANSWERS: Mapping[int, tuple[str, ...]] = {
    403: ("ForbiddenException", "AccessDeniedException"),
    404: ("NotFoundException",),
    400: ("BadRequestException",),
}
ERROR_MEMBERS = frozenset({"Code", "Message", "message", "__type"})

# What several answers show (conformance/test_tenants.py): the owner's reads
# before and after another account's request, and another account's Lists.
OTHER_ACCOUNT_UNSEEN = declare(
    "other_account_unseen",
    rule="tenant-isolation",
    description="Another account's Lists never show a resource, and its refused request changes none.",
)


def other_account_answers(api: str, strict: bool) -> Mapping[int, tuple[str, ...]]:
    """The answers that refuse a request naming another account's resource:
    strict, 403 ForbiddenException (the accounts API, whose actions take no
    resource: 404 NotFoundException); lenient, any of OTHER_ACCOUNT_ANSWERS."""
    if not strict:
        return OTHER_ACCOUNT_ANSWERS
    if api == spec.ACCOUNTS:
        return {404: ("NotFoundException",)}
    return {403: ("ForbiddenException",)}


@check(rule="tenant-isolation")
def other_account_refused(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """A request naming a resource of another AWS account is refused, and its
    answer is an error carrying nothing of the resource (strict: 403
    ForbiddenException; the accounts API 404 NotFoundException)."""
    if exp.resource != "another-account" or not exp.input_is_valid:
        return False
    fact = "a resource of another account is refused (docs/contract.md tenant-isolation)"
    allowed = other_account_answers(ctx.operation.api, ctx.strict)
    if error_type(exchange) not in allowed.get(exchange.status, ()):
        documented = " or ".join(f"{s} {' or '.join(names)}" for s, names in allowed.items())
        raise fail(ctx, fact, received(exchange), documented)
    body = exchange.json
    extra = sorted(set(body) - ERROR_MEMBERS) if isinstance(body, Mapping) else []
    if extra:
        raise fail(ctx, fact, f"an error carrying {', '.join(extra)}", "an error with a Message")
    return True
