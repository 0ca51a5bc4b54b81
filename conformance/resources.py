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
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import Phase, find, settings

from chime_conformance.contract import resources as catalogue
from chime_conformance.contract import spec
from chime_conformance.run.ledger import RUN_TAG_KEY
from chime_conformance.wire.client import ChimeClient, Exchange, RequestTimedOut

LEX_ALIAS_ARN = "arn:aws:lex:us-east-1:123456789012:bot-alias/ABCDEFGHIJ/KLMNOPQRST"
TOKEN_MEMBER = "ClientRequestToken"
PINPOINT_ARN = (
    "arn:aws:mobiletargeting:us-east-1:123456789012:apps/0123456789abcdef0123456789abcdef"
)


# Sends of a shared resource's create whose answer was unusable (2xx, unreadable)
PREREQUISITE_ATTEMPTS = 3


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

    @property
    def name_prefix(self) -> str:
        """What every name this run gives starts with (the sweep's key)."""
        return self._prefix

    def run_tags(self) -> list[dict[str, str]]:
        return [{"Key": RUN_TAG_KEY, "Value": self.run_id}]

    def create(
        self, kind: str, parent: Mapping[str, str] | None = None, *, tagged: bool = True
    ) -> dict[str, str]:
        """A new resource of ``kind`` (in the resource at address ``parent``),
        named and tagged with the run id; its address. ``tagged=False`` leaves
        all 50 tag slots free."""
        shape = catalogue.kind(kind)
        op = spec.operation(shape.create)
        properties = op.input_schema["properties"]
        members: dict[str, Any] = {m: v for m, v in (parent or {}).items() if m in properties}
        if "Name" in properties:
            members["Name"] = self.unique(kind)
        if TOKEN_MEMBER in properties:
            members[TOKEN_MEMBER] = self.unique("t")
        if tagged and shape.taggable:
            members["Tags"] = self.run_tags()
        if shape.arn_of:  # it names another resource (an admin: a new user to promote)
            named = self.create(shape.arn_of[0], parent)
            members[shape.member] = named[catalogue.kind(shape.arn_of[0]).member]
        members.update(CREATE_VALUES.get(kind, _nothing)(self))
        missing = set(op.input_schema["required"]) - set(members)
        if missing:  # what no one said: the simplest valid values
            members.update({m: v for m, v in minimal_members(op.name).items() if m in missing})
        return self._send_create(shape, op, members)

    def _send_create(self, shape: Any, op: Any, members: dict[str, Any]) -> dict[str, str]:
        """The created resource's address. A refusal (not 2xx) is the
        target's answer: :class:`PrerequisiteFailed` at once. An unusable 2xx
        answer (truncated, not JSON, without the address) is sent again, at
        most :data:`PREREQUISITE_ATTEMPTS` times in all: the same token makes
        a tokened create idempotent, and an untokened one is reconciled first
        (what the unreadable answer made is found by name and deleted). A
        tokened create that got no answer in time is sent again too."""
        tokened = TOKEN_MEMBER in members
        for attempt in range(PREREQUISITE_ATTEMPTS):
            last = attempt + 1 == PREREQUISITE_ATTEMPTS
            sent_at = time.time()
            try:
                exchange = self.client.call(op, members)
            except RequestTimedOut:  # it may have been made: only a token makes a resend safe
                if last or not tokened:
                    raise
                continue
            if not 200 <= exchange.status < 300:
                break
            answer = exchange.json if isinstance(exchange.json, dict) else None
            try:
                address = shape.created_address(members, answer) if answer is not None else None
            except (KeyError, TypeError, IndexError):
                address = None
            if address is not None:
                return {member: str(value) for member, value in address.items()}
            if not last and not tokened:
                self.client.reconcile_lost(op.name, members, sent_at)
        raise PrerequisiteFailed(shape.title, exchange)

    def write(self, operation: str, members: Mapping[str, Any]) -> dict[str, Any]:
        """Send a valid write the test needs done (PrerequisiteFailed if it
        fails, naming ``operation``); its answer."""
        exchange = self.client.call(operation, dict(members))
        if not 200 <= exchange.status < 300:
            raise PrerequisiteFailed(operation, exchange)
        return exchange.json if isinstance(exchange.json, dict) else {}

    def app_instance(self, *, tagged: bool = True) -> str:
        """A new AppInstance; ``tagged=False`` leaves all 50 tag slots free."""
        return self.create("app-instance", tagged=tagged)["AppInstanceArn"]

    def user(self, app_instance_arn: str) -> str:
        return self.create("user", {"AppInstanceArn": app_instance_arn})["AppInstanceUserArn"]

    def bot(self, app_instance_arn: str) -> str:
        return self.create("bot", {"AppInstanceArn": app_instance_arn})["AppInstanceBotArn"]

    def admin(self, app_instance_arn: str) -> str:
        """Promote a new user of ``app_instance_arn``; return the admin's ARN."""
        return self.create("admin", {"AppInstanceArn": app_instance_arn})["AppInstanceAdminArn"]

    def endpoint(self, user_arn: str) -> str:
        return self.create("endpoint", {"AppInstanceUserArn": user_arn})["EndpointId"]

    def account(self) -> str:
        return self.create("account")["AccountId"]

    def fresh(self, kind: str, world: World) -> dict[str, str]:
        """A new resource of ``kind`` for one example to consume: in the
        world's parent when that has no parent itself (an AppInstance), else
        in a fresh parent (an endpoint gets a new user), so the world's own
        resources never gather what examples make."""
        shape = catalogue.kind(kind)
        if shape.parent is None:
            return self.create(kind)
        if catalogue.kind(shape.parent).parent is None:
            return self.create(kind, world.addresses[shape.parent])
        return self.create(kind, self.fresh(shape.parent, world))


