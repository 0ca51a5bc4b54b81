"""The resource catalogue: every kind of resource the two APIs manage, once.

A :class:`Kind` names what only a person can say: its four operations
(create, describe, list, delete), its parent kind, the shape of its ARN and
where a List answer keeps its identifier. The rest is read from the spec:

- its *address*, the members that name one resource: the delete operation's
  required members (an admin: ``AppInstanceArn`` and ``AppInstanceAdminArn``);
- its own *member*, the one address member its parent's address lacks;
- where a create's answer holds the new resource's address: the spec's link
  from the create operation to the delete operation;
- the List answer's member holding the items (its one array member), and the
  List request (the parent's address);
- whether it is *taggable*: its create operation takes ``Tags``.

The ledger, the sweep, the ARN checks, the strategies and the suite's
resource fixtures derive their tables from here.

How to add a resource kind (the files it touches, besides the spec, whose
operations for the kind come first: see "How to add an operation"):

1. here, one :class:`Kind` in :data:`KINDS`;
2. the emulator's ``models.py`` (its state and rules) and ``responses.py``
   (its handlers);
3. ``conformance/resources.py``, only if a valid create needs values the
   strategies cannot make (a Lex bot alias, a Pinpoint application).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from chime_conformance.contract import spec

__all__ = [
    "KINDS",
    "TAGGING_MEMBER",
    "Kind",
    "arn_members",
    "by_create",
    "by_delete",
    "clean_up_order",
    "kind",
    "naming_members",
]

UUID = "{uuid}"  # in an ARN's shape: an id the service issues (a UUID)


@dataclass(frozen=True)
class Kind:
    """One kind of resource: what the spec cannot say about it."""

    name: str
    create: str
    describe: str
    list: str
    delete: str
    parent: str | None = None
    # The part of its ARN below the parent's ("user/{AppInstanceUserId}": the
    # member the caller gives; "{uuid}": an id the service issues); for a kind
    # without a parent, the resource part after "arn:aws:chime:region:account:".
    arn: str | None = None
    # For a kind without an ARN of its own whose member holds another kind's
    # ARN: those kinds (an admin is named by its user's or bot's ARN).
    arn_of: tuple[str, ...] = ()
    # The path to its identifier in an item of its List answer; (member,) if None.
    listed_as: tuple[str, ...] | None = None

    @functools.cached_property
    def address(self) -> tuple[str, ...]:
        """The members that name one resource of this kind (sorted)."""
        return tuple(sorted(spec.operation(self.delete).input_schema["required"]))

    @functools.cached_property
    def member(self) -> str:
        """The address member that is this kind's own (not its parent's)."""
        inherited = set(kind(self.parent).address) if self.parent else set()
        (own,) = (m for m in self.address if m not in inherited)
        return own

    @property
    def identifier_path(self) -> tuple[str, ...]:
        """Where a List item holds the identifier (the value of :attr:`member`)."""
        return self.listed_as or (self.member,)

    @functools.cached_property
    def items_member(self) -> str:
        """The member of the List answer that holds the items."""
        properties = (spec.operation(self.list).response_schema or {}).get("properties", {})
        (items,) = (name for name, schema in properties.items() if schema.get("type") == "array")
        return items

    @functools.cached_property
    def taggable(self) -> bool:
        """Whether its create operation takes Tags (and so TagResource takes its ARN)."""
        return "Tags" in spec.operation(self.create).input_schema["properties"]

    @property
    def arn_kinds(self) -> tuple[str, ...]:
        """The kinds whose ARN its member may hold (its own, or :attr:`arn_of`)."""
        return (self.name,) if self.arn else self.arn_of

    @property
    def arn_id(self) -> str | None:
        """What the id in its ARN is: ``"uuid"`` (the service issues it), or the
        input member whose value it is (``"AppInstanceUserId"``)."""
        return self.arn.partition("{")[2].rstrip("}") if self.arn else None

    @property
    def depth(self) -> int:
        """How far below a kind without a parent it lives (an AppInstance: 0)."""
        return 0 if self.parent is None else kind(self.parent).depth + 1

    @property
    def resource_shape(self) -> str:
        """Its ARN's resource part, ids as ``{id}`` ("app-instance/{id}/bot/{id}")."""
        if self.arn is None:
            raise ValueError(f"a {self.name} has no ARN of its own")
        own = self.arn.replace(UUID, "{id}")
        return f"{kind(self.parent).resource_shape}/{own}" if self.parent else own

    def arn_under(self, parent_arn: str, identifier: str) -> str:
        """The ARN of the resource ``identifier`` of this kind under ``parent_arn``
        (for a kind without a parent: ``parent_arn`` is ``arn:aws:chime:region:account``)."""
        if self.arn is None:
            raise ValueError(f"a {self.name} has no ARN of its own")
        head, _, _ = self.arn.partition("{")
        return f"{parent_arn}{'/' if self.parent else ':'}{head}{identifier}"

    @functools.cached_property
    def title(self) -> str:
        """What the API calls it ("AppInstanceUser"): its describe answer's member."""
        (title,) = (spec.operation(self.describe).response_schema or {}).get("properties", {})
        return str(title)

    @functools.cached_property
    def issued_paths(self) -> tuple[tuple[str, ...], ...]:
        """Where a create's answer holds what the service issues for the new
        resource (the address members the create request does not take)."""
        given = spec.operation(self.create).input_schema["properties"]
        return tuple(
            _pointer(expression)
            for member, expression in _delete_link(self.create, self.delete).items()
            if member not in given and expression.startswith(_ANSWER)
        )

    def created_address(
        self, request: Mapping[str, Any], answer: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """The address of the resource a successful create made: the members
        the request carried (its parent's, the user an admin promotes) as
        sent, the ones the service issues where the spec's link from the
        create to the delete operation points; None if one is not there."""
        address: dict[str, Any] = {}
        for member, expression in _delete_link(self.create, self.delete).items():
            value = request[member] if member in request else _evaluate(expression, request, answer)
            if value is None:
                return None
            address[member] = value
        return address


KINDS: Mapping[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "app-instance",
            create="CreateAppInstance",
            describe="DescribeAppInstance",
            list="ListAppInstances",
            delete="DeleteAppInstance",
            arn="app-instance/" + UUID,
        ),
        Kind(
            "user",
            create="CreateAppInstanceUser",
            describe="DescribeAppInstanceUser",
            list="ListAppInstanceUsers",
            delete="DeleteAppInstanceUser",
            parent="app-instance",
            arn="user/{AppInstanceUserId}",
        ),
        Kind(
            "bot",
            create="CreateAppInstanceBot",
            describe="DescribeAppInstanceBot",
            list="ListAppInstanceBots",
            delete="DeleteAppInstanceBot",
            parent="app-instance",
            arn="bot/" + UUID,
        ),
        Kind(
            "admin",
            create="CreateAppInstanceAdmin",
            describe="DescribeAppInstanceAdmin",
            list="ListAppInstanceAdmins",
            delete="DeleteAppInstanceAdmin",
            parent="app-instance",
            arn_of=("user", "bot"),
            listed_as=("Admin", "Arn"),
        ),
        Kind(
            "endpoint",
            create="RegisterAppInstanceUserEndpoint",
            describe="DescribeAppInstanceUserEndpoint",
            list="ListAppInstanceUserEndpoints",
            delete="DeregisterAppInstanceUserEndpoint",
            parent="user",
        ),
        Kind(
            "account",
            create="CreateAccount",
            describe="GetAccount",
            list="ListAccounts",
            delete="DeleteAccount",
        ),
    )
}

