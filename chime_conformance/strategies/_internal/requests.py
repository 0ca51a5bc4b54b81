"""Whole requests: valid ones, ones with exactly one fault, and probes.

A :class:`Request` is the members of one call of one operation (path, query
and body members by member name, typed: the client puts them on the wire).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from chime_conformance.contract import constraints as catalogue
from chime_conformance.contract import spec
from chime_conformance.contract.constraints import INSIDE, OUTSIDE, Constraint
from chime_conformance.strategies._internal.boundaries import values_inside, values_outside
from chime_conformance.strategies._internal.patterns import integers
from chime_conformance.strategies._internal.values import schema_key, validator_for, values_for

# The constraint keyword each fault kind breaks.
FAULT_KEYWORDS: Mapping[str, str] = {
    "too_short": "minLength",
    "too_long": "maxLength",
    "pattern": "pattern",
    "enum": "enum",
    "below_minimum": "minimum",
    "above_maximum": "maximum",
    "too_few_items": "minItems",
    "too_many_items": "maxItems",
    "missing_required": "required",
    "wrong_type": "type",
    "null": "type",
}
# The ways a request can break one constraint (``fault=`` of requests_for);
# not the emulator's faults, which break the contract on the server's side.
REQUEST_FAULT_KINDS = tuple(FAULT_KEYWORDS)
FAULT_KIND_BY_KEYWORD: Mapping[str, str] = {
    keyword: fault for fault, keyword in FAULT_KEYWORDS.items() if fault != "null"
}

# Members a valid request leaves out unless pinned: the service issues them,
# and an invented one is rightly refused (a forged NextToken is a 400).
SERVER_ISSUED = frozenset({"NextToken"})


@dataclass(frozen=True)
class Request:
    """The members of one call of ``operation``.

    ``fault`` is None for a request that keeps every constraint, else the
    fault kind (``"too_long"``…) and ``constraint`` the one constraint it
    breaks. A valid request made to probe a constraint from inside also
    names that ``constraint``."""

    operation: spec.Operation
    members: dict[str, Any] = field(hash=False)
    fault: str | None = None
    constraint: Constraint | None = None

    @property
    def valid(self) -> bool:
        """Whether the request keeps every constraint of the spec."""
        return self.fault is None


@dataclass(frozen=True)
class Probe:
    """One side of one constraint: ``"inside"`` (on the bound, must be
    accepted) or ``"outside"`` (one step past it, must be rejected)."""

    constraint: Constraint
    side: str

    @property
    def id(self) -> str:
        """``CreateAppInstance:Name:maxLength:outside``."""
        return f"{self.constraint.id}:{self.side}"


def _operation(operation: spec.Operation | str) -> spec.Operation:
    if isinstance(operation, spec.Operation):
        return operation
    if isinstance(operation, str):
        try:
            return spec.operation(operation)
        except KeyError:
            raise InvalidArgument(f"no operation {operation!r} in the spec") from None
    raise InvalidArgument(f"operation must be an Operation or its name, got {operation!r}")


def _pins(op: spec.Operation, pinned: Mapping[str, Any] | None) -> dict[str, Any]:
    if pinned is None:
        return {}
    if not isinstance(pinned, Mapping):
        raise InvalidArgument(f"pinned must be a mapping of member to value, got {pinned!r}")
    properties = op.input_schema["properties"]
    for name, value in pinned.items():
        if name not in properties:
            raise InvalidArgument(f"{op.name} has no member {name!r} to pin")
        if isinstance(value, st.SearchStrategy):
            raise InvalidArgument(f"pinned[{name!r}] must be a value, not a strategy")
        if not validator_for(schema_key(properties[name])).is_valid(value):
            raise InvalidArgument(f"pinned[{name!r}]={value!r} breaks the spec of {op.name}")
    return dict(pinned)


def requests_for(
    operation: spec.Operation | str,
    *,
    fault: str | None = None,
    pinned: Mapping[str, Any] | None = None,
) -> Any:
    """Requests of ``operation``: valid ones when ``fault`` is None, else ones
    that break exactly one constraint in the way ``fault`` names (one of
    :data:`REQUEST_FAULT_KINDS`), chosen among the operation's constraints of that kind.

    ``pinned`` fixes members to the given (valid) values, e.g. real resource
    ARNs so that a valid request can succeed, except a member the fault
    targets. Valid requests carry every required member, a drawn subset of
    the optional ones, and no NextToken unless pinned. Shrinks towards fewer
    optional members and simpler values."""
    op = _operation(operation)
    pins = _pins(op, pinned)
    if fault is None:
        return _requests(op, pins, None, None, None)
    targets = fault_targets(op, fault)
    return st.sampled_from(targets).flatmap(lambda c: breaking(c, op=op, fault=fault, pins=pins))


def fault_targets(operation: spec.Operation | str, fault: str) -> tuple[Constraint, ...]:
    """The constraints of ``operation`` that a ``fault`` can break alone."""
    op = _operation(operation)
    if fault not in FAULT_KEYWORDS:
        raise InvalidArgument(f"fault={fault!r}; expected None or one of {REQUEST_FAULT_KINDS}")
    keyword = FAULT_KEYWORDS[fault]
    targets = tuple(
        c
        for c in catalogue.constraints(op, include_types=True)
        if c.keyword == keyword and c.probeable and (fault != "null" or _in_body(op, c))
    )
    if not targets:
        raise InvalidArgument(f"{op.name} has no constraint that a {fault!r} fault can break")
    return targets


def _in_body(op: spec.Operation, c: Constraint) -> bool:
    # a null query member is simply left off the wire: no fault at all
    return op.location_of(catalogue.split_path(c.member)[0])[0] == "body"


def breaking(c: Constraint, *, op: spec.Operation, fault: str, pins: Mapping[str, Any]) -> Any:
    """Requests of ``op`` that break ``c`` alone, as ``fault``."""
    if fault == "missing_required":
        return _requests(op, pins, c.member, None, (fault, c))
    value = st.none() if fault == "null" else values_outside(op, c)
    return _requests(op, pins, c.member, value, (fault, c))


def probes(operation: spec.Operation | str) -> tuple[Probe, ...]:
    """Every probe of ``operation``: both sides of each constraint that can be
    broken alone, in catalogue order (types not included)."""
    op = _operation(operation)
    return tuple(
        Probe(c, side)
        for c in catalogue.constraints(op)
        if c.probeable
        for side in (INSIDE, OUTSIDE)
    )


def probe_requests(probe: Probe, *, pinned: Mapping[str, Any] | None = None) -> Any:
    """Requests for ``probe``: valid with the member on the bound (inside), or
    breaking the constraint by one step (outside)."""
    if not isinstance(probe, Probe) or probe.side not in (INSIDE, OUTSIDE):
        raise InvalidArgument(f"probe must be a Probe with side inside/outside, got {probe!r}")
    c = probe.constraint
    op = _operation(c.operation)
    pins = _pins(op, pinned)
    if probe.side == OUTSIDE:
        return breaking(c, op=op, fault=FAULT_KIND_BY_KEYWORD[c.keyword], pins=pins)
    value = None if c.keyword == "required" else values_inside(op, c)
    return _requests(op, pins, c.member, value, (None, c))


@st.composite
def _requests(
    draw: Any,
    op: spec.Operation,
    pins: Mapping[str, Any],
    target: str | None,
    value: Any,
    outcome: tuple[str | None, Constraint] | None,
) -> Request:
    steps = catalogue.split_path(target) if target else []
    members = draw(_valid_members(op, pins, steps[0] if steps else None))
    if steps:
        _place(draw, members, op.input_schema, steps, value, outcome)
    fault, c = outcome if outcome else (None, None)
    return Request(op, members, fault, c)


@st.composite
def _valid_members(
    draw: Any, op: spec.Operation, pins: Mapping[str, Any], target: str | None
) -> dict[str, Any]:
    schema = op.input_schema
    required = set(schema.get("required", []))
    members: dict[str, Any] = {}
    for name, sub in schema["properties"].items():
        if name in pins and name != target:
            members[name] = copy.deepcopy(pins[name])
        elif name in required or name == target or _wanted(draw, name):
            members[name] = draw(values_for(sub, member=name))
    return members


def _wanted(draw: Any, name: str) -> bool:
    return name not in SERVER_ISSUED and draw(st.booleans())


def _place(
    draw: Any,
    container: Any,
    schema: Mapping[str, Any],
    steps: list[str],
    value: Any,
    outcome: tuple[str | None, Constraint] | None,
) -> None:
    """Put a drawn ``value`` at ``steps`` inside ``container`` (creating
    optional parents); a ``missing_required`` outcome deletes it instead."""
    step, rest = steps[0], steps[1:]
    if step == "[]":
        if not container:
            container.append(draw(values_for(schema["items"])))
        child_schema, key = schema["items"], draw(integers(0, len(container) - 1))
    else:
        child_schema, key = schema["properties"][step], step
    if rest:
        if step != "[]" and key not in container:
            container[key] = draw(values_for(child_schema, member=step))
        _place(draw, container[key], child_schema, rest, value, outcome)
    elif outcome and outcome[0] == "missing_required":
        del container[key]
    elif value is not None:
        container[key] = draw(value)
