"""Presigned requests: SigV4 in the query string (docs/contract.md, presigned).

AWS accepts a request presigned as botocore's ``SigV4QueryAuth`` presigns it
until ``X-Amz-Date`` + ``X-Amz-Expires``, and refuses it after. Only reads are
presigned (a presigned request has no body). The other signing cases, the
bogus session token among them, are in conformance/test_requests.py.
"""

from __future__ import annotations

import pytest

from chime_conformance import checks
from chime_conformance.contract import spec
from chime_conformance.run.recorder import Verifier
from chime_conformance.wire.client import Exchange, Signing

from .resources import Resources, Targets, World, minimal_members, pinned_members

# reads with no body, one per kind of target: a list, a path label, the accounts API
PRESIGNED_READS = ["ListAppInstances", "DescribeAppInstance", "GetAccount"]


def _send(
    operation: str, signing: Signing, targets: Targets, resources: Resources, world: World
) -> tuple[Exchange, Exchange | None]:
    op = spec.operation(operation)
    pinned = pinned_members(operation, set(op.input_schema["properties"]), resources, world)
    return targets.send(op, {**minimal_members(operation), **pinned}, pinned, signing=signing)


@pytest.mark.parametrize("operation", PRESIGNED_READS)
def test_a_presigned_read_is_accepted(
    operation: str, targets: Targets, resources: Resources, world: World, verifier: Verifier
) -> None:
    exchange, mirrored = _send(operation, Signing.PRESIGNED, targets, resources, world)
    verifier.verify(
        exchange, checks.Expectation.valid_input(resource="present"), reference=mirrored
    )


@pytest.mark.parametrize("operation", PRESIGNED_READS)
def test_an_expired_presigned_read_is_refused(
    operation: str, targets: Targets, resources: Resources, world: World, verifier: Verifier
) -> None:
    exchange, mirrored = _send(operation, Signing.PRESIGNED_EXPIRED, targets, resources, world)
    verifier.verify(
        exchange, checks.Expectation.valid_input(resource="present"), reference=mirrored
    )
