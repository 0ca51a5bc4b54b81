"""Accounts that cannot see each other (docs/contract.md, tenant-isolation).

Two identities in two AWS accounts: every operation of the spec that names a
resource, called by the other account with the owner's resource, is refused,
leaks nothing and changes nothing; Lists stay apart; an action an identity is
denied is refused. The cases come from the spec and the suite's one resource
catalogue (``conformance.resources``), not from a hand-written list, so a new
operation that names a resource is covered without a new test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from chime_conformance import checks
from chime_conformance.contract import spec
from chime_conformance.emulator.app import EmulatorApp, EmulatorConfig
from chime_conformance.emulator.iam import OTHER_TEST_IDENTITY, Identity, IdentityError
from chime_conformance.emulator.server import RunningEmulator, make_server, running_emulator
from chime_conformance.wire.client import ChimeClient
from chime_conformance.wire.exchange import Exchange
from conformance.resources import (
    RESOURCE_MEMBERS,
    Resources,
    World,
    build_world,
    minimal_members,
    pinned_members,
)
from tests.support.emulator_helpers import run_emulator_expecting_failure

REGION = "us-east-1"
OWNER = Identity("testing", "testing", "123456789012")
OTHER = OTHER_TEST_IDENTITY
# in the owner's account, denied every action: a refusal by policy, not by account
DENIED = Identity(
    "testing-denied",
    "testing-denied",
    OWNER.account_id,
    frozenset(f"chime:{op.name}" for op in spec.operations()),
)


def resource_naming_operations() -> list[spec.Operation]:
    """The operations whose input names an existing resource (the catalogue's
    resource members): every one but the creates of a top-level resource and the
    top-level Lists."""
    return [op for op in spec.operations() if set(op.input_schema["properties"]) & RESOURCE_MEMBERS]


def top_level_lists() -> list[spec.Operation]:
    """The Lists that name no parent: what they answer is the caller's whole account."""
    return [
        op
        for op in spec.operations()
        if op.name.startswith("List")
        and not set(op.input_schema.get("required", [])) & RESOURCE_MEMBERS
    ]


def client_of(emulator: RunningEmulator, identity: Identity) -> ChimeClient:
    credentials = Credentials(identity.access_key, identity.secret_key)
    return ChimeClient(emulator.url, region=REGION, credentials=credentials)


@dataclass
class Tenants:
    emulator: RunningEmulator
    owner: ChimeClient
    other: ChimeClient
    denied: ChimeClient
    resources: Resources  # created by the owner
    world: World

    def owner_state(self) -> list[Any]:
        """Everything the owner's account holds, as the emulator's snapshot has it."""
        snapshot = self.emulator.backend.snapshot()
        return [
            entry
            for kind in ("identity", "accounts")
            for entry in snapshot[kind]
            if entry["account_id"] == OWNER.account_id
        ]


def start_tenants(emulator: RunningEmulator) -> Tenants:
    owner = client_of(emulator, OWNER)
    resources = Resources(owner, "tenants", "owner")
    return Tenants(
        emulator,
        owner,
        client_of(emulator, OTHER),
        client_of(emulator, DENIED),
        resources,
        build_world(resources),
    )


@pytest.fixture(scope="module")
def tenants() -> Iterator[Tenants]:
    with running_emulator(identities=(OTHER, DENIED)) as emulator:
        yield start_tenants(emulator)


def owners_request(tenants: Tenants, op: spec.Operation) -> dict[str, Any]:
    """The simplest valid request of ``op`` naming the owner's resources (fresh
    ones where the operation consumes them)."""
    properties = set(op.input_schema["properties"])
    pinned = pinned_members(op.name, properties, tenants.resources, tenants.world)
    return {**minimal_members(op.name), **pinned}


def owners_words(state: list[Any]) -> set[str]:
    """Names and metadata of the owner's records: what no answer to another
    account may carry."""
    found: set[str] = set()
    for entry in state:
        for table in entry["state"].values():
            for record in table if isinstance(table, list) else ():
                for key in ("name", "metadata"):
                    value = record.get(key)
                    if isinstance(value, str) and len(value) >= 6:
                        found.add(value)
    return found


def other_account_verdict(op: spec.Operation, members: dict[str, Any], exchange: Exchange) -> Any:
    """The check other_account_refused on this exchange, as a strict run applies it."""
    ctx = checks.CheckContext(
        op, strict=True, account_id=OTHER.account_id, region=REGION, members=members
    )
    expectation = checks.Expectation.valid_input(resource="another-account")
    (result,) = checks.run_checks(ctx, exchange, expectation, ("other_account_refused",))
    return result


