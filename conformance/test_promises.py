"""The promises of ``chime_conformance.checks.promises``, each applied to every
operation of its class, by construction.

Each test is parametrized over the operations the spec puts in the promise's
class (every List, every operation with a ClientRequestToken, every write,
every read that names a resource): an operation added to the spec is held to
each promise that applies to it without a new test here. The report's promise
× operation table reads their records.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest

from chime_conformance import checks
from chime_conformance.checks import isolation, lifecycle, promises
from chime_conformance.contract import spec

from .promise_requests import (
    address,
    item_key,
    known_members,
    make_member,
    targets_of,
    write_request,
)
from .resources import RESOURCE_MEMBERS, Resources, fresh_targets
from .scenario import Scenario, field_of

# Members made for a List's walk: more than two pages of two.
PAGE_ITEMS = 5
# A global List (every AppInstance of the account) is walked in about this many pages.
GLOBAL_PAGES = 8

# What a test makes is deleted when it ends: the global Lists later tests walk stay short.
pytestmark = pytest.mark.usefixtures("app_instances_deleted_after")


def _ids(promise_id: str) -> list[str]:
    return list(promises.promise(promise_id).operations())


def _required(operation: str) -> list[str]:
    return list(spec.operation(operation).input_schema.get("required", []))


def _largest_page(listing: str) -> int:
    schema = spec.operation(listing).input_schema["properties"]["MaxResults"]
    return int(schema.get("maximum", 50))


def _check_for(write: str) -> checks.DeclaredCheck:
    # a Put replaces the settings it names (docs/contract.md settings)
    return checks.SETTINGS_READ_BACK if write.startswith("Put") else checks.READ_AFTER_WRITE


# --------------------------------------------------------------------------
# Making members of a List's kind


def walk(
    scenario: Scenario, listing: str, scope: Mapping[str, Any], page_size: int
) -> tuple[Any, list[Any]]:
    """Every item of ``listing`` through every NextToken (pages checked as
    they come); the last exchange and the items' keys in the order listed."""
    kind = promises.listed(listing)
    keys: list[Any] = []
    last = None
    for exchange, items in scenario.pages(listing, scope, kind.items, page_size):
        last = exchange
        keys.extend(item_key(item, kind.key) for item in items)
    return last, keys


def page_size_for(scenario: Scenario, listing: str, scope: Mapping[str, Any]) -> int:
    """Two for a List only this test writes; for a global one, a size that
    walks it in about GLOBAL_PAGES pages, whatever else the account holds."""
    if scope:
        return 2
    _, keys = walk(scenario, listing, scope, _largest_page(listing))
    return max(2, math.ceil(len(keys) / GLOBAL_PAGES))


def _scope(listing: str, resources: Resources) -> dict[str, str]:
    return targets_of(listing, resources)


# --------------------------------------------------------------------------
# Pagination, on every List


@pytest.mark.parametrize("listing", _ids("pagination"))
def test_every_list_pages_to_the_end(
    listing: str, scenario: Scenario, resources: Resources
) -> None:
    kind = promises.listed(listing)
    scope = _scope(listing, resources)
    made = [
        make_member(scenario, resources, listing, scope)[kind.identifier] for _ in range(PAGE_ITEMS)
    ]
    size = page_size_for(scenario, listing, scope)
    last, keys = walk(scenario, listing, scope, size)
    counts = Counter(keys)
    ours = {key: counts[key] for key in made}
    repeated = sorted(str(key) for key, count in counts.items() if count > 1)
    scenario.expect(
        last,
        all(count == 1 for count in ours.values()) and not repeated,
        check=checks.PAGINATION,
        fact=f"{listing} (MaxResults={size}) followed through every NextToken lists each item "
        "once (docs/contract.md pagination)",
        received=f"the {len(made)} new items listed {sorted(ours.values())} times; "
        f"listed more than once: {repeated[:5]}",
        documented="each item exactly once",
    )


# --------------------------------------------------------------------------
# Lists after deletes, for every kind


