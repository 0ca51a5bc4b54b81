"""boto3's own clients drive all 35 operations against ``chime-emulator`` run as a command.

Every response body is also checked against botocore's output shapes member by
member (``record_output_mismatches``), since boto3 silently drops members it
does not know.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from tests.support.emulator_helpers import (
    ACCOUNT_ID,
    REGION,
    EmulatorProcess,
    clients,
    plain_request,
    record_output_mismatches,
)

LEX_CONFIGURATION = {
    "Lex": {
        "RespondsTo": "STANDARD_MESSAGES",
        "LexBotAliasArn": "arn:aws:lex:us-east-1:123456789012:bot-alias/ABCDEFGHIJ/KLMNOPQRST",
        "LocaleId": "en_US",
        "WelcomeIntent": "Welcome",
    }
}
PINPOINT_ARN = "arn:aws:mobiletargeting:us-east-1:123456789012:apps/0123456789abcdef"


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorProcess]:
    process = EmulatorProcess()
    yield process
    code, log = process.stop()
    assert code == 0, log
    # one line per request: method, path, status, operation, milliseconds; never credentials
    assert " POST /app-instances 201 CreateAppInstance " in log
    assert "Authorization" not in log and "AWS4-HMAC-SHA256" not in log and "Credential=" not in log


@pytest.fixture(scope="session")
def output_mismatches() -> list[str]:
    return []


@pytest.fixture(scope="session")
def session_clients(emulator: EmulatorProcess, output_mismatches: list[str]) -> tuple[Any, Any]:
    identity, accounts = clients(emulator.url)
    record_output_mismatches(identity, output_mismatches)
    record_output_mismatches(accounts, output_mismatches)
    return identity, accounts


@pytest.fixture
def identity(
    emulator: EmulatorProcess, session_clients: tuple[Any, Any], output_mismatches: list[str]
) -> Iterator[Any]:
    emulator.reset()
    yield session_clients[0]
    assert output_mismatches == [], "responses stray from botocore's output shapes"


@pytest.fixture
def accounts(emulator: EmulatorProcess, session_clients: tuple[Any, Any]) -> Any:
    emulator.reset()
    return session_clients[1]


@pytest.fixture
def app_instance(identity: Any) -> str:
    arn: str = identity.create_app_instance(Name="conformance")["AppInstanceArn"]
    return arn


def create_user(identity: Any, app_instance: str, user_id: str, **extra: Any) -> str:
    response = identity.create_app_instance_user(
        AppInstanceArn=app_instance, AppInstanceUserId=user_id, Name=f"name of {user_id}", **extra
    )
    arn: str = response["AppInstanceUserArn"]
    return arn


def create_bot(identity: Any, app_instance: str, name: str = "helper") -> str:
    response = identity.create_app_instance_bot(
        AppInstanceArn=app_instance, Name=name, Configuration=LEX_CONFIGURATION
    )
    arn: str = response["AppInstanceBotArn"]
    return arn


def walk(call: Any, list_member: str, **arguments: Any) -> list[Any]:
    """Every item of a List operation, following NextToken page by page."""
    items: list[Any] = []
    token = None
    while True:
        page = call(**arguments, **({"NextToken": token} if token else {}))
        assert len(page[list_member]) <= arguments.get("MaxResults", 50)
        items.extend(page[list_member])
        token = page.get("NextToken")
        if not token:
            return items


# -- AppInstances -------------------------------------------------------------------


def test_app_instance_lifecycle(identity: Any) -> None:
    arn = identity.create_app_instance(Name="first", Metadata="m1")["AppInstanceArn"]
    assert arn.startswith(f"arn:aws:chime:{REGION}:{ACCOUNT_ID}:app-instance/")
    described = identity.describe_app_instance(AppInstanceArn=arn)["AppInstance"]
    assert (described["Name"], described["Metadata"]) == ("first", "m1")
    assert described["CreatedTimestamp"] == described["LastUpdatedTimestamp"]

    identity.update_app_instance(AppInstanceArn=arn, Name="renamed", Metadata="m2")
    assert identity.describe_app_instance(AppInstanceArn=arn)["AppInstance"]["Name"] == "renamed"
    listed = identity.list_app_instances()["AppInstances"]
    assert [(i["AppInstanceArn"], i["Name"]) for i in listed] == [(arn, "renamed")]

    identity.delete_app_instance(AppInstanceArn=arn)
    with pytest.raises(identity.exceptions.NotFoundException):
        identity.describe_app_instance(AppInstanceArn=arn)
    assert identity.list_app_instances()["AppInstances"] == []


def test_constraint_break_is_bad_request_naming_the_member(identity: Any) -> None:
    with pytest.raises(identity.exceptions.BadRequestException) as raised:
        identity.create_app_instance(Name="x" * 257)
    message = raised.value.response["Error"]["Message"]
    assert "'Name'" in message and "256" in message


def test_invalid_path_label_is_bad_request_not_not_found(identity: Any) -> None:
    with pytest.raises(identity.exceptions.BadRequestException):
        identity.describe_app_instance(AppInstanceArn="not-an-arn")


def test_idempotency_token(identity: Any) -> None:
    first = identity.create_app_instance(Name="same", ClientRequestToken="token-1")
    again = identity.create_app_instance(Name="same", ClientRequestToken="token-1")
    assert first["AppInstanceArn"] == again["AppInstanceArn"]
    assert len(identity.list_app_instances()["AppInstances"]) == 1
    with pytest.raises(identity.exceptions.ConflictException):
        identity.create_app_instance(Name="other", ClientRequestToken="token-1")


def test_retention_settings_round_trip(identity: Any, app_instance: str) -> None:
    settings = {"ChannelRetentionSettings": {"RetentionDays": 60}}
    put = identity.put_app_instance_retention_settings(
        AppInstanceArn=app_instance, AppInstanceRetentionSettings=settings
    )
    assert put["AppInstanceRetentionSettings"] == settings
    got = identity.get_app_instance_retention_settings(AppInstanceArn=app_instance)
    assert got["AppInstanceRetentionSettings"] == settings
    assert got["InitiateDeletionTimestamp"] == put["InitiateDeletionTimestamp"]


# -- AppInstanceUsers ---------------------------------------------------------------


def test_user_lifecycle(identity: Any, app_instance: str) -> None:
    arn = create_user(identity, app_instance, "alice@example.com", Metadata="m")
    assert arn == f"{app_instance}/user/alice@example.com"
    user = identity.describe_app_instance_user(AppInstanceUserArn=arn)["AppInstanceUser"]
    assert (user["Name"], user["Metadata"]) == ("name of alice@example.com", "m")

    identity.update_app_instance_user(AppInstanceUserArn=arn, Name="Alice", Metadata="n")
    listed = identity.list_app_instance_users(AppInstanceArn=app_instance)
    assert listed["AppInstanceArn"] == app_instance
    assert [u["Name"] for u in listed["AppInstanceUsers"]] == ["Alice"]

    identity.delete_app_instance_user(AppInstanceUserArn=arn)
    with pytest.raises(identity.exceptions.NotFoundException):
        identity.describe_app_instance_user(AppInstanceUserArn=arn)


def test_duplicate_user_id_is_conflict(identity: Any, app_instance: str) -> None:
    create_user(identity, app_instance, "bob")
    with pytest.raises(identity.exceptions.ConflictException):
        create_user(identity, app_instance, "bob")


def test_user_id_pattern_break_is_bad_request(identity: Any, app_instance: str) -> None:
    with pytest.raises(identity.exceptions.BadRequestException) as raised:
        create_user(identity, app_instance, "not valid!")
    assert "AppInstanceUserId" in raised.value.response["Error"]["Message"]


def test_user_in_missing_app_instance_is_not_found(identity: Any, app_instance: str) -> None:
    identity.delete_app_instance(AppInstanceArn=app_instance)
    with pytest.raises(identity.exceptions.NotFoundException):
        create_user(identity, app_instance, "carol")


def test_expiration_settings_put_and_clear(identity: Any, app_instance: str) -> None:
    settings = {"ExpirationDays": 30, "ExpirationCriterion": "CREATED_TIMESTAMP"}
    arn = create_user(identity, app_instance, "dave", ExpirationSettings=settings)
    user = identity.describe_app_instance_user(AppInstanceUserArn=arn)["AppInstanceUser"]
    assert user["ExpirationSettings"] == settings

    longer = {"ExpirationDays": 90, "ExpirationCriterion": "CREATED_TIMESTAMP"}
    put = identity.put_app_instance_user_expiration_settings(
        AppInstanceUserArn=arn, ExpirationSettings=longer
    )
    assert put["ExpirationSettings"] == longer

    cleared = identity.put_app_instance_user_expiration_settings(AppInstanceUserArn=arn)
    assert "ExpirationSettings" not in cleared
    user = identity.describe_app_instance_user(AppInstanceUserArn=arn)["AppInstanceUser"]
    assert "ExpirationSettings" not in user


# -- AppInstanceBots ----------------------------------------------------------------


def test_bot_lifecycle(identity: Any, app_instance: str) -> None:
    arn = create_bot(identity, app_instance)
    assert arn.startswith(f"{app_instance}/bot/")
    bot = identity.describe_app_instance_bot(AppInstanceBotArn=arn)["AppInstanceBot"]
    assert bot["Configuration"] == LEX_CONFIGURATION

    changed = {"Lex": {**LEX_CONFIGURATION["Lex"], "LocaleId": "de_DE"}}
    identity.update_app_instance_bot(
        AppInstanceBotArn=arn, Name="renamed", Metadata="m", Configuration=changed
    )
    bot = identity.describe_app_instance_bot(AppInstanceBotArn=arn)["AppInstanceBot"]
    assert (bot["Name"], bot["Configuration"]) == ("renamed", changed)
    listed = identity.list_app_instance_bots(AppInstanceArn=app_instance)
    assert [b["AppInstanceBotArn"] for b in listed["AppInstanceBots"]] == [arn]

    identity.delete_app_instance_bot(AppInstanceBotArn=arn)
    with pytest.raises(identity.exceptions.NotFoundException):
        identity.describe_app_instance_bot(AppInstanceBotArn=arn)


def test_bad_lex_alias_arn_is_bad_request(identity: Any, app_instance: str) -> None:
    broken = {"Lex": {**LEX_CONFIGURATION["Lex"], "LexBotAliasArn": "arn:aws:lex:nowhere-at-all"}}
    with pytest.raises(identity.exceptions.BadRequestException) as raised:
        identity.create_app_instance_bot(AppInstanceArn=app_instance, Configuration=broken)
    assert "Configuration.Lex.LexBotAliasArn" in raised.value.response["Error"]["Message"]


# -- AppInstanceAdmins --------------------------------------------------------------


def test_admins_promote_list_describe_demote(identity: Any, app_instance: str) -> None:
    user = create_user(identity, app_instance, "erin")
    bot = create_bot(identity, app_instance)
    created = identity.create_app_instance_admin(
        AppInstanceArn=app_instance, AppInstanceAdminArn=user
    )
    assert created["AppInstanceAdmin"] == {"Arn": user, "Name": "name of erin"}
    identity.create_app_instance_admin(AppInstanceArn=app_instance, AppInstanceAdminArn=bot)

    described = identity.describe_app_instance_admin(
        AppInstanceArn=app_instance, AppInstanceAdminArn=user
    )["AppInstanceAdmin"]
    assert (described["Admin"]["Arn"], described["AppInstanceArn"]) == (user, app_instance)
    listed = identity.list_app_instance_admins(AppInstanceArn=app_instance)["AppInstanceAdmins"]
    assert [a["Admin"]["Arn"] for a in listed] == [user, bot]

    identity.delete_app_instance_admin(AppInstanceArn=app_instance, AppInstanceAdminArn=user)
    with pytest.raises(identity.exceptions.NotFoundException):
        identity.describe_app_instance_admin(AppInstanceArn=app_instance, AppInstanceAdminArn=user)
    # demotion keeps the user
    identity.describe_app_instance_user(AppInstanceUserArn=user)


def test_admin_from_another_app_instance_is_refused(identity: Any, app_instance: str) -> None:
    other = identity.create_app_instance(Name="other")["AppInstanceArn"]
    stranger = create_user(identity, other, "frank")
    with pytest.raises(identity.exceptions.BadRequestException):
        identity.create_app_instance_admin(
            AppInstanceArn=app_instance, AppInstanceAdminArn=stranger
        )


# -- AppInstanceUserEndpoints -------------------------------------------------------


def test_endpoint_lifecycle(identity: Any, app_instance: str) -> None:
    user = create_user(identity, app_instance, "grace")
    registered = identity.register_app_instance_user_endpoint(
        AppInstanceUserArn=user,
        Name="phone",
        Type="APNS",
        ResourceArn=PINPOINT_ARN,
        EndpointAttributes={"DeviceToken": "device-token"},
    )
    endpoint_id = registered["EndpointId"]
    assert registered["AppInstanceUserArn"] == user
    described = identity.describe_app_instance_user_endpoint(
        AppInstanceUserArn=user, EndpointId=endpoint_id
    )["AppInstanceUserEndpoint"]
    assert (described["Type"], described["AllowMessages"]) == ("APNS", "ALL")
    assert described["EndpointState"]["Status"] == "ACTIVE"

    identity.update_app_instance_user_endpoint(
        AppInstanceUserArn=user, EndpointId=endpoint_id, Name="tablet", AllowMessages="NONE"
    )
    listed = identity.list_app_instance_user_endpoints(AppInstanceUserArn=user)
    summary = listed["AppInstanceUserEndpoints"][0]
    assert (summary["Name"], summary["AllowMessages"]) == ("tablet", "NONE")

    identity.deregister_app_instance_user_endpoint(AppInstanceUserArn=user, EndpointId=endpoint_id)
    with pytest.raises(identity.exceptions.NotFoundException):
        identity.describe_app_instance_user_endpoint(
            AppInstanceUserArn=user, EndpointId=endpoint_id
        )


# -- Tags ---------------------------------------------------------------------------


def test_tags_on_create_tag_untag_list(identity: Any) -> None:
    arn = identity.create_app_instance(Name="tagged", Tags=[{"Key": "team", "Value": "a"}])[
        "AppInstanceArn"
    ]
    identity.tag_resource(
        ResourceARN=arn, Tags=[{"Key": "team", "Value": "b"}, {"Key": "env", "Value": "ci"}]
    )
    tags = identity.list_tags_for_resource(ResourceARN=arn)["Tags"]
    assert tags == [{"Key": "team", "Value": "b"}, {"Key": "env", "Value": "ci"}]
    identity.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert identity.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "env", "Value": "ci"}
    ]


def test_more_than_fifty_tags_is_refused(identity: Any, app_instance: str) -> None:
    fifty = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    identity.tag_resource(ResourceARN=app_instance, Tags=fifty)
    with pytest.raises(identity.exceptions.ResourceLimitExceededException):
        identity.tag_resource(ResourceARN=app_instance, Tags=[{"Key": "one-more", "Value": "v"}])
    assert len(identity.list_tags_for_resource(ResourceARN=app_instance)["Tags"]) == 50


def test_tagging_a_missing_resource_is_not_found(identity: Any, app_instance: str) -> None:
    with pytest.raises(identity.exceptions.NotFoundException):
        identity.tag_resource(
            ResourceARN=f"{app_instance}/user/nobody", Tags=[{"Key": "k", "Value": "v"}]
        )


# -- cascade ------------------------------------------------------------------------


def test_delete_app_instance_cascades(identity: Any, app_instance: str) -> None:
    user = create_user(identity, app_instance, "heidi", Tags=[{"Key": "k", "Value": "v"}])
    bot = create_bot(identity, app_instance)
    identity.create_app_instance_admin(AppInstanceArn=app_instance, AppInstanceAdminArn=user)
    endpoint = identity.register_app_instance_user_endpoint(
        AppInstanceUserArn=user,
        Type="GCM",
        ResourceArn=PINPOINT_ARN,
        EndpointAttributes={"DeviceToken": "t"},
    )["EndpointId"]

    identity.delete_app_instance(AppInstanceArn=app_instance)

    with pytest.raises(identity.exceptions.NotFoundException):
        identity.describe_app_instance_user(AppInstanceUserArn=user)
    with pytest.raises(identity.exceptions.NotFoundException):
        identity.describe_app_instance_bot(AppInstanceBotArn=bot)
    with pytest.raises(identity.exceptions.NotFoundException):
        identity.list_tags_for_resource(ResourceARN=user)
    with pytest.raises(identity.exceptions.NotFoundException):
        identity.describe_app_instance_user_endpoint(AppInstanceUserArn=user, EndpointId=endpoint)
    # a new instance sees none of it
    fresh = identity.create_app_instance(Name="fresh")["AppInstanceArn"]
    assert identity.list_app_instance_admins(AppInstanceArn=fresh)["AppInstanceAdmins"] == []


# -- pagination ---------------------------------------------------------------------


@pytest.mark.parametrize("page_size", [1, 2, 3])
def test_user_pagination_visits_each_user_once(
    identity: Any, app_instance: str, page_size: int
) -> None:
    arns = [create_user(identity, app_instance, f"user{i:02d}") for i in range(26)]
    listed = walk(
        identity.list_app_instance_users,
        "AppInstanceUsers",
        AppInstanceArn=app_instance,
        MaxResults=page_size,
    )
    assert [u["AppInstanceUserArn"] for u in listed] == arns


@pytest.mark.parametrize("page_size", [1, 3])
def test_app_instance_pagination_visits_each_instance_once(identity: Any, page_size: int) -> None:
    arns = [identity.create_app_instance(Name=f"i{i}")["AppInstanceArn"] for i in range(26)]
    listed = walk(identity.list_app_instances, "AppInstances", MaxResults=page_size)
    assert [i["AppInstanceArn"] for i in listed] == arns


def test_forged_next_token_is_bad_request(identity: Any, app_instance: str) -> None:
    for i in range(3):
        create_user(identity, app_instance, f"u{i}")
    page = identity.list_app_instance_users(AppInstanceArn=app_instance, MaxResults=1)
    forged = page["NextToken"][:-2] + ("AA" if not page["NextToken"].endswith("AA") else "BB")
    with pytest.raises(identity.exceptions.BadRequestException):
        identity.list_app_instance_users(
            AppInstanceArn=app_instance, MaxResults=1, NextToken=forged
        )
    # a genuine token of another list is refused too
    with pytest.raises(identity.exceptions.BadRequestException):
        identity.list_app_instances(NextToken=page["NextToken"])


# -- Accounts -----------------------------------------------------------------------


def test_account_lifecycle(accounts: Any) -> None:
    account = accounts.create_account(Name="Acme")["Account"]
    assert account["AwsAccountId"] == ACCOUNT_ID
    assert (account["AccountType"], account["AccountStatus"]) == ("Team", "Active")
    assert account["DefaultLicense"] in account["SupportedLicenses"]
    account_id = account["AccountId"]
    assert accounts.get_account(AccountId=account_id)["Account"]["Name"] == "Acme"

    updated = accounts.update_account(AccountId=account_id, Name="Acme 2", DefaultLicense="Basic")
    assert (updated["Account"]["Name"], updated["Account"]["DefaultLicense"]) == ("Acme 2", "Basic")
    assert [a["AccountId"] for a in accounts.list_accounts()["Accounts"]] == [account_id]

    accounts.delete_account(AccountId=account_id)
    with pytest.raises(accounts.exceptions.NotFoundException):
        accounts.get_account(AccountId=account_id)


def test_accounts_name_filter_and_pagination(accounts: Any) -> None:
    ids = [accounts.create_account(Name=f"team {i}")["Account"]["AccountId"] for i in range(26)]
    accounts.create_account(Name="other")
    listed = walk(accounts.list_accounts, "Accounts", Name="team", MaxResults=2)
    assert [a["AccountId"] for a in listed] == ids


def test_account_name_break_is_bad_request(accounts: Any) -> None:
    with pytest.raises(accounts.exceptions.BadRequestException):
        accounts.create_account(Name="   ")


def test_deleting_an_active_enterprise_account_is_unprocessable(
    accounts: Any, emulator: EmulatorProcess
) -> None:
    seeded = plain_request(
        emulator.url,
        "POST",
        "/_emulator/accounts",
        b'{"Name": "Directory", "AccountType": "EnterpriseDirectory"}',
    )
    account_id = seeded.document["Account"]["AccountId"]
    with pytest.raises(accounts.exceptions.UnprocessableEntityException):
        accounts.delete_account(AccountId=account_id)
    assert accounts.get_account(AccountId=account_id)["Account"]["AccountStatus"] == "Active"


def test_every_operation_was_driven() -> None:
    """The names above cover both APIs' 35 operations (a guard against drift)."""
    source = Path(__file__).read_text(encoding="utf-8")
    session = botocore.session.get_session()
    identity_ops = session.get_service_model("chime-sdk-identity").operation_names
    account_ops = ["CreateAccount", "GetAccount", "ListAccounts", "UpdateAccount", "DeleteAccount"]
    missing = [
        name
        for name in [*identity_ops, *account_ops]
        if f".{_snake(name)}(" not in source and f".{_snake(name)}," not in source
    ]
    assert missing == []
    assert len(identity_ops) + len(account_ops) == 35


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
