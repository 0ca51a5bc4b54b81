"""Requests for the promise tests, built from the spec for any operation.

A promise test knows an operation only by name: the members it must send come
from the spec (every writable member, so that each can be read back), values
differ from the ones the target holds (so that a lost write shows), resources
it names are made fresh (``resources.fresh_targets``), and later requests name
what earlier ones sent or were answered (:func:`known_members`).
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterable, Mapping
from typing import Any

from hypothesis import HealthCheck, Phase, find, settings

from chime_conformance import strategies
from chime_conformance.checks import promises
from chime_conformance.contract import spec

from .resources import (
    PINPOINT_ARN,
    RESOURCE_MEMBERS,
    TOKEN_MEMBER,
    Resources,
    fresh_targets,
    lex_configuration,
    minimal_members,
)
from .scenario import Scenario

# Values a live service needs to be real (a Pinpoint application, a Lex alias
# that answers standard messages), in the order they are used.
REALISTIC: Mapping[str, tuple[Any, ...]] = {
    "ResourceArn": (PINPOINT_ARN, PINPOINT_ARN.replace("0123456789abcdef", "fedcba9876543210")),
    "Configuration": (
        lex_configuration(),
        {
            "Lex": {
                "LexBotAliasArn": lex_configuration()["Lex"]["LexBotAliasArn"],
                "LocaleId": "en_US",
                "InvokedBy": {"StandardMessages": "MENTIONS", "TargetedMessages": "ALL"},
            }
        },
    ),
}
_FIRST_ONLY = settings(
    max_examples=200,
    phases=[Phase.generate],
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def known_members(*bodies: Mapping[str, Any] | None) -> dict[str, Any]:
    """What later requests can name: the members of each body (requests sent,
    answers got) and of the objects they hold, one level down (Account.AccountId);
    a later body wins."""
    known: dict[str, Any] = {}
    for body in bodies:
        for name, value in (body or {}).items():
            if isinstance(value, Mapping):
                known.update({k: v for k, v in value.items() if not isinstance(v, Mapping)})
            known[name] = value
    return known


def address(operation: str, known: Mapping[str, Any]) -> dict[str, Any]:
    """The required members of ``operation`` that ``known`` holds."""
    required = spec.operation(operation).input_schema.get("required", [])
    return {member: known[member] for member in required if member in known}


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _complete(value: Any, schema: Mapping[str, Any]) -> bool:
    """Whether an object value holds every property its schema has, all the way down."""
    if schema.get("type") != "object":
        return True
    properties = schema.get("properties", {})
    return isinstance(value, Mapping) and all(
        name in value and _complete(value[name], sub) for name, sub in properties.items()
    )


@functools.cache
def _generated(schema_json: str, member: str, avoid: frozenset[str]) -> Any:
    schema = json.loads(schema_json)
    return find(
        strategies.values_for(schema, member=member),
        lambda value: _json(value) not in avoid and _complete(value, schema),
        settings=_FIRST_ONLY,
    )


def fresh_value(operation: str, member: str, unique: str, avoid: Iterable[Any] = ()) -> Any:
    """A valid value of ``member`` unlike any of ``avoid``: a realistic one, else
    ``unique`` where the schema takes it, else Hypothesis' simplest (objects with
    every property). The same arguments give the same value."""
    schema = spec.operation(operation).input_schema["properties"][member]
    avoided = frozenset(_json(value) for value in avoid)
    for value in REALISTIC.get(member, ()):
        if _json(value) not in avoided:
            return copy.deepcopy(value)
    if member == "Tags":
        return [{"Key": unique, "Value": unique}]
    if schema.get("type") == "string" and "enum" not in schema:
        candidate = unique[: schema.get("maxLength", len(unique))]
        if spec.validator(schema).is_valid(candidate) and _json(candidate) not in avoided:
            return candidate
    return copy.deepcopy(_generated(_json(schema), member, avoided))


def write_request(
    operation: str,
    resources: Resources,
    pinned: Mapping[str, Any],
    *,
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A valid request of ``operation`` with every writable member, each unlike
    its ``current`` value; ``pinned`` members (the resources it names) as given,
    a never-used ClientRequestToken, the run's tag among the Tags."""
    op = spec.operation(operation)
    members = {**minimal_members(operation), **pinned}
    for member in promises.writable_members(op):
        if member in pinned:
            continue
        avoid = [] if current is None or member not in current else [current[member]]
        members[member] = fresh_value(operation, member, resources.unique("v"), avoid)
    if "Tags" in members:
        members["Tags"] = [*resources.run_tags(), *members["Tags"]]
    if TOKEN_MEMBER in op.input_schema["properties"]:
        members[TOKEN_MEMBER] = resources.unique("t")
    return members


def targets_of(
    operation: str, resources: Resources, given: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Resources for every resource ``operation`` names (what a create goes
    under, what an update or put writes): ``given`` ones, fresh ones for the rest."""
    required = spec.operation(operation).input_schema.get("required", [])
    return fresh_targets([m for m in required if m in RESOURCE_MEMBERS], resources, given)


def item_key(item: Any, path: Iterable[str]) -> Any:
    """The value at ``path`` in a listed item (None when it is not there)."""
    for step in path:
        item = item.get(step) if isinstance(item, Mapping) else None
    return item


def make_member(
    scenario: Scenario, resources: Resources, listing: str, scope: Mapping[str, str]
) -> dict[str, Any]:
    """A new member of what ``listing`` lists, under ``scope``, with every
    writable member set (its create verified); what the create sent and was answered."""
    kind = promises.listed(listing)
    request = write_request(kind.create, resources, targets_of(kind.create, resources, scope))
    answer = scenario.ok(kind.create, request)
    return known_members(request, answer)
