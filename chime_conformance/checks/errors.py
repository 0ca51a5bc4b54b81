"""Error answers (docs/contract.md error-shape, error-code-enum): an error
names its exception in ``x-amzn-ErrorType``, consistent with its status, and
carries ``{"Code": …, "Message": …}`` with a Code of the ErrorCode enum."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chime_conformance.checks.answers import error_type, shorten
from chime_conformance.checks.auth import AUTHENTICATION_ERRORS
from chime_conformance.checks.registry import (
    SCHEMATHESIS,
    CheckContext,
    Expectation,
    check,
    declare,
    fail,
)
from chime_conformance.contract import spec
from chime_conformance.wire.exchange import Exchange


@check(rule="error-shape")
def error_shape_is_aws(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """An error names its exception in ``x-amzn-ErrorType``, consistent with the
    status, and carries ``{"Code": "…", "Message": "…"}`` (Code's value: error_code_enum)."""
    if exchange.status < 400:
        return False
    fact = f"error shape (spec components/responses/Error{exchange.status}; docs/contract.md error-shape)"
    name = _checked_error_name(ctx, exchange, fact)
    body = exchange.json
    if not isinstance(body, Mapping):
        received = shorten(exchange.response.body.decode("utf-8", "replace")) or "an empty body"
        raise fail(ctx, fact, f"body {received}", '{"Code": "…", "Message": "…"}')
    _check_error_message(ctx, body, fact)
    _check_error_code(ctx, body, name, fact)
    return True


def _checked_error_name(ctx: CheckContext, exchange: Exchange, fact: str) -> str:
    name = error_type(exchange)
    if not name:
        raise fail(
            ctx,
            fact,
            f"{exchange.status} without x-amzn-ErrorType",
            "x-amzn-ErrorType: <Name>Exception",
        )
    known_status = spec.ERROR_STATUS.get(name)
    if known_status is None and (ctx.strict or not name.endswith("Exception")):
        documented = ", ".join(sorted(spec.ERROR_STATUS))
        raise fail(ctx, fact, f"x-amzn-ErrorType: {name}", f"one of {documented}")
    if known_status is not None and known_status != exchange.status:
        raise fail(
            ctx,
            fact,
            f"{exchange.status} with x-amzn-ErrorType: {name}",
            f"{name} is {known_status}",
        )
    return name


def _check_error_message(ctx: CheckContext, body: Mapping[str, Any], fact: str) -> None:
    keys = ("Message",) if ctx.strict else ("Message", "message")
    if not any(isinstance(body.get(key), str) for key in keys):
        raise fail(ctx, fact, f"body members {sorted(body)}", "Message: a string")


def _check_error_code(ctx: CheckContext, body: Mapping[str, Any], name: str, fact: str) -> None:
    """Code is there (strict) and a string; its value is error_code_enum's."""
    code = body.get("Code")
    if code is None and not ctx.strict:
        return  # botocore names the error from the header alone
    if not isinstance(code, str):
        raise fail(
            ctx, fact, f"Code {code!r} with x-amzn-ErrorType: {name}", "Code: an ErrorCode string"
        )


# The Code each modeled exception carries (botocore's ErrorCode enum); the
# ones with a *unverified* alternative list it second, accepted unless strict.
CONTRACT_ERROR_CODES: Mapping[str, tuple[str, ...]] = {
    "BadRequestException": ("BadRequest",),
    "ConflictException": ("Conflict",),
    "ForbiddenException": ("Forbidden",),
    "AccessDeniedException": ("AccessDenied",),
    "NotFoundException": ("NotFound",),
    "ResourceLimitExceededException": ("ResourceLimitExceeded",),
    "UnauthorizedClientException": ("Unauthorized",),
    "UnprocessableEntityException": ("Unprocessable",),
    "ThrottledClientException": ("Throttled", "Throttling"),
    "ServiceFailureException": ("ServiceFailure",),
    "ServiceUnavailableException": ("ServiceUnavailable",),
}


def error_code_values(api: str) -> tuple[str, ...]:
    """botocore's ErrorCode enum, as the spec's ``ErrorCode`` schema states it."""
    schemas = spec.load_document(api).get("components", {}).get("schemas", {})
    return tuple(schemas.get("ErrorCode", {}).get("enum", ()))


@check(rule="error-code-enum")
def error_code_enum(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """A modeled error's Code is a value of the ErrorCode enum (strict: the value
    the contract gives its exception, e.g. 401 Unauthorized, 429 Throttled).
    The signing layer's errors are not modeled and keep their own shape."""
    name = error_type(exchange)
    body = exchange.json
    if exchange.status < 400 or name in AUTHENTICATION_ERRORS or not isinstance(body, Mapping):
        return False
    code = body.get("Code")
    if code is None:  # a missing Code is error_shape_is_aws's to report
        return False
    fact = "error Code (spec components/schemas/ErrorCode; docs/contract.md error-code-enum)"
    enum = error_code_values(ctx.operation.api)
    if code not in enum:
        raise fail(
            ctx, fact, f"Code {code!r} with x-amzn-ErrorType: {name}", f"one of {', '.join(enum)}"
        )
    expected = CONTRACT_ERROR_CODES.get(name or "")
    if ctx.strict and expected is not None and code != expected[0]:
        raise fail(
            ctx,
            fact,
            f"Code {code!r} with x-amzn-ErrorType: {name}",
            f"Code {expected[0]!r} for {name}",
        )
    return True


# schemathesis' check of the same rule
RESPONSE_HEADERS_CONFORMANCE = declare(
    "response_headers_conformance",
    rule="error-shape",
    description="schemathesis: documented response headers (x-amzn-ErrorType) are present.",
    kind=SCHEMATHESIS,
)
