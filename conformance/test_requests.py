"""Per-operation contract tests for all 35 operations.

Valid requests are accepted with a conforming answer; requests that break one
constraint are rejected with 400; every constraint is probed on both sides of
its bound (the run's constraint coverage); unsigned or wrongly signed requests
are refused. Requests go out as raw signed HTTP, exactly as generated.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from chime_conformance import checks, strategies
from chime_conformance.contract import spec
from chime_conformance.contract.constraints import OUTSIDE
from chime_conformance.pytest_plugin._library_internals import memoize_function_digests
from chime_conformance.run.coverage import ConstraintCoverage
from chime_conformance.run.recorder import Verifier
from chime_conformance.wire.client import PRESIGNED_SIGNINGS, Exchange, Signing

from .resources import (
    RESOURCE_MEMBERS,
    Resources,
    Targets,
    World,
    minimal_members,
    pinned_members,
)

# Hundreds of items share each test function here: Hypothesis' digest of it
# (its seed under `ci`) is hashed once per function, not twice per item.
memoize_function_digests()

OPERATIONS = [op.name for op in spec.operations()]


def _has_targets(op: spec.Operation, fault: str) -> bool:
    try:
        return bool(strategies.fault_targets(op, fault))
    except InvalidArgument:  # this operation has no constraint of that kind
        return False


FAULT_CASES = [
    pytest.param(op.name, fault, id=f"{op.name}-{fault}")
    for op in spec.operations()
    for fault in strategies.REQUEST_FAULT_KINDS
    if _has_targets(op, fault)
]
PROBES = [
    pytest.param(probe, id=probe.id) for op in spec.operations() for probe in strategies.probes(op)
]
# presigned requests have their own cases (conformance/test_auth.py): reads only
BAD_SIGNINGS = [s for s in Signing if s is not Signing.SIGNED and s not in PRESIGNED_SIGNINGS]
# A probe sits on a bound: a few examples show it (the profile scales them).
PROBE_EXAMPLES = max(2, settings.default.max_examples // 4)
FAULT_EXAMPLES = max(2, settings.default.max_examples // 2)


def members_of(op: spec.Operation) -> set[str]:
    return set(op.input_schema["properties"])


def identifies_resource(member: str) -> bool:
    """Whether ``member`` names an existing resource (its value is pinned to one)."""
    return member.split(".")[0].split("[")[0] in RESOURCE_MEMBERS


@pytest.mark.parametrize("operation", OPERATIONS)
@given(data=st.data())
def test_a_valid_request_is_accepted(
    operation: str,
    data: st.DataObject,
    targets: Targets,
    resources: Resources,
    world: World,
    verifier: Verifier,
) -> None:
    op = spec.operation(operation)
    pinned = pinned_members(operation, members_of(op), resources, world)
    request = data.draw(strategies.requests_for(op, pinned=pinned), label="request")
    exchange, mirrored = targets.send(op, request.members, pinned)
    verifier.verify(
        exchange, checks.Expectation.valid_input(resource="present"), reference=mirrored
    )


@pytest.mark.parametrize(("operation", "fault"), FAULT_CASES)
@settings(max_examples=FAULT_EXAMPLES)
@given(data=st.data())
def test_a_request_with_one_fault_is_rejected(
    operation: str,
    fault: str,
    data: st.DataObject,
    targets: Targets,
    resources: Resources,
    world: World,
    verifier: Verifier,
) -> None:
    op = spec.operation(operation)
    # real resources (fresh ones for destructive operations): a target that
    # wrongly accepts the request must not destroy what other tests share
    pinned = pinned_members(operation, members_of(op), resources, world)
    request = data.draw(strategies.requests_for(op, fault=fault, pinned=pinned), label="request")
    exchange, mirrored = targets.send(op, request.members, pinned)
    violations = spec.violations_of(op, request.members)
    verifier.verify(exchange, checks.Expectation.invalid_input(*violations), reference=mirrored)


@pytest.mark.parametrize("probe", PROBES)
@settings(max_examples=PROBE_EXAMPLES)
@given(data=st.data())
def test_each_constraint_holds_at_its_bound(
    probe: strategies.Probe,
    data: st.DataObject,
    targets: Targets,
    resources: Resources,
    world: World,
    verifier: Verifier,
    chime_coverage: ConstraintCoverage,
) -> None:
    constraint = probe.constraint
    op = spec.operation(constraint.operation)
    pinned = pinned_members(op.name, members_of(op), resources, world)
    request = data.draw(strategies.probe_requests(probe, pinned=pinned), label="request")
    # a probe of Name's own bounds is sent as drawn: a prefix would move it off them
    on_name = constraint.member.split(".")[0] == "Name"
    exchange, mirrored = targets.send(op, request.members, pinned, stamp=not on_name)
    if probe.side == OUTSIDE:
        expectation = checks.Expectation.invalid_input(*spec.violations_of(op, request.members))
    else:
        absent = identifies_resource(
            constraint.member
        )  # a value on the bound names no real resource
        expectation = checks.Expectation.valid_input(resource="absent" if absent else "present")
    try:
        verifier.verify(exchange, expectation, constraint=constraint.id, reference=mirrored)
    except AssertionError:
        chime_coverage.record(constraint.id, probe.side, False)
        raise
    chime_coverage.record(constraint.id, probe.side, probe_held(probe.side, exchange))


def probe_held(side: str, exchange: Exchange) -> bool:
    """Whether the probe showed the constraint at work: outside rejected as
    invalid; inside not rejected as invalid (a 404 for an absent resource or a
    409 for a taken token is not a rejection of the value)."""
    rejected_as_invalid = (
        exchange.status == 400 and checks.error_type(exchange) != "ResourceLimitExceededException"
    )
    return (
        rejected_as_invalid
        if side == OUTSIDE
        else not rejected_as_invalid and exchange.status < 500
    )


@pytest.mark.parametrize("signing", BAD_SIGNINGS, ids=lambda s: s.value)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_request_not_signed_correctly_is_refused(
    operation: str,
    signing: Signing,
    targets: Targets,
    resources: Resources,
    world: World,
    verifier: Verifier,
) -> None:
    op = spec.operation(operation)
    pinned = pinned_members(operation, members_of(op), resources, world)
    members = {**minimal_members(operation), **pinned}
    exchange, mirrored = targets.send(op, members, pinned, signing=signing)
    verifier.verify(
        exchange, checks.Expectation.valid_input(resource="present"), reference=mirrored
    )