CASES = [pytest.param(op, id=op.name) for op in resource_naming_operations()]


def test_the_cases_come_from_the_spec() -> None:
    names = {op.name for op in resource_naming_operations()}
    # every kind of resource, and both APIs
    assert {"DescribeAppInstance", "CreateAppInstanceUser", "TagResource", "GetAccount"} <= names
    assert {"DescribeAppInstanceUserEndpoint", "CreateAppInstanceAdmin"} <= names
    assert "CreateAppInstance" not in names and "ListAppInstances" not in names


@pytest.mark.parametrize("op", CASES)
def test_another_account_is_refused_every_operation_naming_a_resource(
    tenants: Tenants, op: spec.Operation
) -> None:
    members = owners_request(tenants, op)
    before = tenants.owner_state()
    exchange = tenants.other.call(op, members)
    result = other_account_verdict(op, members, exchange)
    assert result.applied and result.passed, result.failure
    assert not 200 <= exchange.status < 300
    body = exchange.response.body.decode("utf-8", "replace")
    sent = json.dumps(members)  # what the caller said itself (a user id is in its ARN)
    leaked = [word for word in owners_words(before) if word in body and word not in sent]
    assert not leaked, f"{op.name} told another account {leaked}"
    assert tenants.owner_state() == before, f"{op.name} of another account changed the owner's"
    # the owner itself is served (the request was a valid one)
    if op.method == "GET":
        assert 200 <= tenants.owner.call(op, members).status < 300


@pytest.mark.parametrize("op", [pytest.param(op, id=op.name) for op in top_level_lists()])
def test_lists_show_only_the_callers_account(tenants: Tenants, op: spec.Operation) -> None:
    create = "CreateAccount" if op.api == spec.ACCOUNTS else "CreateAppInstance"
    others = Resources(tenants.other, "tenants", "other")
    own = others.account() if op.api == spec.ACCOUNTS else others.app_instance()
    owners_listing = json.dumps(tenants.owner.call(op, {}).json)
    other_answer = tenants.other.call(op, {"MaxResults": 1})
    listing = json.dumps(other_answer.json)
    # the other account sees its own resource (the list works) and nothing of the owner's
    assert own in json.dumps(tenants.other.call(op, {}).json), f"{create} then {op.name}"
    assert own not in owners_listing
    for owned in (tenants.world.app_instance_arn, tenants.world.account_id or "-"):
        assert owned not in listing and owned not in json.dumps(tenants.other.call(op, {}).json)
    ctx = checks.CheckContext(op, strict=True, account_id=OTHER.account_id, region=REGION)
    (arns,) = checks.run_checks(
        ctx, other_answer, checks.Expectation.valid_input(), ("arns_match_pattern",)
    )
    assert arns.passed, arns.failure
    # the owner's page token is no key to the owner's list
    token = tenants.owner.call(op, {"MaxResults": 1}).json.get("NextToken")
    if token:
        refused = tenants.other.call(op, {"MaxResults": 1, "NextToken": token})
        assert refused.status == 400, refused.response.body[:200]


@pytest.mark.parametrize("op", [pytest.param(op, id=op.name) for op in spec.operations()])
def test_a_denied_action_is_refused_and_changes_nothing(
    tenants: Tenants, op: spec.Operation
) -> None:
    members = owners_request(tenants, op)
    before = tenants.owner_state()
    exchange = tenants.denied.call(op, members)
    assert exchange.status == 403, exchange.response.body[:300]
    assert checks.error_type(exchange) == "ForbiddenException"
    assert f"chime:{op.name}" in exchange.json["Message"]
    assert tenants.owner_state() == before


def test_an_identity_denied_one_action_keeps_the_others() -> None:
    deletes_denied = Identity(
        "no-deletes", "no-deletes", OWNER.account_id, frozenset({"chime:DeleteAppInstance"})
    )
    with running_emulator(identities=(deletes_denied,)) as emulator:
        owner, limited = client_of(emulator, OWNER), client_of(emulator, deletes_denied)
        arn = Resources(limited, "tenants", "limited").app_instance()  # same account
        refused = limited.call("DeleteAppInstance", {"AppInstanceArn": arn})
        assert (refused.status, checks.error_type(refused)) == (403, "ForbiddenException")
        assert owner.call("DescribeAppInstance", {"AppInstanceArn": arn}).status == 200
        assert owner.call("DeleteAppInstance", {"AppInstanceArn": arn}).status == 204


