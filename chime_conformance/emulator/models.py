"""State and rules of the emulated services, keyed by AWS account and region.

Handlers (``responses.py``) only translate members to keyword arguments and
results to wire dicts; every rule of the contract (docs/contract.md's table) lives
here, one method per operation, so a later fault hook can wrap exactly one rule.
Records are plain dataclasses so a state snapshot is ``dataclasses.asdict``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from chime_conformance.emulator.exceptions import (
    BadRequestException,
    ConflictException,
    NotFoundException,
    ResourceLimitExceededException,
    ServiceUnavailableException,
    UnprocessableEntityException,
)
from chime_conformance.emulator.expiration import ExpirationClock, expire_users, sweep
from chime_conformance.emulator.pagination import Members, Page, PageTokens

MAX_TAGS_PER_RESOURCE = 50
DEFAULT_IDENTITY_PAGE_SIZE = 50  # the modeled maximum: callers who omit MaxResults get most
DEFAULT_ACCOUNTS_PAGE_SIZE = 200

Clock = Callable[[], float]
# (the backend, its real rule as a bound method) -> what answers in its place
RuleWrapper = Callable[[Any, Callable[..., Any]], Callable[..., Any]]
Tags = dict[str, str]  # insertion-ordered: ListTagsForResource answers in tagging order


def tag_list(tags: Tags) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def epoch_seconds(timestamp: float) -> float:
    # identity timestamps are epoch seconds on the wire (docs/contract.md, "timestamps")
    return round(timestamp, 3)


def iso8601(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------
# Identity records


@dataclass
class AppInstance:
    arn: str
    name: str
    metadata: str | None
    created: float
    updated: float
    seq: int
    tags: Tags = field(default_factory=dict)
    retention_settings: dict[str, Any] | None = None
    retention_updated: float | None = None

    def summary(self) -> dict[str, Any]:
        return _without_none(
            {"AppInstanceArn": self.arn, "Name": self.name, "Metadata": self.metadata}
        )

    def describe(self) -> dict[str, Any]:
        return self.summary() | {
            "CreatedTimestamp": epoch_seconds(self.created),
            "LastUpdatedTimestamp": epoch_seconds(self.updated),
        }


@dataclass
class AppInstanceUser:
    arn: str
    app_instance_arn: str
    user_id: str
    name: str
    metadata: str | None
    created: float
    updated: float
    seq: int
    tags: Tags = field(default_factory=dict)
    expiration_settings: dict[str, Any] | None = None

    def summary(self) -> dict[str, Any]:
        return _without_none(
            {"AppInstanceUserArn": self.arn, "Name": self.name, "Metadata": self.metadata}
        )

    def describe(self) -> dict[str, Any]:
        return self.summary() | _without_none(
            {
                "CreatedTimestamp": epoch_seconds(self.created),
                "LastUpdatedTimestamp": epoch_seconds(self.updated),
                "ExpirationSettings": self.expiration_settings,
            }
        )


@dataclass
class AppInstanceBot:
    arn: str
    app_instance_arn: str
    name: str | None
    metadata: str | None
    configuration: dict[str, Any]
    created: float
    updated: float
    seq: int
    tags: Tags = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return _without_none(
            {"AppInstanceBotArn": self.arn, "Name": self.name, "Metadata": self.metadata}
        )

    def describe(self) -> dict[str, Any]:
        return self.summary() | {
            "Configuration": self.configuration,
            "CreatedTimestamp": epoch_seconds(self.created),
            "LastUpdatedTimestamp": epoch_seconds(self.updated),
        }


@dataclass
class AppInstanceAdmin:
    """A user or bot promoted to administrator of its own AppInstance."""

    admin_arn: str
    app_instance_arn: str
    created: float
    seq: int


@dataclass
class UserEndpoint:
    endpoint_id: str
    user_arn: str
    name: str | None
    type: str
    resource_arn: str
    attributes: dict[str, str]
    allow_messages: str
    created: float
    updated: float
    seq: int

    def summary(self) -> dict[str, Any]:
        return _without_none(
            {
                "AppInstanceUserArn": self.user_arn,
                "EndpointId": self.endpoint_id,
                "Name": self.name,
                "Type": self.type,
                "AllowMessages": self.allow_messages,
                "EndpointState": {"Status": "ACTIVE"},
            }
        )

    def describe(self) -> dict[str, Any]:
        return self.summary() | {
            "ResourceArn": self.resource_arn,
            "EndpointAttributes": self.attributes,
            "CreatedTimestamp": epoch_seconds(self.created),
            "LastUpdatedTimestamp": epoch_seconds(self.updated),
        }


@dataclass
class IdempotencyRecord:
    operation: str
    token: str
    request_fingerprint: str
    result: str  # the ARN (or endpoint id) the first request created


def _without_none(members: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in members.items() if value is not None}


def _fingerprint(request: dict[str, Any]) -> str:
    return json.dumps(request, sort_keys=True, separators=(",", ":"))


# --------------------------------------------------------------------------
# Identity backend


class IdentityBackend:
    """The Chime SDK Identity resources of one AWS account in one region."""

    def __init__(
        self, account_id: str, region: str, page_tokens: PageTokens, clock: Clock = time.time
    ) -> None:
        self.account_id = account_id
        self.region = region
        self._page_tokens = page_tokens
        self._clock = clock
        self.app_instances: dict[str, AppInstance] = {}
        self.users: dict[str, AppInstanceUser] = {}
        self.bots: dict[str, AppInstanceBot] = {}
        self.admins: dict[str, AppInstanceAdmin] = {}  # admin ARNs are unique: same-instance rule
        self.endpoints: dict[str, UserEndpoint] = {}
        self.idempotency: dict[str, IdempotencyRecord] = {}
        self.next_seq = 0

    # -- helpers -------------------------------------------------------------

    def _seq(self) -> int:
        self.next_seq += 1
        return self.next_seq

    def mint_arn(self, resource: str) -> str:
        return f"arn:aws:chime:{self.region}:{self.account_id}:{resource}"

    def _page(
        self,
        listing: str,
        items: Members | Iterable[Any],
        max_results: int | None,
        token: str | None,
    ) -> Page[Any]:
        # the listing name binds a token to its list and scope (and to this account/region)
        scoped = f"{self.account_id}/{self.region}/{listing}"
        size = max_results or DEFAULT_IDENTITY_PAGE_SIZE
        members = items if isinstance(items, Members) else list(items)
        return self._page_tokens.page(scoped, members, size, token)

    def replay(
        self, operation: str, token: str, request: dict[str, Any], exists: Callable[[str], bool]
    ) -> str | None:
        """The result of an earlier request with this ClientRequestToken, if any.

        Same token and same parameters: the same resource, no second one. Same
        token, other parameters: 409 (docs/contract.md, "idempotency"). A token whose
        resource has since been deleted is forgotten, so the request creates anew.
        """
        record = self.idempotency.get(f"{operation} {token}")
        if record is None or not exists(record.result):
            return None
        if record.request_fingerprint != _fingerprint(request):
            raise ConflictException(
                f"ClientRequestToken '{token}' was already used for a {operation} request "
                "with different parameters."
            )
        return record.result

    def _remember(self, operation: str, token: str, request: dict[str, Any], result: str) -> None:
        self.idempotency[f"{operation} {token}"] = IdempotencyRecord(
            operation, token, _fingerprint(request), result
        )

    def merge_tags(self, tags: Tags, new_tags: list[dict[str, str]]) -> None:
        merged = dict(tags)
        merged.update({tag["Key"]: tag["Value"] for tag in new_tags})
        if len(merged) > MAX_TAGS_PER_RESOURCE:
            raise ResourceLimitExceededException(
                f"A resource can have at most {MAX_TAGS_PER_RESOURCE} tags; "
                f"this request would give it {len(merged)}."
            )
        tags.update(merged)

    # -- lookups ---------------------------------------------------------------

    def app_instance(self, arn: str) -> AppInstance:
        instance = self.app_instances.get(arn)
        if instance is None:
            raise NotFoundException(f"AppInstance {arn} not found.")
        return instance

    def user(self, arn: str) -> AppInstanceUser:
        user = self.users.get(arn)
        if user is None:
            raise NotFoundException(f"AppInstanceUser {arn} not found.")
        return user

    def bot(self, arn: str) -> AppInstanceBot:
        bot = self.bots.get(arn)
        if bot is None:
            raise NotFoundException(f"AppInstanceBot {arn} not found.")
        return bot

    def endpoint(self, user_arn: str, endpoint_id: str) -> UserEndpoint:
        endpoint = self.endpoints.get(endpoint_id)
        if endpoint is None or endpoint.user_arn != user_arn:
            raise NotFoundException(
                f"Endpoint {endpoint_id} of AppInstanceUser {user_arn} not found."
            )
        return endpoint

    def taggable(self, arn: str) -> AppInstance | AppInstanceUser | AppInstanceBot:
        resource = self.app_instances.get(arn) or self.users.get(arn) or self.bots.get(arn)
        if resource is None:
            raise NotFoundException(f"Resource {arn} not found.")
        return resource

    # -- AppInstances ----------------------------------------------------------

    def create_app_instance(
        self, name: str, metadata: str | None, client_request_token: str, tags: list[dict[str, str]]
    ) -> AppInstance:
        request = {"Name": name, "Metadata": metadata, "Tags": tags}
        earlier = self.replay(
            "CreateAppInstance", client_request_token, request, self.app_instances.__contains__
        )
        if earlier:
            return self.app_instances[earlier]
        now = self._clock()
        instance = AppInstance(
            self.mint_arn(f"app-instance/{uuid.uuid4()}"), name, metadata, now, now, self._seq()
        )
        self.merge_tags(instance.tags, tags)
        self.app_instances[instance.arn] = instance
        self._remember("CreateAppInstance", client_request_token, request, instance.arn)
        return instance

    def list_app_instances(
        self, max_results: int | None, next_token: str | None
    ) -> Page[AppInstance]:
        return self._page("ListAppInstances", Members(self.app_instances), max_results, next_token)

    def update_app_instance(self, arn: str, name: str, metadata: str) -> AppInstance:
        instance = self.app_instance(arn)
        instance.name, instance.metadata, instance.updated = name, metadata, self._clock()
        return instance

    def delete_app_instance(self, arn: str) -> None:
        """Removes the instance and everything in it: users (with their
        endpoints), bots, admins and, with the records, their tags."""
        self.app_instance(arn)
        for user_arn in [u.arn for u in self.users.values() if u.app_instance_arn == arn]:
            self.delete_app_instance_user(user_arn)
        for bot_arn in [b.arn for b in self.bots.values() if b.app_instance_arn == arn]:
            self.delete_app_instance_bot(bot_arn)
        del self.app_instances[arn]

    def put_retention_settings(self, arn: str, settings: dict[str, Any]) -> AppInstance:
        instance = self.app_instance(arn)
        instance.retention_settings, instance.retention_updated = settings, self._clock()
        return instance

    # -- AppInstanceUsers ------------------------------------------------------

    def create_app_instance_user(
        self,
        app_instance_arn: str,
        user_id: str,
        name: str,
        metadata: str | None,
        client_request_token: str,
        tags: list[dict[str, str]],
        expiration_settings: dict[str, Any] | None,
    ) -> AppInstanceUser:
        request = {
            "AppInstanceArn": app_instance_arn,
            "AppInstanceUserId": user_id,
            "Name": name,
            "Metadata": metadata,
            "Tags": tags,
            "ExpirationSettings": expiration_settings,
        }
        earlier = self.replay(
            "CreateAppInstanceUser", client_request_token, request, self.users.__contains__
        )
        if earlier:
            return self.users[earlier]
        self.app_instance(app_instance_arn)
        arn = f"{app_instance_arn}/user/{user_id}"
        if arn in self.users:
            raise ConflictException(
                f"AppInstanceUser with AppInstanceUserId '{user_id}' already exists "
                f"in AppInstance {app_instance_arn}."
            )
        now = self._clock()
        user = AppInstanceUser(
            arn,
            app_instance_arn,
            user_id,
            name,
            metadata,
            now,
            now,
            self._seq(),
            expiration_settings=expiration_settings,
        )
        self.merge_tags(user.tags, tags)
        self.users[arn] = user
        self._remember("CreateAppInstanceUser", client_request_token, request, arn)
        return user

    def list_app_instance_users(
        self, app_instance_arn: str, max_results: int | None, next_token: str | None
    ) -> Page[AppInstanceUser]:
        self.app_instance(app_instance_arn)
        members = Members(self.users, lambda u: u.app_instance_arn == app_instance_arn)
        return self._page(
            f"ListAppInstanceUsers {app_instance_arn}", members, max_results, next_token
        )

    def update_app_instance_user(self, arn: str, name: str, metadata: str) -> AppInstanceUser:
        user = self.user(arn)
        user.name, user.metadata, user.updated = name, metadata, self._clock()
        return user

    def put_user_expiration_settings(
        self, arn: str, expiration_settings: dict[str, Any] | None
    ) -> AppInstanceUser:
        """Stores the settings; an absent ExpirationSettings clears them."""
        user = self.user(arn)
        user.expiration_settings, user.updated = expiration_settings, self._clock()
        return user

    def expire_users(self, clock: ExpirationClock) -> list[str]:
        """Deletes the users past CreatedTimestamp + ExpirationDays (the ARNs)."""
        return expire_users(self, clock)

    def delete_app_instance_user(self, arn: str) -> None:
        """Removes the user, its endpoints and its admin role."""
        self.user(arn)
        for endpoint_id in [e.endpoint_id for e in self.endpoints.values() if e.user_arn == arn]:
            del self.endpoints[endpoint_id]
        self.admins.pop(arn, None)
        del self.users[arn]

    # -- AppInstanceBots -------------------------------------------------------

    def create_app_instance_bot(
        self,
        app_instance_arn: str,
        name: str | None,
        metadata: str | None,
        client_request_token: str,
        tags: list[dict[str, str]],
        configuration: dict[str, Any],
    ) -> AppInstanceBot:
        request = {
            "AppInstanceArn": app_instance_arn,
            "Name": name,
            "Metadata": metadata,
            "Tags": tags,
            "Configuration": configuration,
        }
        earlier = self.replay(
            "CreateAppInstanceBot", client_request_token, request, self.bots.__contains__
        )
        if earlier:
            return self.bots[earlier]
        self.app_instance(app_instance_arn)
        now = self._clock()
        bot = AppInstanceBot(
            f"{app_instance_arn}/bot/{uuid.uuid4()}",
            app_instance_arn,
            name,
            metadata,
            configuration,
            now,
            now,
            self._seq(),
        )
        self.merge_tags(bot.tags, tags)
        self.bots[bot.arn] = bot
        self._remember("CreateAppInstanceBot", client_request_token, request, bot.arn)
        return bot

    def list_app_instance_bots(
        self, app_instance_arn: str, max_results: int | None, next_token: str | None
    ) -> Page[AppInstanceBot]:
        self.app_instance(app_instance_arn)
        members = Members(self.bots, lambda b: b.app_instance_arn == app_instance_arn)
        return self._page(
            f"ListAppInstanceBots {app_instance_arn}", members, max_results, next_token
        )

    def update_app_instance_bot(
        self, arn: str, name: str, metadata: str, configuration: dict[str, Any] | None
    ) -> AppInstanceBot:
        bot = self.bot(arn)
        bot.name, bot.metadata, bot.updated = name, metadata, self._clock()
        if configuration is not None:
            bot.configuration = configuration
        return bot

    def delete_app_instance_bot(self, arn: str) -> None:
        self.bot(arn)
        self.admins.pop(arn, None)
        del self.bots[arn]

    # -- AppInstanceAdmins -----------------------------------------------------

    def create_app_instance_admin(self, app_instance_arn: str, admin_arn: str) -> AppInstanceAdmin:
        """Promotes a user or bot of this same AppInstance; promoting an admin
        again is a no-op that answers with the existing admin."""
        self.app_instance(app_instance_arn)
        member = self.users.get(admin_arn) or self.bots.get(admin_arn)
        if member is None:
            raise NotFoundException(
                f"AppInstanceAdminArn {admin_arn} is neither a user nor a bot of any AppInstance."
            )
        if member.app_instance_arn != app_instance_arn:
            raise BadRequestException(
                f"AppInstanceAdminArn {admin_arn} belongs to another AppInstance; only users "
                f"and bots of {app_instance_arn} can be its admins."
            )
        if admin_arn not in self.admins:
            self.admins[admin_arn] = AppInstanceAdmin(
                admin_arn, app_instance_arn, self._clock(), self._seq()
            )
        return self.admins[admin_arn]

    def app_instance_admin(self, app_instance_arn: str, admin_arn: str) -> AppInstanceAdmin:
        self.app_instance(app_instance_arn)
        admin = self.admins.get(admin_arn)
        if admin is None or admin.app_instance_arn != app_instance_arn:
            raise NotFoundException(
                f"{admin_arn} is not an admin of AppInstance {app_instance_arn}."
            )
        return admin

    def admin_identity(self, admin_arn: str) -> dict[str, Any]:
        member = self.users.get(admin_arn) or self.bots.get(admin_arn)
        return _without_none({"Arn": admin_arn, "Name": member.name if member else None})

    def list_app_instance_admins(
        self, app_instance_arn: str, max_results: int | None, next_token: str | None
    ) -> Page[AppInstanceAdmin]:
        self.app_instance(app_instance_arn)
        admins = Members(self.admins, lambda a: a.app_instance_arn == app_instance_arn)
        return self._page(
            f"ListAppInstanceAdmins {app_instance_arn}", admins, max_results, next_token
        )

    def delete_app_instance_admin(self, app_instance_arn: str, admin_arn: str) -> None:
        """Demotes the admin; the user or bot itself stays."""
        self.app_instance_admin(app_instance_arn, admin_arn)
        del self.admins[admin_arn]

    # -- AppInstanceUserEndpoints -------------------------------------------------

    def register_endpoint(
        self,
        user_arn: str,
        name: str | None,
        endpoint_type: str,
        resource_arn: str,
        attributes: dict[str, str],
        client_request_token: str,
        allow_messages: str | None,
    ) -> UserEndpoint:
        request = {
            "AppInstanceUserArn": user_arn,
            "Name": name,
            "Type": endpoint_type,
            "ResourceArn": resource_arn,
            "EndpointAttributes": attributes,
            "AllowMessages": allow_messages,
        }
        earlier = self.replay(
            "RegisterAppInstanceUserEndpoint",
            client_request_token,
            request,
            self.endpoints.__contains__,
        )
        if earlier:
            return self.endpoints[earlier]
        self.user(user_arn)
        now = self._clock()
        endpoint = UserEndpoint(
            uuid.uuid4().hex,
            user_arn,
            name,
            endpoint_type,
            resource_arn,
            attributes,
            allow_messages or "ALL",
            now,
            now,
            self._seq(),
        )
        self.endpoints[endpoint.endpoint_id] = endpoint
        self._remember(
            "RegisterAppInstanceUserEndpoint", client_request_token, request, endpoint.endpoint_id
        )
        return endpoint

    def update_endpoint(
        self, user_arn: str, endpoint_id: str, name: str | None, allow_messages: str | None
    ) -> UserEndpoint:
        endpoint = self.endpoint(user_arn, endpoint_id)
        if name is not None:
            endpoint.name = name
        if allow_messages is not None:
            endpoint.allow_messages = allow_messages
        endpoint.updated = self._clock()
        return endpoint

    def list_endpoints(
        self, user_arn: str, max_results: int | None, next_token: str | None
    ) -> Page[UserEndpoint]:
        self.user(user_arn)
        endpoints = Members(self.endpoints, lambda e: e.user_arn == user_arn)
        return self._page(
            f"ListAppInstanceUserEndpoints {user_arn}", endpoints, max_results, next_token
        )

    def deregister_endpoint(self, user_arn: str, endpoint_id: str) -> None:
        self.endpoint(user_arn, endpoint_id)
        del self.endpoints[endpoint_id]

    # -- Tags --------------------------------------------------------------------

    def tag_resource(self, arn: str, tags: list[dict[str, str]]) -> None:
        """Merges: a key already present takes the new value."""
        self.merge_tags(self.taggable(arn).tags, tags)

    def untag_resource(self, arn: str, keys: list[str]) -> None:
        resource = self.taggable(arn)
        for key in keys:
            resource.tags.pop(key, None)

    # -- snapshot ---------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            "app_instances": [asdict(r) for r in self.app_instances.values()],
            "users": [asdict(r) for r in self.users.values()],
            "bots": [asdict(r) for r in self.bots.values()],
            "admins": [asdict(r) for r in self.admins.values()],
            "endpoints": [asdict(r) for r in self.endpoints.values()],
            "idempotency": [asdict(r) for r in self.idempotency.values()],
            "next_seq": self.next_seq,
        }

    def restore(self, snapshot: dict[str, Any]) -> None:
        self.app_instances = {r["arn"]: AppInstance(**r) for r in snapshot["app_instances"]}
        self.users = {r["arn"]: AppInstanceUser(**r) for r in snapshot["users"]}
        self.bots = {r["arn"]: AppInstanceBot(**r) for r in snapshot["bots"]}
        self.admins = {r["admin_arn"]: AppInstanceAdmin(**r) for r in snapshot["admins"]}
        self.endpoints = {r["endpoint_id"]: UserEndpoint(**r) for r in snapshot["endpoints"]}
        self.idempotency = {
            f"{r['operation']} {r['token']}": IdempotencyRecord(**r)
            for r in snapshot["idempotency"]
        }
        self.next_seq = int(snapshot["next_seq"])


# --------------------------------------------------------------------------
# Accounts (legacy Amazon Chime API)

ALL_LICENSES = ["Basic", "Plus", "Pro", "ProTrial"]


@dataclass
class Account:
    account_id: str
    aws_account_id: str
    name: str
    account_type: str
    status: str
    default_license: str
    supported_licenses: list[str]
    created: float
    seq: int
    signin_delegate_groups: list[dict[str, str]] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {
            "AwsAccountId": self.aws_account_id,
            "AccountId": self.account_id,
            "Name": self.name,
            "AccountType": self.account_type,
            "CreatedTimestamp": iso8601(self.created),
            "DefaultLicense": self.default_license,
            "SupportedLicenses": list(self.supported_licenses),
            "AccountStatus": self.status,
            "SigninDelegateGroups": list(self.signin_delegate_groups),
        }


class AccountsBackend:
    """The Amazon Chime accounts under one AWS account (the accounts API is global;
    it is keyed by the region the request was signed for, like everything else)."""

    def __init__(
        self, account_id: str, region: str, page_tokens: PageTokens, clock: Clock = time.time
    ) -> None:
        self.aws_account_id = account_id
        self.region = region
        self._page_tokens = page_tokens
        self._clock = clock
        self.accounts: dict[str, Account] = {}
        self.next_seq = 0

    def create_account(
        self, name: str, account_type: str = "Team", status: str = "Active"
    ) -> Account:
        """Only Team accounts can be created through the API (as the docs say);
        the emulator's seeding endpoint passes the other types."""
        self.next_seq += 1
        account = Account(
            str(uuid.uuid4()),
            self.aws_account_id,
            name,
            account_type,
            status,
            "Pro",
            list(ALL_LICENSES),
            self._clock(),
            self.next_seq,
        )
        self.accounts[account.account_id] = account
        return account

    def account(self, account_id: str) -> Account:
        account = self.accounts.get(account_id)
        if account is None:
            raise NotFoundException(f"Account {account_id} not found.")
        return account

    def list_accounts(
        self,
        name_prefix: str | None,
        user_email: str | None,
        max_results: int | None,
        next_token: str | None,
    ) -> Page[Account]:
        """Filters by name prefix. The emulator models no account users, so a
        UserEmail filter matches no account."""
        matching = Members(
            self.accounts,
            lambda a: (
                (name_prefix is None or a.name.startswith(name_prefix)) and user_email is None
            ),
        )
        listing = f"{self.aws_account_id}/{self.region}/ListAccounts {name_prefix} {user_email}"
        size = max_results or DEFAULT_ACCOUNTS_PAGE_SIZE
        return self._page_tokens.page(listing, matching, size, next_token)

    def update_account(
        self, account_id: str, name: str | None, default_license: str | None
    ) -> Account:
        account = self.account(account_id)
        if name is not None:
            account.name = name
        if default_license is not None:
            account.default_license = default_license
        return account

    def delete_account(self, account_id: str) -> None:
        """An Active account of an Enterprise type has claimed domains or a
        directory that must be released (the account suspended) first: 422.
        Team accounts, and suspended accounts of any type, are deleted."""
        account = self.account(account_id)
        if account.account_type != "Team" and account.status == "Active":
            raise UnprocessableEntityException(
                f"Account {account_id} is an Active {account.account_type} account: release its "
                "claimed domains and directory (suspend it) before deleting it."
            )
        del self.accounts[account_id]

    def snapshot(self) -> dict[str, Any]:
        return {"accounts": [asdict(a) for a in self.accounts.values()], "next_seq": self.next_seq}

    def restore(self, snapshot: dict[str, Any]) -> None:
        self.accounts = {a["account_id"]: Account(**a) for a in snapshot["accounts"]}
        self.next_seq = int(snapshot["next_seq"])


