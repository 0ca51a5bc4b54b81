"""Every operation that addresses a resource reports a missing one.

docs/contract.md: a missing or deleted resource gets 404 NotFoundException (the real
service is *unverified*: 403 Forbidden or 400 BadRequest are accepted unless
--strict).
"""

from __future__ import annotations

import uuid

import pytest

from chime_conformance import checks
from chime_conformance.contract import spec
from chime_conformance.run.recorder import Verifier

from .resources import Resources, Targets, World, minimal_members, pinned_members

# member → how to make a well-formed identifier of a resource that does not exist
ABSENT = {
    "AppInstanceArn": lambda w: _sibling(w.app_instance_arn, f"app-instance/{uuid.uuid4()}"),
    "AppInstanceUserArn": lambda w: f"{w.app_instance_arn}/user/absent-{uuid.uuid4().hex[:12]}",
    "AppInstanceBotArn": lambda w: f"{w.app_instance_arn}/bot/{uuid.uuid4()}",
    "AppInstanceAdminArn": lambda w: f"{w.app_instance_arn}/user/absent-{uuid.uuid4().hex[:12]}",
    "EndpointId": lambda w: uuid.uuid4().hex,
    "ResourceARN": lambda w: _sibling(w.app_instance_arn, f"app-instance/{uuid.uuid4()}"),
    "AccountId": lambda w: str(uuid.uuid4()),
}


def _sibling(arn: str, resource: str) -> str:
    return ":".join([*arn.split(":")[:5], resource])


def addressed_members(op: spec.Operation) -> list[str]:
    """The required members of ``op`` that name an existing resource."""
    required = set(op.input_schema.get("required", []))
    return [m for m in ABSENT if m in required]


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
    members = {**minimal_members(op.name), **pinned, member: ABSENT[member](world)}
    exchange, mirrored = targets.send(op, members, pinned)
    verifier.verify(exchange, checks.Expectation.valid_input(resource="absent"), reference=mirrored)