def mixing_accounts(app: EmulatorApp) -> None:
    """An extension that breaks the rule: every key acts in the primary account
    (what the emulator did before it knew accounts)."""
    app.hooks.wrap_authorize(lambda authorize: lambda caller, op, members: app.policy.primary)


def test_the_check_fails_against_an_emulator_that_mixes_accounts() -> None:
    """other_account_refused is able to fail: against an emulator whose accounts
    are mixed, every case of the table above breaks it."""
    config = EmulatorConfig(identities=(OTHER, DENIED))
    app = EmulatorApp(config, extensions=[mixing_accounts])
    emulator = RunningEmulator(make_server(app, "127.0.0.1", 0, config), app).start()
    try:
        tenants = start_tenants(emulator)
        failed = []
        for op in resource_naming_operations():
            members = owners_request(tenants, op)
            result = other_account_verdict(op, members, tenants.other.call(op, members))
            if result.failure is not None:
                failed.append(op.name)
    finally:
        emulator.stop()
    assert failed == [op.name for op in resource_naming_operations()]


def test_two_boto3_sessions_in_two_accounts_cannot_see_each_other() -> None:
    with running_emulator(identities=(OTHER,)) as emulator:

        def session_clients(identity: Identity) -> tuple[Any, Any]:
            session = boto3.Session(
                aws_access_key_id=identity.access_key,
                aws_secret_access_key=identity.secret_key,
                region_name=REGION,
            )
            options = {"endpoint_url": emulator.url, "config": Config(retries={"mode": "standard"})}
            return session.client("chime-sdk-identity", **options), session.client(
                "chime", **options
            )

        (owner, owner_accounts), (other, other_accounts) = map(session_clients, (OWNER, OTHER))
        arn = owner.create_app_instance(Name="owned", ClientRequestToken="t1")["AppInstanceArn"]
        account = owner_accounts.create_account(Name="owned-account")["Account"]["AccountId"]
        assert arn.split(":")[4] == OWNER.account_id
        with pytest.raises(ClientError) as refused:
            other.describe_app_instance(AppInstanceArn=arn)
        assert refused.value.response["Error"]["Code"] == "ForbiddenException"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        with pytest.raises(other.exceptions.ForbiddenException):
            other.delete_app_instance(AppInstanceArn=arn)
        with pytest.raises(other_accounts.exceptions.NotFoundException):
            other_accounts.get_account(AccountId=account)
        assert other.list_app_instances()["AppInstances"] == []
        assert other_accounts.list_accounts()["Accounts"] == []
        own = other.create_app_instance(Name="own", ClientRequestToken="t1")["AppInstanceArn"]
        assert own.split(":")[4] == OTHER.account_id  # the same token, another account
        assert [i["AppInstanceArn"] for i in owner.list_app_instances()["AppInstances"]] == [arn]
        assert owner.describe_app_instance(AppInstanceArn=arn)["AppInstance"]["Name"] == "owned"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("justakey", "is not ACCESS_KEY:SECRET:ACCOUNT_ID"),
        ("key:secret:12345", "must be 12 digits"),
        ("key:secret:123456789012:allow=chime:X", "comes deny=chime:Action"),
        ("key:secret:123456789012:deny=chime:NoSuchAction", "no action of this emulator"),
        ("key::123456789012", "non-empty access key and secret key"),
    ],
)
def test_a_bad_identity_is_refused_in_one_sentence(text: str, says: str) -> None:
    with pytest.raises(IdentityError, match=says):
        Identity.parse(text)
    refused = run_emulator_expecting_failure("--identity", text)
    assert refused.returncode == 2 and says in refused.stderr
    assert "Traceback" not in refused.stderr


def test_the_command_serves_each_identity_in_its_own_account() -> None:
    parsed = Identity.parse("k2:s2:210987654321:deny=chime:DeleteAppInstance,chime:GetAccount")
    assert parsed.denied_actions == {"chime:DeleteAppInstance", "chime:GetAccount"}
    config = EmulatorConfig(identities=(parsed, Identity("testing", "other", "111122223333")))
    # the primary's key replaces the primary identity; the order is kept
    assert [(i.access_key, i.account_id) for i in config.all_identities] == [
        ("testing", "111122223333"),
        ("k2", "210987654321"),
    ]
    with pytest.raises(IdentityError, match="given twice"):
        EmulatorConfig(identities=(parsed, parsed))
    with pytest.raises(TypeError, match=r"tuple of chime_conformance\.emulator\.iam\.Identity"):
        EmulatorConfig(identities=("k2:s2:210987654321",))  # type: ignore[arg-type]