def _nothing(resources: Resources) -> dict[str, Any]:
    return {}


def _user_values(resources: Resources) -> dict[str, Any]:
    user_id = resources.unique("user")
    return {"AppInstanceUserId": user_id, "Name": user_id}


# What a valid create needs beyond its parent, a name, a token and the run's
# tags: ids the caller chooses, and values only a person can supply.
CREATE_VALUES: Mapping[str, Callable[[Resources], dict[str, Any]]] = {
    "user": _user_values,
    "bot": lambda r: {"Configuration": lex_configuration()},
    "endpoint": lambda r: {
        "Type": "GCM",
        "ResourceArn": PINPOINT_ARN,
        "EndpointAttributes": {"DeviceToken": r.unique("device")},
    },
}


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
    """One long-lived resource of each kind, shared by read-only examples:
    each kind's address, by kind (the accounts API's only when exercised)."""

    addresses: dict[str, dict[str, str]]

    def _member(self, kind: str) -> str:
        return self.addresses[kind][catalogue.kind(kind).member]

    @property
    def app_instance_arn(self) -> str:
        return self._member("app-instance")

    @property
    def user_arn(self) -> str:
        return self._member("user")

    @property
    def bot_arn(self) -> str:
        return self._member("bot")

    @property
    def admin_arn(self) -> str:
        return self._member("admin")

    @property
    def endpoint_id(self) -> str:
        return self._member("endpoint")

    @property
    def account_id(self) -> str | None:  # None when the accounts API is not exercised
        return self._member("account") if "account" in self.addresses else None


def build_world(resources: Resources, *, with_account: bool = True) -> World:
    """One resource of each kind, parents first (``with_account=False``: none
    of the accounts API's)."""
    addresses: dict[str, dict[str, str]] = {}
    for kind in catalogue.KINDS.values():
        if not with_account and spec.operation(kind.create).api == spec.ACCOUNTS:
            continue
        parent = addresses[kind.parent] if kind.parent else None
        addresses[kind.name] = resources.create(kind.name, parent)
    return World(addresses)


# --------------------------------------------------------------------------
# Which resources an operation's request must name


def _fresh_user_in_world(r: Resources, w: World) -> dict[str, str]:
    return {"AppInstanceUserArn": r.user(w.app_instance_arn)}


def _fresh(kind: str) -> Callable[[Resources, World], dict[str, str]]:
    return lambda r, w: r.fresh(kind, w)