@pytest.mark.parametrize("listing", _ids("lists-after-deletes"))
def test_a_deleted_member_leaves_its_list(
    listing: str, scenario: Scenario, resources: Resources
) -> None:
    kind = promises.listed(listing)
    scope = _scope(listing, resources)
    known = make_member(scenario, resources, listing, scope)
    key = known[kind.identifier]
    read = promises.read_back(kind.create).read
    scenario.call(read, address(read, known))  # read before the delete: nothing may linger
    largest = _largest_page(listing)
    last, keys = walk(scenario, listing, scope, largest)
    scenario.expect(
        last,
        key in keys,
        check=checks.LIST_MATCHES_MODEL,
        fact=f"{listing} lists a member just created (docs/contract.md list-consistency)",
        received=f"{len(keys)} items, {key} not among them",
        documented=f"{key} listed",
    )
    scenario.ok(kind.delete, address(kind.delete, known))
    scenario.gone(read, address(read, known), check=checks.DELETE_IS_FINAL, what=f"a {read} target")
    last, keys = walk(scenario, listing, scope, largest)
    scenario.expect(
        last,
        key not in keys,
        check=checks.DELETED_NOT_LISTED,
        fact=f"{listing} never lists a member after {kind.delete} (docs/contract.md "
        "list-consistency)",
        received=f"{key} still listed",
        documented=f"{key} not listed",
    )


# --------------------------------------------------------------------------
# Idempotency tokens, on every operation that has one


def _listing_of(create: str) -> str:
    return next(name for name in promises.lists() if promises.listed(name).create == create)


def _named(
    scenario: Scenario, create: str, request: Mapping[str, Any], resources: Resources
) -> tuple[Any, int]:
    """How many items of ``create``'s List carry the Name the request gave."""
    listing = _listing_of(create)
    scope = {m: request[m] for m in _required(listing) if m in request}
    kind = promises.listed(listing)
    count, last = 0, None
    for exchange, items in scenario.pages(listing, scope, kind.items, _largest_page(listing)):
        last = exchange
        count += sum(1 for item in items if item.get("Name") == request["Name"])
    return last, count


@pytest.mark.parametrize("operation", _ids("idempotency"))
def test_every_token_replays_to_one_resource(
    operation: str, scenario: Scenario, resources: Resources
) -> None:
    request = write_request(operation, resources, targets_of(operation, resources))
    first = scenario.ok(operation, request)
    replay = scenario.call(operation, request)
    scenario.expect(
        replay,
        replay.json == first,
        check=checks.IDEMPOTENCY,
        fact=f"{operation} repeated with its ClientRequestToken and input returns the same "
        "resource (docs/contract.md idempotency)",
        received=replay.json,
        documented=first,
    )
    last, count = _named(scenario, operation, request, resources)
    scenario.expect(
        last,
        count == 1,
        check=checks.IDEMPOTENCY,
        fact=f"{operation} repeated with its ClientRequestToken makes no second resource",
        received=f"{count} resources named {request['Name']!r}",
        documented="one",
    )
    changed = scenario.client.call(operation, {**request, "Name": resources.unique("other")})
    wanted = (409,) if scenario.strict else tuple(range(400, 500))
    scenario.expect(
        changed,
        changed.status in wanted,
        check=checks.IDEMPOTENCY,
        fact=f"{operation} with a used ClientRequestToken and other input is refused "
        "(docs/contract.md idempotency: 409 ConflictException)",
        received=changed.status,
        documented="409" if scenario.strict else "a 4xx (409 expected)",
    )


# --------------------------------------------------------------------------
# Every written member reads back; the answer is the state


def _read_of(write: str, known: Mapping[str, Any], scenario: Scenario) -> tuple[Any, Any]:
    read = promises.read_back(write).read
    exchange = scenario.call(read, address(read, known))
    return exchange, exchange.json if isinstance(exchange.json, dict) else {}


def _current(write: str, known: Mapping[str, Any], scenario: Scenario) -> dict[str, Any]:
    """What the target holds now, member by member (for an update: to write otherwise)."""
    _, body = _read_of(write, known, scenario)
    routes = promises.read_back(write).routes
    return {
        member: field_of(body, *route.path)
        for member, route in routes.items()
        if route is not None and route.how == "record"
    }


