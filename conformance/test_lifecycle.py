"""Read-after-write, idempotency, duplicates, tags, settings, admins, cascade
and pagination: the parts of the contract that only show across calls."""

from __future__ import annotations

import uuid

import pytest

from chime_conformance import checks

from .resources import Resources, World, lex_configuration
from .scenario import Scenario, field_of


def test_an_app_instance_reads_back_as_created_and_as_updated(
    scenario: Scenario, resources: Resources
) -> None:
    created = {
        "Name": resources.unique("app"),
        "Metadata": "v1 metadata",
        "ClientRequestToken": resources.unique("t"),
    }
    arn = scenario.ok("CreateAppInstance", {**created, "Tags": resources.run_tags()})[
        "AppInstanceArn"
    ]
    wanted = {"AppInstanceArn": arn, "Name": created["Name"], "Metadata": "v1 metadata"}
    scenario.reads_back("DescribeAppInstance", {"AppInstanceArn": arn}, "AppInstance", wanted)
    scenario.ok("UpdateAppInstance", {"AppInstanceArn": arn, "Name": "renamed ✓", "Metadata": "v2"})
    described = scenario.call("DescribeAppInstance", {"AppInstanceArn": arn})
    instance = field_of(described.json, "AppInstance") or {}
    scenario.expect_fields(
        described,
        instance,
        {"Name": "renamed ✓", "Metadata": "v2"},
        check=checks.READ_AFTER_WRITE,
        what="AppInstance",
    )
    created_at, updated_at = instance.get("CreatedTimestamp"), instance.get("LastUpdatedTimestamp")
    scenario.expect(
        described,
        isinstance(created_at, int | float)
        and isinstance(updated_at, int | float)
        and created_at <= updated_at,
        check=checks.READ_AFTER_WRITE,
        fact="an update never moves LastUpdatedTimestamp before CreatedTimestamp",
        received=f"{created_at} / {updated_at}",
        documented="CreatedTimestamp <= LastUpdatedTimestamp",
    )


def test_a_user_reads_back_with_its_expiration_settings(
    scenario: Scenario, world: World, resources: Resources
) -> None:
    user_id = resources.unique("user")
    expiration = {"ExpirationDays": 30, "ExpirationCriterion": "CREATED_TIMESTAMP"}
    members = {
        "AppInstanceArn": world.app_instance_arn,
        "AppInstanceUserId": user_id,
        "Name": "Ada",
        "Metadata": "m",
        "ClientRequestToken": resources.unique("t"),
        "ExpirationSettings": expiration,
    }
    user_arn = scenario.ok("CreateAppInstanceUser", members)["AppInstanceUserArn"]
    wanted = {
        "AppInstanceUserArn": user_arn,
        "Name": "Ada",
        "Metadata": "m",
        "ExpirationSettings": expiration,
    }
    scenario.reads_back(
        "DescribeAppInstanceUser", {"AppInstanceUserArn": user_arn}, "AppInstanceUser", wanted
    )
    scenario.ok(
        "UpdateAppInstanceUser", {"AppInstanceUserArn": user_arn, "Name": "Grace", "Metadata": "m2"}
    )
    scenario.reads_back(
        "DescribeAppInstanceUser",
        {"AppInstanceUserArn": user_arn},
        "AppInstanceUser",
        {"Name": "Grace", "Metadata": "m2"},
    )
    # Put replaces; a Put without ExpirationSettings clears them (docs/contract.md settings)
    later = {"ExpirationDays": 5475, "ExpirationCriterion": "CREATED_TIMESTAMP"}
    scenario.ok(
        "PutAppInstanceUserExpirationSettings",
        {"AppInstanceUserArn": user_arn, "ExpirationSettings": later},
    )
    scenario.reads_back(
        "DescribeAppInstanceUser",
        {"AppInstanceUserArn": user_arn},
        "AppInstanceUser",
        {"ExpirationSettings": later},
        check=checks.SETTINGS_READ_BACK,
    )
    scenario.ok("PutAppInstanceUserExpirationSettings", {"AppInstanceUserArn": user_arn})
    scenario.reads_back(
        "DescribeAppInstanceUser",
        {"AppInstanceUserArn": user_arn},
        "AppInstanceUser",
        {"ExpirationSettings": None},
        check=checks.SETTINGS_READ_BACK,
    )