# Operations that consume state (each kind's delete: a fresh resource of the
# kind) or accumulate it (below): a fresh resource per example.
FRESH: Mapping[str, Callable[[Resources, World], dict[str, str]]] = {
    **{k.delete: _fresh(k.name) for k in catalogue.KINDS.values()},
    "CreateAppInstanceUser": lambda r, w: {"AppInstanceArn": r.app_instance()},
    "RegisterAppInstanceUserEndpoint": _fresh_user_in_world,
    "CreateAppInstanceAdmin": lambda r, w: {
        "AppInstanceArn": w.app_instance_arn,
        "AppInstanceAdminArn": r.user(w.app_instance_arn),
    },
    "TagResource": lambda r, w: {catalogue.TAGGING_MEMBER: r.app_instance(tagged=False)},
}


# Members whose value names an existing resource.
RESOURCE_MEMBERS = frozenset(catalogue.naming_members())


def fresh_targets(
    members: Iterable[str], r: Resources, given: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Resources for every member of ``members`` that names one: those ``given``,
    new ones for the rest, made for this call alone and in one another (the
    user in the AppInstance, the endpoint of the user; an admin member names a
    user of the AppInstance, not yet promoted; the tagging member the AppInstance)."""
    wanted = set(members) & RESOURCE_MEMBERS
    made: dict[str, str] = dict(given or {})
    if "AccountId" in wanted and "AccountId" not in made:
        made["AccountId"] = r.account()
    if wanted - {"AccountId"} - set(made):
        instance = made.get("AppInstanceArn") or r.app_instance()
        made.setdefault("AppInstanceArn", instance)
        made.setdefault(catalogue.TAGGING_MEMBER, instance)
        if wanted & {"AppInstanceUserArn", "EndpointId"} and "AppInstanceUserArn" not in made:
            made["AppInstanceUserArn"] = r.user(instance)
        if "EndpointId" in wanted and "EndpointId" not in made:
            made["EndpointId"] = r.endpoint(made["AppInstanceUserArn"])
        if "AppInstanceBotArn" in wanted and "AppInstanceBotArn" not in made:
            made["AppInstanceBotArn"] = r.bot(instance)
        if "AppInstanceAdminArn" in wanted and "AppInstanceAdminArn" not in made:
            made["AppInstanceAdminArn"] = r.user(instance)
    return {member: value for member, value in made.items() if member in wanted}


def shared_members(world: World) -> dict[str, str]:
    """Member → the shared resource that a read-only request names."""
    members = {m: v for address in world.addresses.values() for m, v in address.items()}
    taggable = next(k for k in catalogue.KINDS.values() if k.taggable)
    members[catalogue.TAGGING_MEMBER] = world.addresses[taggable.name][taggable.member]
    return members


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


NAME = "Name"


def stamped(op: Any, members: Mapping[str, Any], prefix: str) -> Mapping[str, Any]:
    """``members`` of a create whose generated ``Name`` now starts with the
    run's ``prefix`` (what the sweep finds a resource by when its create's
    answer was lost), when that changes nothing the request is judged by: the
    same violations (none for a valid request), none of them of ``Name``.
    Otherwise ``members`` as drawn: a name at its length bound, or one under
    test, is sent as it is (a lost answer to it is reported, not swept)."""
    name = members.get(NAME)
    if not isinstance(name, str) or catalogue.by_create(op.name) is None:
        return members
    before = spec.violations_of(op, members)
    if any(v.member.split(".")[0] == NAME for v in before):
        return members
    candidate = {**members, NAME: f"{prefix}-{name}"}
    return candidate if spec.violations_of(op, candidate) == before else members


@dataclass
class Targets:
    """Where a request goes: the target, and the reference if there is one.
    A create's generated name carries the run's prefix where it can
    (:func:`stamped`); ``stamp=False`` sends it as drawn (a probe of Name's
    own bounds)."""

    client: ChimeClient
    reference: Reference | None = None
    name_prefix: str | None = None

    def send(
        self,
        operation: Any,
        members: Mapping[str, Any],
        pinned: Mapping[str, Any],
        *,
        stamp: bool = True,
        **options: Any,
    ) -> tuple[Exchange, Exchange | None]:
        """The target's answer and (in a differential run) the reference's."""
        if stamp and self.name_prefix is not None and NAME not in pinned:
            op = spec.operation(operation) if isinstance(operation, str) else operation
            members = stamped(op, members, self.name_prefix)
        exchange = self.client.call(operation, members, **options)
        if self.reference is None:
            return exchange, None
        return exchange, self.reference.call(operation, members, pinned, **options)
