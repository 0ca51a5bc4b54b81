"""Real resources the suite's requests address, created on the target.

A valid DescribeAppInstanceUser can only succeed against a user that exists;
this module makes such resources (named and tagged with the run id, so a live
target can tell them apart and the ledger can delete them) and pins them into
generated requests. Operations that consume or accumulate state get a fresh
resource per example, so examples cannot disturb each other.
"""

from __future__ import annotations

import copy
import functools
import itertools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import Phase, find, settings

from chime_conformance.run.ledger import RUN_TAG_KEY
from chime_conformance.wire.client import ChimeClient, Exchange

LEX_ALIAS_ARN = "arn:aws:lex:us-east-1:123456789012:bot-alias/ABCDEFGHIJ/KLMNOPQRST"
PINPOINT_ARN = (
    "arn:aws:mobiletargeting:us-east-1:123456789012:apps/0123456789abcdef0123456789abcdef"
)


class PrerequisiteFailed(Exception):
    """A resource the test needs could not be created; says which and why."""

    def __init__(self, what: str, exchange: Exchange) -> None:
        body = exchange.response.body[:300].decode("utf-8", "replace")
        super().__init__(f"could not create the {what} this test needs: {exchange.status} {body}")


class Resources:
    """Creates the resources of this run on the target (thread-safe)."""

    def __init__(self, client: ChimeClient, run_id: str, worker: str = "main") -> None:
        self.client = client
        self.run_id = run_id
        self._prefix = f"{run_id}-{worker}"
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def unique(self, kind: str) -> str:
        """A name no other resource of this run has (valid as id, token and name)."""
        with self._lock:
            return f"{self._prefix}-{kind}{next(self._counter)}"

    def run_tags(self) -> list[dict[str, str]]:
        return [{"Key": RUN_TAG_KEY, "Value": self.run_id}]

    def _create(self, what: str, operation: str, members: Mapping[str, Any]) -> dict[str, Any]:
        exchange = self.client.call(operation, members)
        if not 200 <= exchange.status < 300 or not isinstance(exchange.json, dict):
            raise PrerequisiteFailed(what, exchange)
        return exchange.json

    def app_instance(self, *, tagged: bool = True) -> str:
        """A new AppInstance; ``tagged=False`` leaves all 50 tag slots free."""
        members: dict[str, Any] = {
            "Name": self.unique("app"),
            "ClientRequestToken": self.unique("t"),
        }
        if tagged:
            members["Tags"] = self.run_tags()
        return str(self._create("AppInstance", "CreateAppInstance", members)["AppInstanceArn"])

    def user(self, app_instance_arn: str) -> str:
        user_id = self.unique("user")
        members = {
            "AppInstanceArn": app_instance_arn,
            "AppInstanceUserId": user_id,
            "Name": user_id,
            "ClientRequestToken": self.unique("t"),
            "Tags": self.run_tags(),
        }
        return str(
            self._create("AppInstanceUser", "CreateAppInstanceUser", members)["AppInstanceUserArn"]
        )

    def bot(self, app_instance_arn: str) -> str:
        members = {
            "AppInstanceArn": app_instance_arn,
            "Name": self.unique("bot"),
            "ClientRequestToken": self.unique("t"),
            "Configuration": lex_configuration(),
            "Tags": self.run_tags(),
        }
        return str(
            self._create("AppInstanceBot", "CreateAppInstanceBot", members)["AppInstanceBotArn"]
        )

    def admin(self, app_instance_arn: str) -> str:
        """Promote a new user of ``app_instance_arn``; return the admin's ARN."""
        user_arn = self.user(app_instance_arn)
        members = {"AppInstanceArn": app_instance_arn, "AppInstanceAdminArn": user_arn}
        self._create("AppInstanceAdmin", "CreateAppInstanceAdmin", members)
        return user_arn

    def endpoint(self, user_arn: str) -> str:
        members = {
            "AppInstanceUserArn": user_arn,
            "Name": self.unique("endpoint"),
            "Type": "GCM",
            "ResourceArn": PINPOINT_ARN,
            "EndpointAttributes": {"DeviceToken": self.unique("device")},
            "ClientRequestToken": self.unique("t"),
        }
        return str(
            self._create("AppInstanceUserEndpoint", "RegisterAppInstanceUserEndpoint", members)[
                "EndpointId"
            ]
        )

    def account(self) -> str:
        body = self._create("Account", "CreateAccount", {"Name": self.unique("account")})
        return str(body["Account"]["AccountId"])


def lex_configuration() -> dict[str, Any]:
    """A valid bot Configuration (a Lex V2 alias that answers standard messages)."""
    return {
        "Lex": {
            "LexBotAliasArn": LEX_ALIAS_ARN,
            "LocaleId": "en_US",
            "RespondsTo": "STANDARD_MESSAGES",
        }
    }


@dataclass
class World:
    """One long-lived resource of each kind, shared by read-only examples."""

    app_instance_arn: str
    user_arn: str
    bot_arn: str
    admin_arn: str
    endpoint_id: str
    account_id: str | None  # None when the accounts API is not exercised


def build_world(resources: Resources, *, with_account: bool = True) -> World:
    app_instance_arn = resources.app_instance()
    user_arn = resources.user(app_instance_arn)
    return World(
        app_instance_arn=app_instance_arn,
        user_arn=user_arn,
        bot_arn=resources.bot(app_instance_arn),
        admin_arn=resources.admin(app_instance_arn),
        endpoint_id=resources.endpoint(user_arn),
        account_id=resources.account() if with_account else None,
    )


