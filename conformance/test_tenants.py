"""Other tenants (docs/contract.md tenant-isolation), as an identity of another
AWS account sees the run's resources.

Every operation that names a resource is sent, signed by the second identity,
naming one of the run's own: it is refused and its answer carries nothing of
the resource (``other_account_refused``), and every read the run's own
identity makes of what it named shows the same before and after
(``other_account_unseen``). The account-wide Lists, as the second identity
walks them, show none of the run's resources. The second identity is
``--other-identity`` (or ``CHIME_CONFORMANCE_OTHER_IDENTITY``); the embedded
emulator has one of its own. Without one these tests skip, saying so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from chime_conformance import checks
from chime_conformance.checks import promises
from chime_conformance.contract import spec
from chime_conformance.run.config import SuiteConfig
from chime_conformance.run.recorder import Verifier
from chime_conformance.run.results import ResultLog
from chime_conformance.wire.client import ChimeClient

from .promise_requests import item_key
from .resources import (
    RESOURCE_MEMBERS,
    Resources,
    World,
    minimal_members,
    pinned_members,
    shared_members,
)
from .scenario import Scenario

# What a test makes is deleted when it ends: the global Lists later tests walk stay short.
pytestmark = pytest.mark.usefixtures("app_instances_deleted_after")

NO_SECOND_IDENTITY = (
    "no identity of another AWS account: give --other-identity ACCESS_KEY:SECRET_KEY "
    "(or CHIME_CONFORMANCE_OTHER_IDENTITY) to check that tenants are kept apart"
)


def _ids(promise_id: str) -> list[str]:
    return list(promises.promise(promise_id).operations())


NAMING = [op for op in _ids("other-tenants") if promises.names_any_resource(spec.operation(op))]
GLOBAL_LISTS = [op for op in _ids("other-tenants") if op not in NAMING]


@pytest.fixture(scope="session")
def other(chime_other_client: ChimeClient | None) -> ChimeClient:
    """The target, signed by the identity of another AWS account."""
    if chime_other_client is None:
        pytest.skip(NO_SECOND_IDENTITY)
    return chime_other_client


@pytest.fixture(scope="session")
def other_account(other: ChimeClient, resources: Resources) -> str | None:
    """The other identity's AWS account, read off an AppInstance it makes (and
    deletes); None if it may not make one (its ARNs' accounts are then not compared)."""
    made = other.call(
        "CreateAppInstance",
        {"Name": resources.unique("other"), "ClientRequestToken": resources.unique("t")},
    )
    arn = made.json.get("AppInstanceArn") if isinstance(made.json, dict) else None
    if not isinstance(arn, str):
        return None
    other.call("DeleteAppInstance", {"AppInstanceArn": arn})
    return arn.split(":")[4]


@pytest.fixture
def as_other(
    request: pytest.FixtureRequest,
    other: ChimeClient,
    other_account: str | None,
    chime_results: ResultLog,
    chime_config: SuiteConfig,
) -> Scenario:
    """A conversation signed by the other identity, its answers' ARNs held to its account."""
    verifier = Verifier(
        results=chime_results,
        test_id=request.node.nodeid,
        strict=chime_config.strict,
        region=chime_config.region,
        account_id=other_account,
    )
    return Scenario(other, verifier, strict=chime_config.strict)


def _reads_of(members: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every read (a GET naming resources) the members name: what a write of them could change."""
    named = {m: v for m, v in members.items() if m in RESOURCE_MEMBERS}
    return [
        (op.name, {m: named[m] for m in required})
        for op in spec.operations()
        if op.method == "GET"
        and (required := set(op.input_schema.get("required", ())))
        and required <= set(named)
    ]


def _snapshot(
    scenario: Scenario, reads: list[tuple[str, dict[str, Any]]]
) -> tuple[dict[str, Any], Any]:
    """What each read answers the run's own identity (its status and body: a
    read of what is not there yet, an admin not promoted, is a 404 both times),
    and the last exchange."""
    seen, last = {}, None
    for operation, members in reads:
        last = scenario.client.call(operation, members)
        seen[f"{operation} {sorted(members.values())}"] = (last.status, last.json)
    return seen, last


@pytest.mark.parametrize("operation", NAMING)
def test_another_account_is_refused_and_changes_nothing(
    operation: str,
    scenario: Scenario,
    as_other: Scenario,
    resources: Resources,
    world: World,
) -> None:
    op = spec.operation(operation)
    pinned = pinned_members(operation, set(op.input_schema["properties"]), resources, world)
    members = {**minimal_members(operation), **pinned}
    reads = _reads_of(members)
    before, _ = _snapshot(scenario, reads)
    refused = as_other.client.call(operation, members)
    as_other.verifier.verify(refused, checks.Expectation.valid_input(resource="another-account"))
    after, read = _snapshot(scenario, reads)
    changed = sorted(key for key in before if before[key] != after.get(key))
    scenario.expect_on(
        operation,
        read or refused,
        not changed,
        check=checks.OTHER_ACCOUNT_UNSEEN,
        fact=f"{operation} sent by another account's identity changes nothing of the resource "
        "it names (docs/contract.md tenant-isolation)",
        received=f"changed: {changed}",
        documented="every read of it as before",
    )


@pytest.mark.parametrize("listing", GLOBAL_LISTS)
def test_another_accounts_lists_show_none_of_the_owners(
    listing: str, scenario: Scenario, as_other: Scenario, world: World
) -> None:
    kind = promises.listed(listing)
    own = {v for m, v in shared_members(world).items() if m == kind.identifier}
    shown: list[Any] = []
    last = None
    for last, items in as_other.pages(listing, {}, kind.items, 50):  # noqa: B007
        shown.extend(item_key(item, kind.key) for item in items)
    assert last is not None
    leaked = sorted(str(key) for key in own & set(shown))
    scenario.expect_on(
        listing,
        last,
        not leaked,
        check=checks.OTHER_ACCOUNT_UNSEEN,
        fact=f"{listing} of another account's identity shows none of this account's resources "
        "(docs/contract.md tenant-isolation)",
        received=f"listed: {leaked}",
        documented="none of them",
    )
