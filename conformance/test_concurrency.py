"""The contract's rules under overlap: several requests sent at once, from
threads (``chime_conformance.wire.overlapping``), and their combined outcome judged
against what the rules allow for some order of them
(``chime_conformance.checks.overlap``).

Each test is parametrized over the operations the spec puts in its class
(``chime_conformance.checks.promises``): creates whose caller chooses the id, every
operation with a ClientRequestToken, TagResource, creates inside an
AppInstance, every delete.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from chime_conformance import checks
from chime_conformance.checks import overlap, promises
from chime_conformance.checks.overlap import Judgement
from chime_conformance.contract import spec
from chime_conformance.wire.exchange import Exchange

from . import scenario as scenario_module
from .promise_requests import address, known_members, make_member, targets_of, write_request
from .resources import RESOURCE_MEMBERS, Resources, fresh_targets
from .scenario import Scenario, field_of

# How many requests overlap: enough that a check-then-act race loses one.
OVERLAPPING = 4
# Seconds a create leaves ahead of its parent's delete (both still overlap)
CREATE_AHEAD = 0.03

# What a test makes is deleted when it ends: the global Lists later tests walk stay short.
pytestmark = pytest.mark.usefixtures("app_instances_deleted_after")


def _ids(promise_id: str) -> list[str]:
    return list(promises.promise(promise_id).operations())


def _record(scenario: Scenario, exchange: Exchange, judged: Judgement) -> None:
    scenario.expect(
        exchange,
        judged.held,
        check=checks.CONCURRENT_OUTCOMES,
        fact=f"{judged.fact} (docs/contract.md concurrency)",
        received=judged.received,
        documented=judged.documented,
    )


def _chosen_ids(operation: str) -> list[str]:
    required = spec.operation(operation).input_schema.get("required", [])
    return [m for m in required if m.endswith("Id") and m not in RESOURCE_MEMBERS]


@pytest.mark.parametrize("operation", _ids("overlapping-creates"))
def test_overlapping_creates_of_one_id_make_one(
    operation: str, scenario: Scenario, resources: Resources
) -> None:
    pinned = targets_of(operation, resources)
    first = write_request(operation, resources, pinned)
    requests = [first] + [
        {
            **write_request(operation, resources, pinned),
            **{member: first[member] for member in _chosen_ids(operation)},
        }
        for _ in range(OVERLAPPING - 1)
    ]
    exchanges = scenario.together([(operation, request) for request in requests])
    success = spec.operation(operation).success_status
    _record(
        scenario,
        exchanges[0],
        overlap.judge_overlapping_creates(
            exchanges, success=success, what=", ".join(_chosen_ids(operation))
        ),
    )
    winner = next(r for r, e in zip(requests, exchanges, strict=True) if e.status == success)
    read = promises.read_back(operation).read
    answer = next(e.json for e in exchanges if e.status == success)
    got = scenario.call(read, address(read, known_members(winner, answer)))
    name = field_of(got.json, *promises.read_back(operation).routes["Name"].path)  # type: ignore[union-attr]
    scenario.expect(
        got,
        name == winner["Name"],
        check=checks.CONCURRENT_OUTCOMES,
        fact=f"the resource left by overlapping {operation} calls is the one that succeeded",
        received=repr(name),
        documented=repr(winner["Name"]),
    )


@pytest.mark.parametrize("operation", _ids("overlapping-replays"))
def test_overlapping_replays_of_one_token_make_one(
    operation: str, scenario: Scenario, resources: Resources
) -> None:
    request = write_request(operation, resources, targets_of(operation, resources))
    exchanges = scenario.together([(operation, request)] * OVERLAPPING)
    success = spec.operation(operation).success_status
    _record(
        scenario,
        exchanges[0],
        overlap.judge_overlapping_replays(
            exchanges, [e.json for e in exchanges], success=success, what="resource"
        ),
    )
    listing = next(n for n in promises.lists() if promises.listed(n).create == operation)
    kind = promises.listed(listing)
    scope = {m: request[m] for m in spec.operation(listing).input_schema.get("required", [])}
    named, last = 0, None
    for last, items in scenario.pages(listing, scope, kind.items, 50):  # noqa: B007
        named += sum(1 for item in items if item.get("Name") == request["Name"])
    assert last is not None
    scenario.expect(
        last,
        named == 1,
        check=checks.CONCURRENT_OUTCOMES,
        fact=f"{OVERLAPPING} overlapping replays of one {operation} make one resource",
        received=f"{named} listed with its Name",
        documented="one",
    )


@pytest.mark.parametrize("operation", _ids("overlapping-tags"))
def test_overlapping_tagging_keeps_every_key(
    operation: str, scenario: Scenario, resources: Resources
) -> None:
    target = targets_of(operation, resources)
    sent = {resources.unique("key"): resources.unique("value") for _ in range(OVERLAPPING)}
    exchanges = scenario.together(
        [(operation, {**target, "Tags": [{"Key": k, "Value": v}]}) for k, v in sent.items()]
    )
    listed = scenario.call("ListTagsForResource", {"ResourceARN": target["ResourceARN"]})
    tags = {t.get("Key"): t.get("Value") for t in field_of(listed.json, "Tags") or []}
    _record(scenario, exchanges[0], overlap.judge_overlapping_tags(exchanges, sent, tags))


def _child_gone(
    scenario: Scenario, operation: str, known: Mapping[str, Any]
) -> tuple[Exchange, bool]:
    """Poll the child's read for at most the deletion window until it is missing."""
    read = promises.read_back(operation).read
    missing = checks.missing_resource_statuses(scenario.strict)
    deadline = time.monotonic() + scenario.deletion_window
    while True:
        exchange = scenario.client.call(read, address(read, known))
        if exchange.status in missing or time.monotonic() >= deadline:
            return exchange, exchange.status in missing
        time.sleep(scenario_module.POLL_SECONDS)