def test_a_bot_reads_back_with_its_configuration(
    scenario: Scenario, world: World, resources: Resources
) -> None:
    configuration = lex_configuration()
    members = {
        "AppInstanceArn": world.app_instance_arn,
        "Name": "helper bot",
        "Metadata": "b",
        "ClientRequestToken": resources.unique("t"),
        "Configuration": configuration,
    }
    bot_arn = scenario.ok("CreateAppInstanceBot", members)["AppInstanceBotArn"]
    wanted = {
        "AppInstanceBotArn": bot_arn,
        "Name": "helper bot",
        "Metadata": "b",
        "Configuration": configuration,
    }
    scenario.reads_back(
        "DescribeAppInstanceBot", {"AppInstanceBotArn": bot_arn}, "AppInstanceBot", wanted
    )
    invoked = {
        "Lex": {
            **configuration["Lex"],
            "RespondsTo": None,
            "InvokedBy": {"StandardMessages": "MENTIONS", "TargetedMessages": "ALL"},
        }
    }
    del invoked["Lex"]["RespondsTo"]
    scenario.ok(
        "UpdateAppInstanceBot",
        {
            "AppInstanceBotArn": bot_arn,
            "Name": "renamed bot",
            "Metadata": "b2",
            "Configuration": invoked,
        },
    )
    scenario.reads_back(
        "DescribeAppInstanceBot",
        {"AppInstanceBotArn": bot_arn},
        "AppInstanceBot",
        {"Name": "renamed bot", "Metadata": "b2", "Configuration": invoked},
    )


def test_an_endpoint_reads_back_as_registered_and_updated(
    scenario: Scenario, world: World, resources: Resources
) -> None:
    user_arn = resources.user(world.app_instance_arn)
    members = {
        "AppInstanceUserArn": user_arn,
        "Name": "phone",
        "Type": "APNS",
        "ResourceArn": "arn:aws:mobiletargeting:us-east-1:123456789012:apps/abcdef0123456789abcdef0123456789",
        "EndpointAttributes": {"DeviceToken": "token-1", "VoipDeviceToken": "voip-1"},
        "ClientRequestToken": resources.unique("t"),
        "AllowMessages": "ALL",
    }
    endpoint_id = scenario.ok("RegisterAppInstanceUserEndpoint", members)["EndpointId"]
    address = {"AppInstanceUserArn": user_arn, "EndpointId": endpoint_id}
    wanted = {
        k: members[k]
        for k in (
            "AppInstanceUserArn",
            "Name",
            "Type",
            "ResourceArn",
            "EndpointAttributes",
            "AllowMessages",
        )
    }
    scenario.reads_back(
        "DescribeAppInstanceUserEndpoint", address, "AppInstanceUserEndpoint", wanted
    )
    scenario.ok(
        "UpdateAppInstanceUserEndpoint", {**address, "Name": "tablet", "AllowMessages": "NONE"}
    )
    scenario.reads_back(
        "DescribeAppInstanceUserEndpoint",
        address,
        "AppInstanceUserEndpoint",
        {"Name": "tablet", "AllowMessages": "NONE"},
    )
    scenario.ok("DeregisterAppInstanceUserEndpoint", address)
    scenario.gone(
        "DescribeAppInstanceUserEndpoint",
        address,
        check=checks.DELETE_IS_FINAL,
        what="a deregistered endpoint",
    )


def test_registering_an_endpoint_twice_with_one_token_is_idempotent(
    scenario: Scenario, world: World, resources: Resources
) -> None:
    user_arn = resources.user(world.app_instance_arn)
    members = {
        "AppInstanceUserArn": user_arn,
        "Name": "phone",
        "Type": "GCM",
        "ResourceArn": "arn:aws:mobiletargeting:us-east-1:123456789012:apps/abcdef0123456789abcdef0123456789",
        "EndpointAttributes": {"DeviceToken": "token-2"},
        "ClientRequestToken": resources.unique("t"),
    }
    first = scenario.ok("RegisterAppInstanceUserEndpoint", members)["EndpointId"]
    replay = scenario.call("RegisterAppInstanceUserEndpoint", members)
    scenario.expect(
        replay,
        field_of(replay.json, "EndpointId") == first,
        check=checks.IDEMPOTENCY,
        fact="the same ClientRequestToken with the same parameters returns the same endpoint",
        received=field_of(replay.json, "EndpointId"),
        documented=first,
    )


