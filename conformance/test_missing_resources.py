"""Every operation that addresses a resource reports a missing one.

docs/contract.md: a missing or deleted resource gets 404 NotFoundException (the real
service is *unverified*: 403 Forbidden or 400 BadRequest are accepted unless
--strict).
"""

from __future__ import annotations

import uuid

import pytest

from chime_conformance import checks
from chime_conformance.contract import resources as catalogue
from chime_conformance.contract import spec
from chime_conformance.run.recorder import Verifier

from .resources import Resources, Targets, World, minimal_members, pinned_members


def absent(member: str, world: World) -> str:
    """A well-formed identifier for ``member`` of a resource that does not
    exist: an ARN of the kind it names, under the world's parent, with a new
    id (a UUID the service never issued; an unused id of the caller's), or
    a new UUID for a kind without an ARN."""
    shape = catalogue.kind(catalogue.naming_members()[member][0])
    if not shape.arn_kinds:
        return str(uuid.uuid4())
    named = catalogue.kind(shape.arn_kinds[0])  # an admin: a user
    if named.parent is None:  # "arn:aws:chime:region:account" of the world's resources
        parent = ":".join(world.app_instance_arn.split(":")[:5])
    else:
        parent = world.addresses[named.parent][catalogue.kind(named.parent).member]
    issued = (named.arn or "").endswith("{uuid}")
    return named.arn_under(
        parent, str(uuid.uuid4()) if issued else f"absent-{uuid.uuid4().hex[:12]}"
    )


def addressed_members(op: spec.Operation) -> list[str]:
    """The required members of ``op`` that name an existing resource."""
    required = set(op.input_schema.get("required", []))
    return [m for m in catalogue.naming_members() if m in required]


CASES = [
    pytest.param(op.name, member, id=f"{op.name}-{member}")
    for op in spec.operations()
    for member in addressed_members(op)
    # a Create names its parent: that parent can be absent too
]


@pytest.mark.parametrize(("operation", "member"), CASES)
def test_a_missing_resource_is_reported(
    operation: str,
    member: str,
    targets: Targets,
    resources: Resources,
    world: World,
    verifier: Verifier,
) -> None:
    op = spec.operation(operation)
    pinned = pinned_members(op.name, set(op.input_schema["properties"]), resources, world)
    # the simplest valid request naming real resources, but one that is not there
    members = {**minimal_members(op.name), **pinned, member: absent(member, world)}
    exchange, mirrored = targets.send(op, members, pinned)
    verifier.verify(exchange, checks.Expectation.valid_input(resource="absent"), reference=mirrored)