@pytest.mark.parametrize("operation", _ids("create-during-delete"))
def test_a_member_created_during_its_app_instances_deletion_is_no_orphan(
    operation: str, scenario: Scenario, resources: Resources
) -> None:
    required = spec.operation(operation).input_schema.get("required", [])
    given = fresh_targets({*required, "AppInstanceArn"}, resources)  # the AppInstance too
    instance = given["AppInstanceArn"]
    request = write_request(operation, resources, {m: given[m] for m in given if m in required})
    # the create first, the delete while it is under way (a create that arrives
    # after the delete is simply refused, and proves nothing about the window)
    create, delete = scenario.together(
        [(operation, request), ("DeleteAppInstance", {"AppInstanceArn": instance})],
        verify=False,
        stagger=CREATE_AHEAD,
    )
    child = None
    if 200 <= create.status < 300:
        answer = create.json if isinstance(create.json, dict) else {}
        child, _ = _child_gone(scenario, operation, known_members(request, answer))
    missing = checks.missing_resource_statuses(scenario.strict)
    _record(
        scenario,
        create,
        overlap.judge_create_during_delete(create, delete, child, missing=missing),
    )


def _deletable(scenario: Scenario, resources: Resources, delete: str) -> dict[str, Any]:
    """A new resource of what ``delete`` removes, made through its List's kind."""
    listing = next(n for n in promises.lists() if promises.listed(n).delete == delete)
    return make_member(scenario, resources, listing, targets_of(listing, resources))


@pytest.mark.parametrize("operation", _ids("overlapping-deletes"))
def test_overlapping_deletes_of_one_resource(
    operation: str, scenario: Scenario, resources: Resources
) -> None:
    known = _deletable(scenario, resources, operation)
    members = address(operation, known)
    exchanges: Sequence[Exchange] = scenario.together([(operation, members)] * OVERLAPPING)
    missing = checks.missing_resource_statuses(scenario.strict)
    _record(
        scenario,
        exchanges[0],
        overlap.judge_overlapping_deletes(exchanges, missing=missing, strict=scenario.strict),
    )
    create = next(
        promises.listed(n).create
        for n in promises.lists()
        if promises.listed(n).delete == operation
    )
    read = promises.read_back(create).read
    scenario.gone(
        read, address(read, known), check=checks.DELETE_IS_FINAL, what="a deleted resource"
    )