def test_a_replayed_create_returns_the_same_app_instance_and_a_changed_one_conflicts(
    scenario: Scenario, resources: Resources
) -> None:
    members = {
        "Name": resources.unique("app"),
        "ClientRequestToken": resources.unique("t"),
        "Tags": resources.run_tags(),
    }
    first = scenario.ok("CreateAppInstance", members)["AppInstanceArn"]
    replay = scenario.call("CreateAppInstance", members)
    scenario.expect(
        replay,
        field_of(replay.json, "AppInstanceArn") == first,
        check=checks.IDEMPOTENCY,
        fact="the same ClientRequestToken with the same parameters returns the same AppInstance",
        received=field_of(replay.json, "AppInstanceArn"),
        documented=first,
    )
    changed = scenario.client.call(
        "CreateAppInstance", {**members, "Name": members["Name"] + "-other"}
    )
    wanted = (409,) if scenario.strict else tuple(range(400, 500))
    scenario.expect(
        changed,
        changed.status in wanted,
        check=checks.IDEMPOTENCY,
        fact="the same ClientRequestToken with other parameters is refused (docs/contract.md: 409 ConflictException)",
        received=changed.status,
        documented="409" if scenario.strict else "a 4xx (409 expected)",
    )


def test_a_taken_user_id_conflicts(scenario: Scenario, world: World, resources: Resources) -> None:
    user_id = resources.unique("user")
    members = {
        "AppInstanceArn": world.app_instance_arn,
        "AppInstanceUserId": user_id,
        "Name": "first",
        "ClientRequestToken": resources.unique("t"),
    }
    scenario.ok("CreateAppInstanceUser", members)
    again = scenario.client.call(
        "CreateAppInstanceUser",
        {**members, "Name": "second", "ClientRequestToken": resources.unique("t")},
    )
    scenario.expect(
        again,
        again.status == 409,
        check=checks.DUPLICATE_REJECTED,
        fact="CreateAppInstanceUser with a taken AppInstanceUserId is a 409 ConflictException (docs/contract.md duplicates)",
        received=again.status,
        documented=409,
    )


def test_tags_are_stored_merged_and_removed(scenario: Scenario, resources: Resources) -> None:
    arn = scenario.ok(
        "CreateAppInstance",
        {
            "Name": resources.unique("app"),
            "ClientRequestToken": resources.unique("t"),
            "Tags": [{"Key": "a", "Value": "1"}],
        },
    )["AppInstanceArn"]

    def tags_now() -> tuple[object, dict[str, str]]:
        listed = scenario.call("ListTagsForResource", {"ResourceARN": arn})
        return listed, {t["Key"]: t["Value"] for t in field_of(listed.json, "Tags") or []}

    listed, tags = tags_now()
    scenario.expect(
        listed,
        tags == {"a": "1"},
        check=checks.TAGS_READ_BACK,
        fact="tags given at create time are stored",
        received=tags,
        documented={"a": "1"},
    )
    scenario.ok(
        "TagResource",
        {"ResourceARN": arn, "Tags": [{"Key": "a", "Value": "2"}, {"Key": "b", "Value": "3"}]},
    )
    listed, tags = tags_now()
    scenario.expect(
        listed,
        tags == {"a": "2", "b": "3"},
        check=checks.TAGS_READ_BACK,
        fact="TagResource merges, the same key overwrites",
        received=tags,
        documented={"a": "2", "b": "3"},
    )
    scenario.ok("UntagResource", {"ResourceARN": arn, "TagKeys": ["a"]})
    listed, tags = tags_now()
    scenario.expect(
        listed,
        tags == {"b": "3"},
        check=checks.TAGS_READ_BACK,
        fact="UntagResource removes the keys",
        received=tags,
        documented={"b": "3"},
    )
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    over = scenario.client.call("TagResource", {"ResourceARN": arn, "Tags": too_many})
    scenario.expect(
        over,
        400 <= over.status < 500,
        check=checks.TAG_LIMIT,
        fact="a resource holds at most 50 tags (51 after this call)",
        received=over.status,
        documented="a 4xx (ResourceLimitExceededException)",
    )