# --------------------------------------------------------------------------
# Which resources an operation's request must name


def _fresh_user_in_world(r: Resources, w: World) -> dict[str, str]:
    return {"AppInstanceUserArn": r.user(w.app_instance_arn)}


def _fresh_endpoint(r: Resources, w: World) -> dict[str, str]:
    user_arn = r.user(w.app_instance_arn)
    return {"AppInstanceUserArn": user_arn, "EndpointId": r.endpoint(user_arn)}


# Operations that consume or accumulate state: a fresh resource per example.
FRESH: Mapping[str, Callable[[Resources, World], dict[str, str]]] = {
    "DeleteAppInstance": lambda r, w: {"AppInstanceArn": r.app_instance()},
    "CreateAppInstanceUser": lambda r, w: {"AppInstanceArn": r.app_instance()},
    "DeleteAppInstanceUser": _fresh_user_in_world,
    "RegisterAppInstanceUserEndpoint": _fresh_user_in_world,
    "DeregisterAppInstanceUserEndpoint": _fresh_endpoint,
    "DeleteAppInstanceBot": lambda r, w: {"AppInstanceBotArn": r.bot(w.app_instance_arn)},
    "CreateAppInstanceAdmin": lambda r, w: {
        "AppInstanceArn": w.app_instance_arn,
        "AppInstanceAdminArn": r.user(w.app_instance_arn),
    },
    "DeleteAppInstanceAdmin": lambda r, w: {
        "AppInstanceArn": w.app_instance_arn,
        "AppInstanceAdminArn": r.admin(w.app_instance_arn),
    },
    "TagResource": lambda r, w: {"ResourceARN": r.app_instance(tagged=False)},
    "DeleteAccount": lambda r, w: {"AccountId": r.account()},
}


# Members whose value names an existing resource.
RESOURCE_MEMBERS = frozenset(
    {
        "AppInstanceArn",
        "AppInstanceUserArn",
        "AppInstanceBotArn",
        "AppInstanceAdminArn",
        "EndpointId",
        "ResourceARN",
        "AccountId",
    }
)


def shared_members(world: World) -> dict[str, str]:
    """Member → the shared resource that a read-only request names."""
    members = {
        "AppInstanceArn": world.app_instance_arn,
        "AppInstanceUserArn": world.user_arn,
        "AppInstanceBotArn": world.bot_arn,
        "AppInstanceAdminArn": world.admin_arn,
        "EndpointId": world.endpoint_id,
        "ResourceARN": world.app_instance_arn,
    }
    if world.account_id:
        members["AccountId"] = world.account_id
    return members


TOKEN_MEMBER = "ClientRequestToken"


def pinned_members(
    operation: str, input_members: set[str], resources: Resources, world: World
) -> dict[str, str]:
    """The members a valid request of ``operation`` must carry to succeed:
    real resources (fresh ones where the operation consumes state) and a
    never-used ClientRequestToken (a reused token with other parameters is a
    409 by contract)."""
    pinned = {m: v for m, v in shared_members(world).items() if m in input_members}
    if operation in FRESH:
        pinned.update(FRESH[operation](resources, world))
    if TOKEN_MEMBER in input_members:
        pinned[TOKEN_MEMBER] = resources.unique("t")
    return pinned


@functools.cache
def _minimal_members(operation: str) -> dict[str, Any]:
    from chime_conformance import strategies

    # Hypothesis tries the simplest example first; with shrinking off it is
    # returned at once (shrinking Unicode-heavy values takes seconds).
    first_only = settings(max_examples=1, phases=[Phase.generate], database=None, derandomize=True)
    return find(
        strategies.requests_for(operation), lambda request: True, settings=first_only
    ).members


def minimal_members(operation: str) -> dict[str, Any]:
    """A simple valid request of ``operation`` (Hypothesis' first example:
    required members, short values), the same every time; a fresh copy."""
    return copy.deepcopy(_minimal_members(operation))


@dataclass
class Reference:
    """The reference endpoint of a differential run, with its own resources.

    The same generated request goes to both targets; only the members pinned
    to real resources differ (each side names its own)."""

    client: ChimeClient
    resources: Resources
    world: World

    def mirror(
        self, operation: str, members: Mapping[str, Any], pinned: Mapping[str, Any]
    ) -> dict[str, Any]:
        """``members`` with each value pinned on the target replaced by the
        reference's own resource of the same role."""
        input_members = set(members) | set(pinned)
        own = pinned_members(operation, input_members, self.resources, self.world)
        return {
            k: own[k] if k in pinned and k in own and v == pinned[k] else v
            for k, v in members.items()
        }

    def call(
        self, operation: Any, members: Mapping[str, Any], pinned: Mapping[str, Any], **options: Any
    ) -> Exchange:
        name = operation if isinstance(operation, str) else operation.name
        return self.client.call(operation, self.mirror(name, members, pinned), **options)


@dataclass
class Targets:
    """Where a request goes: the target, and the reference if there is one."""

    client: ChimeClient
    reference: Reference | None = None

    def send(
        self, operation: Any, members: Mapping[str, Any], pinned: Mapping[str, Any], **options: Any
    ) -> tuple[Exchange, Exchange | None]:
        """The target's answer and (in a differential run) the reference's."""
        exchange = self.client.call(operation, members, **options)
        if self.reference is None:
            return exchange, None
        return exchange, self.reference.call(operation, members, pinned, **options)