def _resource_arn(write: str, known: Mapping[str, Any]) -> str:
    read = promises.read_back(write).read
    return str([known[m] for m in _required(read) if m.endswith("Arn")][-1])


def _reads_back(
    scenario: Scenario,
    write: str,
    member: str,
    sent: Any,
    known: Mapping[str, Any],
    read: tuple[Any, Any],
) -> None:
    route = promises.read_back(write).routes[member]
    assert route is not None, (
        f"{write}.{member} has no read-back route (chime_conformance.checks.promises)"
    )
    exchange, body = read
    if route.how == "record":
        got = field_of(body, *route.path)
        held = got == sent
    elif route.how == "tags":
        exchange = scenario.call(
            "ListTagsForResource", {"ResourceARN": _resource_arn(write, known)}
        )
        listed = {t.get("Key"): t.get("Value") for t in field_of(exchange.json, "Tags") or []}
        got = listed
        held = all(listed.get(t["Key"]) == t["Value"] for t in sent)
    elif route.how == "listed":
        assert route.listing is not None
        kind = promises.listed(route.listing)
        exchange, keys = walk(scenario, route.listing, {member: sent}, _largest_page(route.listing))
        got = f"{len(keys)} items"
        held = known[kind.identifier] in keys
    else:  # the identifier the write answered names it
        got = [v for v in known.values() if isinstance(v, str) and v.endswith("/" + str(sent))]
        held = bool(got)
    scenario.expect_on(
        write,
        exchange,
        held,
        check=_check_for(write),
        fact=f"{write}.{member} reads back ({route.how} {'.'.join(route.path)}"
        f"{route.listing or ''}; docs/contract.md read-after-write)",
        received=repr(got)[:300],
        documented=repr(sent)[:300],
    )


@pytest.mark.parametrize("write", _ids("read-back"))
def test_every_written_member_reads_back(
    write: str, scenario: Scenario, resources: Resources
) -> None:
    op = spec.operation(write)
    pinned = targets_of(write, resources)
    creates = op.success_status == 201
    current = None if creates else _current(write, pinned, scenario)
    request = write_request(write, resources, pinned, current=current)
    exchange = scenario.call(write, request)
    answer = exchange.json if isinstance(exchange.json, dict) else {}
    known = known_members(request, answer)
    read = _read_of(write, known, scenario)
    # *unverified* (docs/contract.md answer-is-current): a timestamp the answer
    # carries (InitiateDeletionTimestamp) is compared only under --strict
    pairs = [
        pair
        for pair in promises.answer_paths(write)
        if scenario.strict or not pair[0][-1].endswith("Timestamp")
    ]
    differences = lifecycle.answer_differences(answer, read[1], pairs)
    scenario.expect(
        exchange,
        not differences,
        check=checks.ANSWER_IS_CURRENT,
        fact=f"{write}'s answer is the state a read right after shows "
        "(docs/contract.md answer-is-current)",
        received="; ".join(differences),
        documented=f"the same members as {read[0].operation}",
    )
    for member in promises.writable_members(op):
        _reads_back(scenario, write, member, request[member], known, read)
    if not creates:
        _leaving_members_out(scenario, write, request, pinned, known)


def _leaving_members_out(
    scenario: Scenario,
    write: str,
    request: Mapping[str, Any],
    pinned: Mapping[str, Any],
    known: Mapping[str, Any],
) -> None:
    """A Put without an optional member clears it; an Update without one keeps it."""
    op = spec.operation(write)
    required = set(_required(write))
    optional = [m for m in promises.writable_members(op) if m not in required]
    routes = promises.read_back(write).routes
    optional = [m for m in optional if (r := routes[m]) is not None and r.how == "record"]
    if not optional:
        return
    scenario.ok(write, {m: v for m, v in request.items() if m in required or m in pinned})
    exchange, body = _read_of(write, known, scenario)
    replaces = write.startswith("Put")
    for member in optional:
        route = routes[member]
        assert route is not None
        got = field_of(body, *route.path)
        wanted = None if replaces else request[member]
        scenario.expect_on(
            write,
            exchange,
            got in (None, {}, []) if replaces else got == wanted,
            check=_check_for(write),
            fact=f"{write} without {member} "
            + ("clears it (docs/contract.md settings)" if replaces else "keeps it as it was"),
            received=repr(got)[:300],
            documented=repr(wanted)[:300],
        )


