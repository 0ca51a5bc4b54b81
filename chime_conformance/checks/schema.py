"""Shapes of answers (docs/contract.md response-schema, content-type): a
success body validates against the operation's response schema, and a body
is JSON and says so."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from chime_conformance.checks.answers import shorten
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


@check(rule="response-schema")
def response_matches_schema(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """The success answer's body validates against the operation's response schema."""
    schema = ctx.operation.response_schema
    # another 2xx is status_code_matches_spec's to report, against another schema
    if exchange.status != ctx.operation.success_status or schema is None:
        return False
    fact = f"success response body (spec components/schemas/{ctx.operation.name}Response)"
    body = exchange.json
    if body is None:
        raw = shorten(exchange.response.body.decode("utf-8", "replace")) or "an empty body"
        raise fail(ctx, fact, f"a body that is not JSON: {raw}", "a JSON object")
    errors = _schema_errors(schema, body)
    if errors:
        raise fail(
            ctx,
            fact,
            "; ".join(f"{_json_pointer(e)}: {shorten(e.message)}" for e in errors[:3]),
            "; ".join(f"{_json_pointer(e)}: {_schema_keyword(e)}" for e in errors[:3]),
        )
    return True


def _schema_errors(schema: Mapping[str, Any], body: Any) -> list[Any]:
    """jsonschema's errors of ``body`` against ``schema``, by path.

    A body already found valid against the same schema is not walked again:
    the state machines' list walks read the same pages over and over, and a
    page of 50 items costs about a millisecond to walk. Its canonical JSON
    tells bodies apart exactly as validation does (key order aside, which
    validation ignores; ``1``, ``1.0`` and ``true`` stay apart), so the verdict
    is the same; an invalid body is walked every time, for its errors."""
    validator = _validator_of(schema)
    canonical = json.dumps([id(validator), body], sort_keys=True).encode()
    key = hashlib.sha256(canonical).digest()
    if key in _VALID_BODIES:
        return []
    errors = sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        if len(_VALID_BODIES) >= _VALID_BODIES_KEPT:
            _VALID_BODIES.clear()
        _VALID_BODIES.add(key)
    return errors


_VALID_BODIES: set[bytes] = set()
_VALID_BODIES_KEPT = 100_000  # digests of 32 bytes: a few MB at most
# one validator per response schema, kept with its schema (so neither id is reused)
_VALIDATORS: dict[int, tuple[Mapping[str, Any], Any]] = {}


def _validator_of(schema: Mapping[str, Any]) -> Any:
    kept = _VALIDATORS.get(id(schema))
    if kept is None or kept[0] is not schema:
        kept = (schema, spec.validator(schema))
        _VALIDATORS[id(schema)] = kept
    return kept[1]


def _json_pointer(error: Any) -> str:
    return "/" + "/".join(str(part) for part in error.absolute_path)


def _schema_keyword(error: Any) -> str:
    return f"{error.validator} {shorten(repr(error.validator_value), 100)}"


@check(rule="content-type")
def content_type_is_json(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """A non-empty body is JSON and says so in Content-Type."""
    if not exchange.response.body.strip():
        return False
    allowed = ("application/json",) if ctx.strict else spec.JSON_CONTENT_TYPES
    content_type = exchange.response.header("Content-Type") or ""
    media_type = content_type.split(";")[0].strip().lower()
    fact = "response media type (spec content: application/json)"
    if media_type not in allowed:
        raise fail(ctx, fact, f"Content-Type: {content_type or '(none)'}", " or ".join(allowed))
    if exchange.json is None:
        body = shorten(exchange.response.body.decode("utf-8", "replace"))
        raise fail(ctx, fact, f"a body that does not parse as JSON: {body}", "a JSON document")
    return True


# schemathesis' checks of the same rules
RESPONSE_SCHEMA_CONFORMANCE = declare(
    "response_schema_conformance",
    rule="response-schema",
    description="schemathesis: the body validates against the documented response schema.",
    kind=SCHEMATHESIS,
)
CONTENT_TYPE_CONFORMANCE = declare(
    "content_type_conformance",
    rule="content-type",
    description="schemathesis: the Content-Type is one the operation documents.",
    kind=SCHEMATHESIS,
)