def test_retention_settings_read_back(scenario: Scenario, resources: Resources) -> None:
    arn = resources.app_instance()
    settings = {"ChannelRetentionSettings": {"RetentionDays": 90}}
    scenario.ok(
        "PutAppInstanceRetentionSettings",
        {"AppInstanceArn": arn, "AppInstanceRetentionSettings": settings},
    )
    got = scenario.call("GetAppInstanceRetentionSettings", {"AppInstanceArn": arn})
    scenario.expect(
        got,
        field_of(got.json, "AppInstanceRetentionSettings") == settings,
        check=checks.SETTINGS_READ_BACK,
        fact="GetAppInstanceRetentionSettings returns what was put",
        received=field_of(got.json, "AppInstanceRetentionSettings"),
        documented=settings,
    )


def test_demoting_an_admin_keeps_the_user(
    scenario: Scenario, world: World, resources: Resources
) -> None:
    arn = world.app_instance_arn
    user_arn = resources.user(arn)
    scenario.ok("CreateAppInstanceAdmin", {"AppInstanceArn": arn, "AppInstanceAdminArn": user_arn})
    described = scenario.call(
        "DescribeAppInstanceAdmin", {"AppInstanceArn": arn, "AppInstanceAdminArn": user_arn}
    )
    scenario.expect(
        described,
        field_of(described.json, "AppInstanceAdmin", "Admin", "Arn") == user_arn,
        check=checks.READ_AFTER_WRITE,
        fact="a promoted user describes as admin",
        received=field_of(described.json, "AppInstanceAdmin", "Admin", "Arn"),
        documented=user_arn,
    )
    scenario.ok("DeleteAppInstanceAdmin", {"AppInstanceArn": arn, "AppInstanceAdminArn": user_arn})
    scenario.gone(
        "DescribeAppInstanceAdmin",
        {"AppInstanceArn": arn, "AppInstanceAdminArn": user_arn},
        check=checks.DELETE_IS_FINAL,
        what="a demoted admin",
    )
    still = scenario.client.call("DescribeAppInstanceUser", {"AppInstanceUserArn": user_arn})
    scenario.expect(
        still,
        still.status == 200,
        check=checks.ADMINS,
        fact="demotion keeps the user (docs/contract.md admins)",
        received=still.status,
        documented=200,
    )
    scenario.verifier.verify(still, checks.Expectation.valid_input(resource="present"))


def test_a_user_of_another_app_instance_cannot_be_promoted(
    scenario: Scenario, world: World, resources: Resources
) -> None:
    stranger = resources.user(resources.app_instance())
    refused = scenario.client.call(
        "CreateAppInstanceAdmin",
        {"AppInstanceArn": world.app_instance_arn, "AppInstanceAdminArn": stranger},
    )
    scenario.expect(
        refused,
        400 <= refused.status < 500,
        check=checks.ADMINS,
        fact="only users and bots of the same AppInstance can be promoted (docs/contract.md admins)",
        received=refused.status,
        documented="a 4xx",
    )


