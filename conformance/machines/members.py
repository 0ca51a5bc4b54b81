"""What lives inside AppInstances, through random lifecycles: users (with
expiration settings), bots, admins, endpoints, and the cascade of deleting the
AppInstance that holds them."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from chime_conformance import checks, strategies

from ..resources import PINPOINT_ARN
from .harness import Machine, body_of, check, page_sizes, step
from .model import BotRecord, EndpointKey, EndpointRecord, UserRecord

MAX_APP_INSTANCES = 3


def optional_metadata() -> Any:
    return st.none() | strategies.metadata(max_size=200)


def endpoint_names() -> Any:
    return st.none() | strategies.user_names(max_size=40)


class MembersMachine(Machine):
    """Predicts the users, bots, admins and endpoints of the AppInstances it
    creates: each describes and lists as written, demoting keeps the member,
    and deleting an AppInstance makes everything in it unreadable."""

    app_instances = Bundle("app_instances")
    users = Bundle("users")
    bots = Bundle("bots")
    endpoints = Bundle("endpoints")

    def __init__(self) -> None:
        super().__init__()
        self.app_instances_live: dict[str, set[str]] = {}  # AppInstance → its admins
        self.users_live: dict[str, UserRecord] = {}
        self.bots_live: dict[str, BotRecord] = {}
        self.endpoints_live: dict[EndpointKey, EndpointRecord] = {}
        # what must stay unreadable: (operation, members, what)
        self.gone: list[tuple[str, dict[str, str], str]] = []

    # -- AppInstances --------------------------------------------------------------

    @initialize(target=app_instances, size=page_sizes())
    @step
    def first_app_instance(self, size: int) -> Any:
        """Two AppInstances from the start: the invariants read the whole model
        after every step, so a write that touches another than its target shows."""
        self.page_size = size
        return multiple(self._new_app_instance(), self._new_app_instance())

    @precondition(lambda self: len(self.app_instances_live) < MAX_APP_INSTANCES)
    @rule(target=app_instances)
    @step
    def another_app_instance(self) -> str:
        return self._new_app_instance()

    def _new_app_instance(self) -> str:
        request = {
            "Name": self.unique("app"),
            "ClientRequestToken": self.unique("t"),
            "Tags": [self.run_tag()],
        }
        arn = str(self.scenario.ok("CreateAppInstance", request)["AppInstanceArn"])
        self.app_instances_live[arn] = set()
        return arn

    @rule(size=page_sizes())
    @step
    def change_page_size(self, size: int) -> None:
        self.page_size = size

    @rule(app_instance=consumes(app_instances))
    @step
    def delete_app_instance(self, app_instance: str) -> None:
        """Everything in it becomes unreadable, in time (bounded polling), even
        what was read just before (a cache must not outlive the cascade)."""
        self._read_children(app_instance)
        self.scenario.ok("DeleteAppInstance", {"AppInstanceArn": app_instance})
        self._cascade(app_instance)

    def _read_children(self, app_instance: str) -> None:
        """Read (and check) every member of ``app_instance`` the model holds."""
        for arn, user in self.users_live.items():
            if user.app_instance_arn == app_instance:
                self._describes(
                    "DescribeAppInstanceUser", {"AppInstanceUserArn": arn}, "AppInstanceUser", user
                )
        for arn, bot in self.bots_live.items():
            if bot.app_instance_arn == app_instance:
                self._describes(
                    "DescribeAppInstanceBot", {"AppInstanceBotArn": arn}, "AppInstanceBot", bot
                )
        for key, endpoint in self.endpoints_live.items():
            if self.users_live[key.user_arn].app_instance_arn == app_instance:
                self._describes(
                    "DescribeAppInstanceUserEndpoint",
                    key.members,
                    "AppInstanceUserEndpoint",
                    endpoint,
                )

    def _cascade(self, app_instance: str) -> None:
        admins = self.app_instances_live.pop(app_instance)
        cascade = [
            ("DescribeAppInstance", {"AppInstanceArn": app_instance}, "a deleted AppInstance")
        ]
        cascade += [
            (
                "DescribeAppInstanceAdmin",
                {"AppInstanceArn": app_instance, "AppInstanceAdminArn": admin},
                "an admin of a deleted AppInstance",
            )
            for admin in sorted(admins)
        ]
        cascade += self._remove_users(app_instance) + self._remove_bots(app_instance)
        for operation, members, what in cascade:
            self.gone_within_bound(operation, members, check=checks.CASCADE, what=what)
        self.gone += cascade

    def _remove_users(self, app_instance: str) -> list[tuple[str, dict[str, str], str]]:
        removed = []
        for arn in [a for a, u in self.users_live.items() if u.app_instance_arn == app_instance]:
            removed += self._forget_user(arn, "of a deleted AppInstance")
        return removed

    def _remove_bots(self, app_instance: str) -> list[tuple[str, dict[str, str], str]]:
        removed = []
        for arn in [a for a, b in self.bots_live.items() if b.app_instance_arn == app_instance]:
            del self.bots_live[arn]
            removed.append(
                (
                    "DescribeAppInstanceBot",
                    {"AppInstanceBotArn": arn},
                    "a bot of a deleted AppInstance",
                )
            )
        return removed

    def _forget_user(self, arn: str, why: str) -> list[tuple[str, dict[str, str], str]]:
        user = self.users_live.pop(arn)
        admins = self.app_instances_live.get(user.app_instance_arn, set())
        admins.discard(arn)
        forgotten = [("DescribeAppInstanceUser", {"AppInstanceUserArn": arn}, f"a user {why}")]
        for key in [k for k in self.endpoints_live if k.user_arn == arn]:
            del self.endpoints_live[key]
            forgotten.append(
                ("DescribeAppInstanceUserEndpoint", key.members, f"an endpoint of a user {why}")
            )
        return forgotten

    def _revive(self, operation: str, members: dict[str, str]) -> None:
        """A resource deleted before exists again under the same address."""
        self.gone = [g for g in self.gone if (g[0], g[1]) != (operation, members)]

    # -- users ----------------------------------------------------------------------

    @rule(
        target=users,
        app_instance=app_instances,
        user_id=strategies.app_instance_user_ids(),
        name=strategies.user_names(max_size=40),
        metadata=optional_metadata(),
        expiration=st.none() | strategies.expiration_settings(),
    )
    @step
    def create_user(
        self,
        app_instance: str,
        user_id: str,
        name: str,
        metadata: str | None,
        expiration: dict[str, Any] | None,
    ) -> Any:
        taken = f"{app_instance}/user/{user_id}" in self.users_live
        request = {
            "AppInstanceArn": app_instance,
            "AppInstanceUserId": user_id,
            "Name": name,
            "ClientRequestToken": self.unique("t"),
            **({"Metadata": metadata} if metadata is not None else {}),
            **({"ExpirationSettings": expiration} if expiration is not None else {}),
        }
        if taken:
            self.conflict(
                "CreateAppInstanceUser", request, check=checks.DUPLICATE_REJECTED, fact=_DUPLICATE
            )
            return multiple()
        arn = str(self.scenario.ok("CreateAppInstanceUser", request)["AppInstanceUserArn"])
        self.users_live[arn] = UserRecord(arn, app_instance, user_id, name, metadata, expiration)
        self._revive("DescribeAppInstanceUser", {"AppInstanceUserArn": arn})  # an id reused
        return arn

    @rule(user=users, name=strategies.user_names(max_size=40))
    @step
    def create_user_with_a_taken_id(self, user: str, name: str) -> None:
        record = self.users_live.get(user)
        if record is None:
            return
        request = {
            "AppInstanceArn": record.app_instance_arn,
            "AppInstanceUserId": record.user_id,
            "Name": name,
            "ClientRequestToken": self.unique("t"),
        }
        self.conflict(
            "CreateAppInstanceUser", request, check=checks.DUPLICATE_REJECTED, fact=_DUPLICATE
        )

    @rule(
        user=users,
        name=strategies.user_names(max_size=40),
        metadata=strategies.metadata(max_size=200),
    )
    @step
    def update_user(self, user: str, name: str, metadata: str) -> None:
        members = {"AppInstanceUserArn": user, "Name": name, "Metadata": metadata}
        record = self.users_live.get(user)
        if record is None:
            self.missing(
                "UpdateAppInstanceUser",
                members,
                check=checks.DELETE_IS_FINAL,
                what="a deleted user",
            )
            return
        self.scenario.ok("UpdateAppInstanceUser", members)
        record.name, record.metadata = name, metadata

    @rule(user=users, expiration=st.none() | strategies.expiration_settings())
    @step
    def put_expiration_settings(self, user: str, expiration: dict[str, Any] | None) -> None:
        """Put replaces the settings; a Put without them clears them."""
        members = {
            "AppInstanceUserArn": user,
            **({"ExpirationSettings": expiration} if expiration is not None else {}),
        }
        record = self.users_live.get(user)
        if record is None:
            self.missing(
                "PutAppInstanceUserExpirationSettings",
                members,
                check=checks.DELETE_IS_FINAL,
                what="a deleted user",
            )
            return
        self.scenario.ok("PutAppInstanceUserExpirationSettings", members)
        record.expiration = expiration

    @rule(user=consumes(users))
    @step
    def delete_user(self, user: str) -> None:
        """Its endpoints and its admin role go with it."""
        if user not in self.users_live:
            self.missing(
                "DeleteAppInstanceUser",
                {"AppInstanceUserArn": user},
                check=checks.DELETE_IS_FINAL,
                what="a deleted user",
            )
            return
        self.scenario.ok("DeleteAppInstanceUser", {"AppInstanceUserArn": user})
        removed = self._forget_user(user, "that was deleted")
        for operation, members, what in removed:
            self.gone_within_bound(operation, members, check=checks.DELETE_IS_FINAL, what=what)
        self.gone += removed

    # -- bots -----------------------------------------------------------------------

    @rule(
        target=bots,
        app_instance=app_instances,
        name=strategies.resource_names(max_size=40),
        metadata=optional_metadata(),
        configuration=strategies.bot_configurations(),
    )
    @step
    def create_bot(
        self, app_instance: str, name: str, metadata: str | None, configuration: dict[str, Any]
    ) -> str:
        request = {
            "AppInstanceArn": app_instance,
            "Name": name,
            "ClientRequestToken": self.unique("t"),
            "Configuration": configuration,
            **({"Metadata": metadata} if metadata is not None else {}),
        }
        arn = str(self.scenario.ok("CreateAppInstanceBot", request)["AppInstanceBotArn"])
        self.bots_live[arn] = BotRecord(arn, app_instance, name, metadata, configuration)
        return arn

    @rule(
        bot=bots,
        name=strategies.resource_names(max_size=40),
        metadata=strategies.metadata(max_size=200),
        configuration=st.none() | strategies.bot_configurations(),
    )
    @step
    def update_bot(
        self, bot: str, name: str, metadata: str, configuration: dict[str, Any] | None
    ) -> None:
        """Without a Configuration the bot keeps its own."""
        members = {
            "AppInstanceBotArn": bot,
            "Name": name,
            "Metadata": metadata,
            **({"Configuration": configuration} if configuration is not None else {}),
        }
        record = self.bots_live.get(bot)
        if record is None:
            self.missing(
                "UpdateAppInstanceBot", members, check=checks.DELETE_IS_FINAL, what="a deleted bot"
            )
            return
        self.scenario.ok("UpdateAppInstanceBot", members)
        record.name, record.metadata = name, metadata
        record.configuration = configuration or record.configuration

    @rule(bot=consumes(bots))
    @step
    def delete_bot(self, bot: str) -> None:
        members = {"AppInstanceBotArn": bot}
        record = self.bots_live.pop(bot, None)
        if record is None:
            self.missing(
                "DeleteAppInstanceBot", members, check=checks.DELETE_IS_FINAL, what="a deleted bot"
            )
            return
        self.scenario.ok("DeleteAppInstanceBot", members)
        self.app_instances_live[record.app_instance_arn].discard(bot)
        self.gone_within_bound(
            "DescribeAppInstanceBot", members, check=checks.DELETE_IS_FINAL, what="a deleted bot"
        )
        self.gone.append(("DescribeAppInstanceBot", members, "a deleted bot"))

    # -- admins ---------------------------------------------------------------------

    def _member(self, arn: str) -> UserRecord | BotRecord | None:
        return self.users_live.get(arn) or self.bots_live.get(arn)

    @rule(app_instance=app_instances, member=st.one_of(users, bots))
    @step
    def promote(self, app_instance: str, member: str) -> None:
        """Only a live user or bot of the same AppInstance can become its admin."""
        members = {"AppInstanceArn": app_instance, "AppInstanceAdminArn": member}
        record = self._member(member)
        if app_instance not in self.app_instances_live:
            self.missing(
                "CreateAppInstanceAdmin",
                members,
                check=checks.DELETE_IS_FINAL,
                what="a deleted AppInstance",
            )
        elif record is None or record.app_instance_arn != app_instance:
            self.refused(
                "CreateAppInstanceAdmin", members, check=checks.ADMINS, fact=_SAME_INSTANCE
            )
        else:
            self.scenario.ok("CreateAppInstanceAdmin", members)
            self.app_instances_live[app_instance].add(member)
            self._revive("DescribeAppInstanceAdmin", members)

    @rule(member=st.one_of(users, bots))
    @step
    def demote(self, member: str) -> None:
        """Demotion removes the admin role and keeps the user or bot."""
        record = self._member(member)
        if record is None or member not in self.app_instances_live[record.app_instance_arn]:
            return
        members = {"AppInstanceArn": record.app_instance_arn, "AppInstanceAdminArn": member}
        self.scenario.ok("DeleteAppInstanceAdmin", members)
        self.app_instances_live[record.app_instance_arn].discard(member)
        self.gone_within_bound(
            "DescribeAppInstanceAdmin",
            members,
            check=checks.DELETE_IS_FINAL,
            what="a demoted admin",
        )
        self.gone.append(("DescribeAppInstanceAdmin", members, "a demoted admin"))

    # -- endpoints ------------------------------------------------------------------

    @rule(
        target=endpoints,
        user=users,
        name=endpoint_names(),
        kind=st.sampled_from(["APNS", "APNS_SANDBOX", "GCM"]),
        attributes=strategies.endpoint_attributes(),
        allow_messages=st.sampled_from(["ALL", "NONE"]),
    )
    @step
    def register_endpoint(
        self,
        user: str,
        name: str | None,
        kind: str,
        attributes: dict[str, str],
        allow_messages: str,
    ) -> Any:
        request = {
            "AppInstanceUserArn": user,
            "Type": kind,
            "ResourceArn": PINPOINT_ARN,
            "EndpointAttributes": attributes,
            "ClientRequestToken": self.unique("t"),
            "AllowMessages": allow_messages,
            **({"Name": name} if name is not None else {}),
        }
        if user not in self.users_live:
            self.missing(
                "RegisterAppInstanceUserEndpoint",
                request,
                check=checks.DELETE_IS_FINAL,
                what="a deleted user",
            )
            return multiple()
        endpoint_id = str(
            self.scenario.ok("RegisterAppInstanceUserEndpoint", request)["EndpointId"]
        )
        key = EndpointKey(user, endpoint_id)
        self.endpoints_live[key] = EndpointRecord(key, request, name, allow_messages)
        return key

    @rule(endpoint=endpoints)
    @step
    def replay_register_endpoint(self, endpoint: EndpointKey) -> None:
        """The same token and parameters: the same endpoint, no second one."""
        record = self.endpoints_live.get(endpoint)
        if record is None:
            return
        replay = self.scenario.call("RegisterAppInstanceUserEndpoint", record.register_request)
        self.expect(
            replay,
            body_of(replay, "EndpointId") == endpoint.endpoint_id,
            check=checks.IDEMPOTENCY,
            fact="RegisterAppInstanceUserEndpoint replayed with its ClientRequestToken and "
            "parameters returns the same endpoint (docs/contract.md idempotency)",
            received=body_of(replay, "EndpointId"),
            documented=endpoint.endpoint_id,
        )

    @rule(
        endpoint=endpoints,
        name=endpoint_names(),
        allow_messages=st.none() | st.sampled_from(["ALL", "NONE"]),
    )
    @step
    def update_endpoint(
        self, endpoint: EndpointKey, name: str | None, allow_messages: str | None
    ) -> None:
        """What the update leaves out stays as it was."""
        members = {
            **endpoint.members,
            **({"Name": name} if name is not None else {}),
            **({"AllowMessages": allow_messages} if allow_messages is not None else {}),
        }
        record = self.endpoints_live.get(endpoint)
        if record is None:
            self.missing(
                "UpdateAppInstanceUserEndpoint",
                members,
                check=checks.DELETE_IS_FINAL,
                what="a deregistered endpoint",
            )
            return
        self.scenario.ok("UpdateAppInstanceUserEndpoint", members)
        record.name = name if name is not None else record.name
        record.allow_messages = allow_messages or record.allow_messages

    @rule(endpoint=consumes(endpoints))
    @step
    def deregister_endpoint(self, endpoint: EndpointKey) -> None:
        if self.endpoints_live.pop(endpoint, None) is None:
            self.missing(
                "DeregisterAppInstanceUserEndpoint",
                endpoint.members,
                check=checks.DELETE_IS_FINAL,
                what="a deregistered endpoint",
            )
            return
        self.scenario.ok("DeregisterAppInstanceUserEndpoint", endpoint.members)
        what = "a deregistered endpoint"
        self.gone_within_bound(
            "DescribeAppInstanceUserEndpoint",
            endpoint.members,
            check=checks.DELETE_IS_FINAL,
            what=what,
        )
        self.gone.append(("DescribeAppInstanceUserEndpoint", endpoint.members, what))

    # -- invariants -------------------------------------------------------------------

    @invariant()
    @check
    def members_describe_as_modelled(self) -> None:
        for arn, user in self.users_live.items():
            self._describes(
                "DescribeAppInstanceUser", {"AppInstanceUserArn": arn}, "AppInstanceUser", user
            )
        for arn, bot in self.bots_live.items():
            self._describes(
                "DescribeAppInstanceBot", {"AppInstanceBotArn": arn}, "AppInstanceBot", bot
            )
        for key, endpoint in self.endpoints_live.items():
            self._describes(
                "DescribeAppInstanceUserEndpoint", key.members, "AppInstanceUserEndpoint", endpoint
            )

    def _describes(
        self,
        operation: str,
        members: dict[str, str],
        key: str,
        record: UserRecord | BotRecord | EndpointRecord,
    ) -> None:
        described = self.scenario.call(operation, members)
        actual = body_of(described, key) or {}
        self.matches(described, actual, record.describes_as(), what=key)
        self.timestamps_move_forward(described, actual, record.seen, what=key)

    @invariant()
    @check
    def admins_describe_as_modelled(self) -> None:
        for app_instance, admins in self.app_instances_live.items():
            for admin in sorted(admins):
                members = {"AppInstanceArn": app_instance, "AppInstanceAdminArn": admin}
                described = self.scenario.call("DescribeAppInstanceAdmin", members)
                got = body_of(described, "AppInstanceAdmin", "Admin", "Arn")
                self.expect(
                    described,
                    got == admin,
                    check=checks.READ_AFTER_WRITE,
                    fact="a promoted user or bot describes as an admin of its AppInstance",
                    received=got,
                    documented=admin,
                )

    @invariant()
    @check
    def lists_show_exactly_the_model(self) -> None:
        for app_instance, admins in self.app_instances_live.items():
            scope = {"AppInstanceArn": app_instance}
            users = {a: u for a, u in self.users_live.items() if u.app_instance_arn == app_instance}
            bots = {a: b for a, b in self.bots_live.items() if b.app_instance_arn == app_instance}
            self._lists(
                "ListAppInstanceUsers", scope, "AppInstanceUsers", "AppInstanceUserArn", users
            )
            self._lists("ListAppInstanceBots", scope, "AppInstanceBots", "AppInstanceBotArn", bots)
            self.walk(
                "ListAppInstanceAdmins",
                scope,
                "AppInstanceAdmins",
                lambda item: (item.get("Admin") or {}).get("Arn"),
                expected=dict.fromkeys(admins),
            )
        for user in self.users_live:
            endpoints = {
                k.endpoint_id: e for k, e in self.endpoints_live.items() if k.user_arn == user
            }
            scope = {"AppInstanceUserArn": user}
            self._lists(
                "ListAppInstanceUserEndpoints",
                scope,
                "AppInstanceUserEndpoints",
                "EndpointId",
                endpoints,
            )

    def _lists(
        self,
        operation: str,
        scope: dict[str, str],
        items_key: str,
        key: str,
        expected: dict[str, Any],
    ) -> None:
        listed = self.walk(
            operation, scope, items_key, lambda item: item.get(key), expected=expected
        )
        for item_key, item in listed.items():
            if item_key in expected:
                self.matches(
                    self.log.exchanges[-1],
                    item,
                    expected[item_key].lists_as(),
                    what=f"{operation} item",
                )

    @precondition(lambda self: bool(self.gone))
    @invariant()
    @check
    def deleted_members_stay_unreadable(self) -> None:
        for operation, members, what in self.gone:
            self.missing(operation, members, check=checks.DELETE_IS_FINAL, what=what)

    def leftovers(self) -> list[tuple[str, dict[str, Any]]]:
        return [("DeleteAppInstance", {"AppInstanceArn": arn}) for arn in self.app_instances_live]


_DUPLICATE = (
    "CreateAppInstanceUser with a taken AppInstanceUserId is refused "
    "(docs/contract.md duplicates: 409 ConflictException)"
)
_SAME_INSTANCE = (
    "only live users and bots of the same AppInstance can be promoted (docs/contract.md admins)"
)