# The member of TagResource, UntagResource and ListTagsForResource that names
# a taggable resource (read from the spec: ListTagsForResource's one required member).
TAGGING_MEMBER: str = spec.operation("ListTagsForResource").input_schema["required"][0]


def kind(name: str) -> Kind:
    """The kind called ``name``; a KeyError names the unknown kind."""
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"no resource kind {name!r}; the kinds are {sorted(KINDS)}") from None


def by_create(operation: str) -> Kind | None:
    """The kind ``operation`` creates, or None."""
    return next((k for k in KINDS.values() if k.create == operation), None)


def by_delete(operation: str) -> Kind | None:
    """The kind ``operation`` deletes, or None."""
    return next((k for k in KINDS.values() if k.delete == operation), None)


def clean_up_order(name: str) -> int:
    """Where a resource of kind ``name`` comes in a clean-up (lower goes first):
    after everything that lives in it or names it (an endpoint before its
    user, an admin before the user it promotes, a user before its AppInstance)."""
    return -_rank(name)


@functools.cache
def _rank(name: str) -> int:
    # the longest chain of kinds this one depends on (its parent, what it names)
    needs = [*([kind(name).parent] if kind(name).parent else []), *kind(name).arn_of]
    return max((_rank(other) + 1 for other in needs), default=0)


def naming_members() -> dict[str, tuple[str, ...]]:
    """Input members whose value names an existing resource, and the kinds it may be."""
    members: dict[str, tuple[str, ...]] = {k.member: (k.name,) for k in KINDS.values()}
    members[TAGGING_MEMBER] = tuple(k.name for k in KINDS.values() if k.taggable)
    return members


def arn_members() -> dict[str, frozenset[str]]:
    """Answer members holding a Chime ARN, and the kinds whose ARN each may be."""
    found: dict[str, frozenset[str]] = {}
    for k in KINDS.values():
        if k.arn_kinds:
            found[k.member] = found[k.identifier_path[-1]] = frozenset(k.arn_kinds)
    return found


def ancestors(name: str) -> Iterator[Kind]:
    """The kinds above ``name``, its parent first."""
    parent = kind(name).parent
    while parent is not None:
        yield kind(parent)
        parent = kind(parent).parent


# --------------------------------------------------------------------------
# The spec's links, read


@functools.cache
def _delete_link(create: str, delete: str) -> dict[str, str]:
    """The delete operation's members, each with the runtime expression of
    the create's link to it that says where its value is."""
    op = spec.operation(create)
    raw = spec.load_document(op.api)["paths"][op.spec_path_key][op.method.lower()]
    links = raw["responses"][str(op.success_status)].get("links", {})
    link = next((lk for lk in links.values() if lk.get("operationId") == delete), None)
    if link is None:
        raise LookupError(f"the spec has no link from {create} to {delete}")
    target = spec.operation(delete)
    by_wire = {p.wire_name: p.member for p in target.parameters}
    parameters = {
        by_wire[name.rpartition(".")[2]]: value for name, value in link["parameters"].items()
    }
    return {**parameters, **link.get("requestBody", {})}


_ANSWER = "$response.body#"


def _pointer(expression: str) -> tuple[str, ...]:
    return tuple(expression.partition("#")[2].strip("/").split("/"))


def _evaluate(expression: str, request: Mapping[str, Any], answer: Mapping[str, Any]) -> Any:
    # "$response.body#/Account/AccountId", "$request.body#/AppInstanceArn"
    source = expression.partition("#")[0]
    document: Any = {"$response.body": answer, "$request.body": request}.get(source)
    if document is None:
        raise ValueError(f"cannot read the link expression {expression!r}")
    for step in _pointer(expression):
        document = document.get(step) if isinstance(document, Mapping) else None
    return document
