"""Timestamps (docs/contract.md timestamps): the wire type of their API,
a plausible time, and an object never updated before it was created."""

from __future__ import annotations

import datetime
from typing import Any

from chime_conformance.checks.answers import is_success, walk_json
from chime_conformance.checks.registry import CheckContext, Expectation, check, declare, fail
from chime_conformance.contract import spec
from chime_conformance.wire.exchange import Exchange

# Plausible time: nothing in these APIs predates 2015 (the identity API is
# from 2021); an epoch-seconds value above this is really milliseconds.
EARLIEST_PLAUSIBLE = datetime.datetime(2015, 1, 1, tzinfo=datetime.UTC).timestamp()
MILLISECONDS_THRESHOLD = 1e11  # year 5138 in seconds, 1973 in milliseconds


@check(rule="timestamps")
def timestamps_are_plausible(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """Timestamps have the wire type of their API (identity: epoch seconds as
    numbers; accounts: ISO-8601 strings), lie between 2015 and now (plus the
    allowed skew), and an object is never updated before it was created."""
    if not is_success(exchange):
        return False
    found = False
    for path, key, value, parent in walk_json(exchange.json):
        if key.endswith("Timestamp"):
            found = True
            _check_timestamp(ctx, path, value)
            if key == "LastUpdatedTimestamp" and "CreatedTimestamp" in parent:
                _check_order(ctx, path, parent["CreatedTimestamp"], value)
    return found


def _timestamp_fact(ctx: CheckContext, path: str) -> tuple[str, str]:
    if ctx.operation.api == spec.ACCOUNTS:
        return f"{path} (spec x-aws-timestamp: iso8601)", "an ISO-8601 date-time string"
    return f"{path} (spec x-aws-timestamp: epoch-seconds)", "epoch seconds as a JSON number"


def _epoch_seconds(ctx: CheckContext, value: Any) -> float | None:
    """The value as epoch seconds, or None if it is not of the API's wire type."""
    if ctx.operation.api == spec.ACCOUNTS:
        if not isinstance(value, str):
            return None
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            return None
        if moment.tzinfo is None:
            if ctx.strict:
                return None
            moment = moment.replace(tzinfo=datetime.UTC)  # botocore reads it as UTC
        return moment.timestamp()
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _check_timestamp(ctx: CheckContext, path: str, value: Any) -> None:
    fact, wire_type = _timestamp_fact(ctx, path)
    seconds = _epoch_seconds(ctx, value)
    if seconds is None:
        raise fail(ctx, fact, repr(value), wire_type)
    latest = ctx.clock() + ctx.clock_skew
    if seconds > MILLISECONDS_THRESHOLD:
        raise fail(ctx, fact, f"{value!r} (epoch milliseconds?)", wire_type)
    if not EARLIEST_PLAUSIBLE <= seconds <= latest:
        raise fail(
            ctx,
            fact,
            f"{value!r} ({_iso(seconds)})",
            f"a time between {_iso(EARLIEST_PLAUSIBLE)} and now + {ctx.clock_skew:g} s "
            f"({_iso(latest)})",
        )


def _iso(seconds: float) -> str:
    try:
        return datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return "out of range"


def _check_order(ctx: CheckContext, path: str, created: Any, updated: Any) -> None:
    created_at, updated_at = _epoch_seconds(ctx, created), _epoch_seconds(ctx, updated)
    if created_at is None or updated_at is None:
        return  # reported by _check_timestamp
    if updated_at < created_at:
        raise fail(
            ctx,
            f"{path} (docs/contract.md timestamps: CreatedTimestamp ≤ LastUpdatedTimestamp)",
            f"LastUpdatedTimestamp {updated!r} before CreatedTimestamp {created!r}",
            "CreatedTimestamp ≤ LastUpdatedTimestamp",
        )


# compared across several answers by the state machines
TIMESTAMPS_MONOTONIC = declare(
    "timestamps_monotonic",
    rule="timestamps",
    description="CreatedTimestamp never changes; LastUpdatedTimestamp never moves back.",
)