def test_deleting_an_app_instance_removes_everything_in_it(
    scenario: Scenario, resources: Resources
) -> None:
    arn = resources.app_instance()
    user_arn = resources.user(arn)
    bot_arn = resources.bot(arn)
    admin_arn = resources.admin(arn)
    endpoint_id = resources.endpoint(user_arn)
    scenario.ok("DeleteAppInstance", {"AppInstanceArn": arn})
    scenario.gone(
        "DescribeAppInstance",
        {"AppInstanceArn": arn},
        check=checks.CASCADE,
        what="a deleted AppInstance",
    )
    scenario.gone(
        "DescribeAppInstanceUser",
        {"AppInstanceUserArn": user_arn},
        check=checks.CASCADE,
        what="a user of a deleted AppInstance",
    )
    scenario.gone(
        "DescribeAppInstanceBot",
        {"AppInstanceBotArn": bot_arn},
        check=checks.CASCADE,
        what="a bot of a deleted AppInstance",
    )
    scenario.gone(
        "DescribeAppInstanceAdmin",
        {"AppInstanceArn": arn, "AppInstanceAdminArn": admin_arn},
        check=checks.CASCADE,
        what="an admin of a deleted AppInstance",
    )
    scenario.gone(
        "DescribeAppInstanceUserEndpoint",
        {"AppInstanceUserArn": user_arn, "EndpointId": endpoint_id},
        check=checks.CASCADE,
        what="an endpoint of a deleted AppInstance",
    )


@pytest.mark.parametrize("max_results", [1, 2, 3, 50])
def test_listing_users_page_by_page_visits_each_exactly_once(
    scenario: Scenario, resources: Resources, max_results: int
) -> None:
    arn = resources.app_instance()
    created = {resources.user(arn) for _ in range(7)}
    seen: list[str] = []
    for _, items in scenario.pages(
        "ListAppInstanceUsers", {"AppInstanceArn": arn}, "AppInstanceUsers", max_results
    ):
        seen.extend(item.get("AppInstanceUserArn") for item in items)
    exchange = scenario.call("ListAppInstanceUsers", {"AppInstanceArn": arn, "MaxResults": 50})
    scenario.expect(
        exchange,
        sorted(seen) == sorted(created),
        check=checks.PAGINATION,
        fact="following NextToken visits every item exactly once",
        received=f"{len(seen)} items, {len(set(seen))} distinct",
        documented=f"the {len(created)} users, once each",
    )


def test_a_forged_next_token_is_refused(scenario: Scenario, world: World) -> None:
    forged = scenario.client.call(
        "ListAppInstanceUsers",
        {"AppInstanceArn": world.app_instance_arn, "NextToken": "forged-" + uuid.uuid4().hex},
    )
    scenario.expect(
        forged,
        forged.status == 400,
        check=checks.PAGINATION,
        fact="a NextToken the service did not issue is a 400 (docs/contract.md pagination)",
        received=forged.status,
        documented=400,
    )


def test_an_account_reads_back_as_created_and_updated(
    scenario: Scenario, resources: Resources
) -> None:
    name = resources.unique("account")
    account = scenario.ok("CreateAccount", {"Name": name}).get("Account") or {}
    account_id = account.get("AccountId")
    got = scenario.call("GetAccount", {"AccountId": account_id})
    fetched = field_of(got.json, "Account") or {}
    scenario.expect_fields(
        got,
        fetched,
        {"AccountId": account_id, "Name": name},
        check=checks.READ_AFTER_WRITE,
        what="Account",
    )
    scenario.expect(
        got,
        fetched.get("AccountStatus") in ("Active", "Suspended"),
        check=checks.READ_AFTER_WRITE,
        fact="Account.AccountStatus is Active or Suspended (seed 003)",
        received=fetched.get("AccountStatus"),
        documented="Active | Suspended",
    )
    scenario.ok(
        "UpdateAccount",
        {"AccountId": account_id, "Name": name + "-renamed", "DefaultLicense": "Pro"},
    )
    scenario.reads_back(
        "GetAccount",
        {"AccountId": account_id},
        "Account",
        {"Name": name + "-renamed", "DefaultLicense": "Pro"},
    )
    listed = scenario.call("ListAccounts", {"Name": name + "-renamed"})
    names = [a.get("Name") for a in field_of(listed.json, "Accounts") or []]
    scenario.expect(
        listed,
        names == [name + "-renamed"],
        check=checks.READ_AFTER_WRITE,
        fact="ListAccounts with a Name filter returns the account of that name",
        received=names,
        documented=[name + "-renamed"],
    )
    scenario.ok("DeleteAccount", {"AccountId": account_id})
    scenario.gone(
        "GetAccount",
        {"AccountId": account_id},
        check=checks.DELETE_IS_FINAL,
        what="a deleted account",
    )