# --------------------------------------------------------------------------
# All state of one emulator

BackendT = TypeVar("BackendT", IdentityBackend, AccountsBackend)


class EmulatorBackend:
    """Every account's and region's state, behind one lock.

    The lock is coarse on purpose: handlers are microseconds long, and one lock
    makes every operation atomic, so concurrent clients never lose a write.
    """

    def __init__(self, clock: Clock = time.time, page_secret: bytes | None = None) -> None:
        self.lock = threading.RLock()
        self._clock = clock
        self.expiration_clock = ExpirationClock(clock)  # docs/contract.md, user-expiration
        self.page_tokens = PageTokens(page_secret)
        self._identity: dict[tuple[str, str], IdentityBackend] = {}
        self._accounts: dict[tuple[str, str], AccountsBackend] = {}
        self._rule_wrappers: list[tuple[type, str, RuleWrapper]] = []

    def identity(self, account_id: str, region: str) -> IdentityBackend:
        key = (account_id, region)
        if key not in self._identity:
            backend = IdentityBackend(account_id, region, self.page_tokens, self._clock)
            self._identity[key] = self._with_wrapped_rules(backend)
        if self.expiration_clock.sweep_due():
            self.expire_users()
        return self._identity[key]

    def expire_users(self) -> list[str]:
        """Deletes every user past its expiration (the ARNs); the admin clock calls it."""
        with self.lock:
            return sweep(list(self._identity.values()), self.expiration_clock)

    def accounts(self, account_id: str, region: str) -> AccountsBackend:
        key = (account_id, region)
        if key not in self._accounts:
            backend = AccountsBackend(account_id, region, self.page_tokens, self._clock)
            self._accounts[key] = self._with_wrapped_rules(backend)
        return self._accounts[key]

    def wrap_rule(self, kind: type, rule: str, wrapper: RuleWrapper) -> None:
        """Replace rule ``rule`` (a method of ``kind``: IdentityBackend or
        AccountsBackend) with ``wrapper(backend, original)`` on every backend of
        this emulator, present and future; the class itself is left alone, so
        other emulators in the same process keep the real rule. The fault seam."""
        if not callable(getattr(kind, rule, None)):
            raise AttributeError(f"{kind.__name__} has no rule {rule!r}")
        with self.lock:
            self._rule_wrappers.append((kind, rule, wrapper))
            for backend in [*self._identity.values(), *self._accounts.values()]:
                if isinstance(backend, kind):
                    setattr(backend, rule, wrapper(backend, getattr(backend, rule)))

    def wrap_page_tokens(self, method: str, wrapper: RuleWrapper) -> None:
        """Replace ``method`` of this emulator's NextToken issuer (``issue``,
        ``position`` or ``page`` of :class:`PageTokens`) with
        ``wrapper(page_tokens, original)``; other emulators keep theirs."""
        if method not in ("issue", "position", "page"):
            raise AttributeError(f"PageTokens has no public method {method!r}")
        tokens = self.page_tokens
        with self.lock:
            setattr(tokens, method, wrapper(tokens, getattr(tokens, method)))

    def _with_wrapped_rules(self, backend: BackendT) -> BackendT:
        for kind, rule, wrapper in self._rule_wrappers:
            if isinstance(backend, kind):
                setattr(backend, rule, wrapper(backend, getattr(backend, rule)))
        return backend

    def reset(self) -> None:
        with self.lock:
            self._identity.clear()
            self._accounts.clear()
            self.expiration_clock.reset()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "format": SNAPSHOT_FORMAT,
                "page_secret": self.page_tokens.secret.hex(),
                "identity": [
                    {"account_id": a, "region": r, "state": b.snapshot()}
                    for (a, r), b in self._identity.items()
                ],
                "accounts": [
                    {"account_id": a, "region": r, "state": b.snapshot()}
                    for (a, r), b in self._accounts.items()
                ],
            }

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Replaces all state; raises KeyError/TypeError/ValueError on a bad snapshot."""
        if snapshot.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"unknown snapshot format {snapshot.get('format')!r}")
        with self.lock:
            self.page_tokens.secret = bytes.fromhex(snapshot["page_secret"])
            self.reset()
            for entry in snapshot["identity"]:
                self.identity(entry["account_id"], entry["region"]).restore(entry["state"])
            for entry in snapshot["accounts"]:
                self.accounts(entry["account_id"], entry["region"]).restore(entry["state"])

    def commit(self, *, wrote: bool = True) -> None:
        """Makes the requests served since the last call durable, before their answer
        is sent (call under the lock; ``wrote=False`` after a read). In memory there is
        nothing to do; ``store.StoredBackend`` writes SQLite, and when the store refuses
        undoes the change in memory and raises :class:`StoreUnwritable`."""

    def store_error(self) -> str | None:
        """Why the store refuses writes (None: it takes them, or there is no store)."""
        return None


class StoreUnwritable(ServiceUnavailableException):
    """The store refused a commit: the request changed nothing, and may be retried."""


SNAPSHOT_FORMAT = "chime-emulator-state/1"