# --------------------------------------------------------------------------
# Isolation: a read naming one resource shows none of another's values


def _world_of(resources: Resources, other: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One AppInstance with retention settings and tags, a user (with expiration
    settings), a bot, an admin and an endpoint, and an account: every value
    written unlike ``other``'s. What was sent and answered, and its fingerprints."""
    requests: dict[str, Mapping[str, Any]] = {}
    known: dict[str, Any] = {}

    def write(operation: str, given: Mapping[str, Any]) -> None:
        current = (other or {}).get("requests", {}).get(operation)
        request = write_request(operation, resources, given, current=current)
        known.update(known_members(request, resources.write(operation, request)))
        requests[operation] = request

    write("CreateAppInstance", {})
    known["ResourceARN"] = known["AppInstanceArn"]
    instance = {"AppInstanceArn": known["AppInstanceArn"]}
    write("PutAppInstanceRetentionSettings", instance)
    write("CreateAppInstanceUser", instance)
    user = {"AppInstanceUserArn": known["AppInstanceUserArn"]}
    write("CreateAppInstanceBot", instance)
    write("CreateAppInstanceAdmin", {**instance, "AppInstanceAdminArn": user["AppInstanceUserArn"]})
    write("RegisterAppInstanceUserEndpoint", user)
    write("CreateAccount", {})
    identifiers = {m: known[m] for m in RESOURCE_MEMBERS if m in known}
    values = [
        {k: v for k, v in r.items() if k not in RESOURCE_MEMBERS and k != "ClientRequestToken"}
        for r in requests.values()
    ]
    return {
        "known": known,
        "requests": requests,
        "fingerprints": isolation.fingerprints(identifiers, *values),
    }


@pytest.fixture(scope="module")
def two_worlds(resources: Resources) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two AppInstances (and accounts) of one account, with every value apart."""
    first = _world_of(resources)
    return first, _world_of(resources, first)


@pytest.mark.parametrize("read", _ids("isolation"))
def test_a_read_shows_only_the_resource_it_names(
    read: str, scenario: Scenario, two_worlds: Any
) -> None:
    for own, other in (two_worlds, two_worlds[::-1]):
        exchange = scenario.call(read, address(read, own["known"]))
        leaks = isolation.leaked_values(exchange.json, own["fingerprints"], other["fingerprints"])
        scenario.expect(
            exchange,
            not leaks,
            check=checks.READS_ARE_ISOLATED,
            fact=f"{read} naming one resource shows only that resource's values "
            "(docs/contract.md isolation)",
            received=f"values of another resource: {leaks[:5]}",
            documented="none of another resource's values",
        )


# --------------------------------------------------------------------------
# A read served before a delete is not served after


@pytest.mark.parametrize("read", _ids("reads-after-delete"))
def test_a_read_made_before_a_delete_is_not_served_after(
    read: str, scenario: Scenario, resources: Resources
) -> None:
    required = set(_required(read))
    holder = set() if "AccountId" in required else {"AppInstanceArn"}  # what the delete removes
    known = fresh_targets(required | holder, resources)
    members = address(read, known)
    if read == "DescribeAppInstanceAdmin":  # an admin is a promoted member
        resources.write("CreateAppInstanceAdmin", members)
    scenario.ok(read, members)  # served once, as a cache would keep it
    if "AccountId" in members:
        scenario.ok("DeleteAccount", {"AccountId": known["AccountId"]})
        check, what = checks.DELETE_IS_FINAL, "a deleted account"
    else:
        scenario.ok("DeleteAppInstance", {"AppInstanceArn": known["AppInstanceArn"]})
        inside = set(members) - {"AppInstanceArn", "ResourceARN"}
        check = checks.CASCADE if inside else checks.DELETE_IS_FINAL
        what = f"what {read} read in a deleted AppInstance"
    scenario.gone(read, members, check=check, what=what)
