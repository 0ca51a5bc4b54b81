"""Promises: sentences of the contract that hold for a whole class of operations.

"Every answer carries a request id", "NextToken followed to the end visits
every item once", "every member a write sends reads back": each is stated once
here, with the contract rule it belongs to and the checks that state it, and
applies to the operations the spec puts in its class. The classes are read off
the spec (a List is an operation with a NextToken member, a write is a
non-GET with a body to answer, …), never listed by hand: an operation added to
``spec/`` is held to every promise of its class without a new test, because
the suite's promise tests (``conformance/test_promises.py``,
``conformance/test_concurrency.py``) are parametrized over these classes.

Kinds of resources (what a List lists, its create and its delete) come from
the resource catalogue (``contract/resources.py``). The report's promise ×
operation table (``reporting/promise_table.py``) says of each pair whether the
run checked it, whether it does not apply, or whether the run never reached it.
Nothing here knows about pytest or HTTP.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chime_conformance.checks import isolation, lifecycle, overlap, pagination, protocol, tenants
from chime_conformance.checks.registry import DeclaredCheck, declared
from chime_conformance.contract import resources as catalogue
from chime_conformance.contract import spec

__all__ = [
    "PROMISES",
    "RESOURCE_MEMBERS",
    "TOKEN_MEMBER",
    "Listed",
    "Promise",
    "ReadBack",
    "Route",
    "answer_paths",
    "creates_under_a_parent",
    "creates_with_own_id",
    "deletes",
    "is_global_list",
    "is_list",
    "listed",
    "lists",
    "merges_tags",
    "names_a_resource",
    "names_any_resource",
    "promise",
    "read_back",
    "reads_naming_a_resource",
    "takes_token",
    "token_operations",
    "writable_members",
    "writes",
]

TOKEN_MEMBER = "ClientRequestToken"
# Members whose value names an existing resource of this API (not a Lex alias
# or a Pinpoint application: those are other services' ARNs).
RESOURCE_MEMBERS = frozenset(catalogue.naming_members())
# A written member that reads back under another name, inside the read's
# record: a kind's member its List (and Describe) hold elsewhere (an admin's ARN
# as Admin.Arn).
READ_ALIASES: Mapping[str, tuple[str, ...]] = {
    k.member: k.listed_as for k in catalogue.KINDS.values() if k.listed_as
}


# --------------------------------------------------------------------------
# The classes of operations, read off the spec


def _members(op: spec.Operation) -> Mapping[str, Any]:
    return op.input_schema["properties"]


def _required(op: spec.Operation) -> frozenset[str]:
    return frozenset(op.input_schema.get("required", ()))


def is_list(op: spec.Operation) -> bool:
    """A List: it pages through NextToken."""
    return "NextToken" in _members(op)


def takes_token(op: spec.Operation) -> bool:
    """An operation with an idempotency token (botocore: ``idempotencyToken``)."""
    return TOKEN_MEMBER in _members(op)


def names_a_resource(op: spec.Operation) -> bool:
    """A read that names the resource it is about (a Describe, a Get, a List of
    one parent's members, the tags of one resource)."""
    return op.method == "GET" and bool(_required(op) & RESOURCE_MEMBERS)


def names_any_resource(op: spec.Operation) -> bool:
    """An operation whose request names a resource (to read, write, delete, or
    create something in)."""
    return bool(_required(op) & RESOURCE_MEMBERS)


def is_global_list(op: spec.Operation) -> bool:
    """A List of a whole account (it names no parent)."""
    return is_list(op) and not _required(op)


def is_write(op: spec.Operation) -> bool:
    """A Create, Update, Register or Put: it writes members and answers."""
    return op.method != "GET" and op.success_status != 204


def is_delete(op: spec.Operation) -> bool:
    return op.method == "DELETE"


def creates_with_own_id(op: spec.Operation) -> bool:
    """A create whose caller chooses the new resource's id (a second one is a 409)."""
    chosen = {m for m in _required(op) if m.endswith("Id") and m not in RESOURCE_MEMBERS}
    return op.success_status == 201 and bool(chosen)


def creates_under_a_parent(op: spec.Operation) -> bool:
    """A create of something inside an existing resource (a member of an AppInstance)."""
    return op.success_status == 201 and bool(_required(op) & RESOURCE_MEMBERS)


def merges_tags(op: spec.Operation) -> bool:
    """TagResource: it merges the keys it is given into the resource's tags."""
    return {"ResourceARN", "Tags"} <= set(_members(op)) and op.success_status == 204


def _names(predicate: Callable[[spec.Operation], bool]) -> tuple[str, ...]:
    return tuple(op.name for op in spec.operations() if predicate(op))


def lists() -> tuple[str, ...]:
    return _names(is_list)


def token_operations() -> tuple[str, ...]:
    return _names(takes_token)


def reads_naming_a_resource() -> tuple[str, ...]:
    return _names(names_a_resource)


def writes() -> tuple[str, ...]:
    return _names(is_write)


def deletes() -> tuple[str, ...]:
    return _names(is_delete)


# --------------------------------------------------------------------------
# Where a write reads back


@dataclass(frozen=True)
class Route:
    """How one written member reads back: ``record`` (at ``path`` of the read's
    answer), ``tags`` (ListTagsForResource of the new resource), ``listed``
    (the resource is listed by ``listing``, scoped by the member) or
    ``identifier`` (the identifier the write answered names it)."""

    how: str
    path: tuple[str, ...] = ()
    listing: str | None = None


@dataclass(frozen=True)
class ReadBack:
    """The read that shows what ``write`` stored, and each writable member's route."""

    write: str
    read: str
    routes: Mapping[str, Route | None]

    @property
    def unrouted(self) -> tuple[str, ...]:
        return tuple(member for member, route in self.routes.items() if route is None)


def writable_members(op: spec.Operation) -> tuple[str, ...]:
    """The members a write stores: its input but the token and the path labels
    that address its target."""
    address = {p.member for p in op.path_parameters}
    return tuple(m for m in _members(op) if m != TOKEN_MEMBER and m not in address)


def _properties(schema: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return (schema or {}).get("properties", {})


def _record_key(op: spec.Operation) -> str | None:
    """The one object member a Describe/Get answers with (None: several, or none)."""
    objects = [k for k, v in _properties(op.response_schema).items() if v.get("type") == "object"]
    return objects[0] if len(objects) == 1 and len(_properties(op.response_schema)) == 1 else None


def _route(write: spec.Operation, read: spec.Operation, member: str) -> Route | None:
    top = _properties(read.response_schema)
    key = _record_key(read)
    record = _properties(top[key]) if key else {}
    if member == "Tags":
        return Route("tags")
    if member in top:
        return Route("record", (member,))
    if key and member in record:
        return Route("record", (key, member))
    if key and member in READ_ALIASES:
        return Route("record", (key, *READ_ALIASES[member]))
    if member in RESOURCE_MEMBERS:
        for listing in spec.operations():
            scoped_by = is_list(listing) and _required(listing) == {member}
            if scoped_by and listing.family == write.family:
                return Route("listed", listing=listing.name)
    if member.endswith("Id") and member in _required(write):
        return Route("identifier")
    return None


def _answered_names(op: spec.Operation) -> set[str]:
    """Members the write's answer may carry, one level deep (Account.AccountId)."""
    names = set(_properties(op.response_schema))
    for value in _properties(op.response_schema).values():
        names |= set(_properties(value))
    return names


@functools.cache
def read_back(write_name: str) -> ReadBack:
    """The read of ``write_name``'s target (a GET that is not a List, taking
    only what the write sent or answered), the one that shows most of what it
    wrote, and the route of each writable member."""
    write = spec.operation(write_name)
    available = set(_members(write)) | _answered_names(write)
    candidates = [
        op
        for op in spec.operations()
        if op.method == "GET" and not is_list(op) and _required(op) and _required(op) <= available
    ]
    members = writable_members(write)

    def shown(read: spec.Operation) -> int:
        return sum(
            1
            for m in members
            if (route := _route(write, read, m)) is not None and route.how == "record"
        )

    answered = _answered_names(write)

    def preference(read: spec.Operation) -> tuple[int, int, int]:
        # the read of the new resource (named by what the write answered), the
        # most specific one, the one that shows most of what was written
        return (len(_required(read) & answered), len(_required(read)), shown(read))

    if not candidates:
        raise LookupError(f"{write_name}: no read takes what it sends or answers")
    read = max(candidates, key=preference)
    return ReadBack(write_name, read.name, {m: _route(write, read, m) for m in members})


def answer_paths(write_name: str) -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    """Where a write's answer and the read of its target hold the same member
    (of the same shape): ``(path in the answer, path in the read)`` pairs, to be
    compared right after the write."""
    write = spec.operation(write_name)
    read = spec.operation(read_back(write_name).read)
    said, top = _properties(write.response_schema), _properties(read.response_schema)
    key = _record_key(read)
    record = _properties(top[key]) if key else {}
    pairs: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    for member, schema in said.items():
        if member in top and top[member] == schema:
            pairs.append(((member,), (member,)))
        elif key and member in record and record[member] == schema:
            pairs.append(((member,), (key, member)))
    return tuple(pairs)


@dataclass(frozen=True)
class Listed:
    """What a List lists (a kind of the resource catalogue): made by
    ``create``, removed by ``delete``, each item told apart by the value at
    ``key`` (a path in the item), the value of the kind's member ``identifier``."""

    listing: str
    create: str
    delete: str
    items: str
    key: tuple[str, ...]
    identifier: str
    kind: str


@functools.cache
def listed(listing_name: str) -> Listed:
    """The kind ``listing_name`` lists, from the resource catalogue."""
    for kind in catalogue.KINDS.values():
        if kind.list == listing_name:
            return Listed(
                listing_name,
                kind.create,
                kind.delete,
                kind.items_member,
                kind.identifier_path,
                kind.member,
                kind.name,
            )
    raise LookupError(f"{listing_name} lists no kind of contract/resources.py")


# --------------------------------------------------------------------------
# The promises


@dataclass(frozen=True)
class Promise:
    """One sentence of the contract, the class of operations it holds for, the
    checks that state it, and the tests that apply it to each operation of its
    class (none: any test's records show it, as for an oracle run on every answer)."""

    id: str
    rule: str
    sentence: str
    checks: tuple[DeclaredCheck, ...]
    applies: Callable[[spec.Operation], bool]
    tests: tuple[str, ...] = ()

    def operations(self) -> tuple[str, ...]:
        return _names(self.applies)

    def proven_by(self, test_id: str) -> bool:
        """Whether a record of ``test_id`` (a pytest node id) can show this promise."""
        if not self.tests:
            return True
        function = test_id.rsplit("::", 1)[-1].split("[", 1)[0]
        return function in self.tests

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule": self.rule,
            "sentence": self.sentence,
            "checks": [c.name for c in self.checks],
        }


def _every(op: spec.Operation) -> bool:
    return True


PROMISES: tuple[Promise, ...] = (
    Promise(
        "request-id",
        "request-id",
        "Every answer, success or error, carries x-amzn-RequestId.",
        (declared(protocol.request_id_present.__name__),),
        _every,
    ),
    Promise(
        "pagination",
        "pagination",
        "Following NextToken visits every item once, in pages of at most MaxResults, then ends.",
        (pagination.PAGINATION,),
        is_list,
        ("test_every_list_pages_to_the_end",),
    ),
    Promise(
        "lists-after-deletes",
        "list-consistency",
        "A deleted member is never listed again.",
        (pagination.DELETED_NOT_LISTED,),
        is_list,
        ("test_a_deleted_member_leaves_its_list",),
    ),
    Promise(
        "idempotency",
        "idempotency",
        "A ClientRequestToken replayed with the same input returns the same resource; "
        "with other input it is refused.",
        (lifecycle.IDEMPOTENCY,),
        takes_token,
        ("test_every_token_replays_to_one_resource",),
    ),
    Promise(
        "read-back",
        "read-after-write",
        "Every member a Create, Update, Register or Put writes reads back; a Put without a "
        "member clears it, an Update without one keeps it.",
        (lifecycle.READ_AFTER_WRITE, lifecycle.SETTINGS_READ_BACK),
        is_write,
        ("test_every_written_member_reads_back",),
    ),
    Promise(
        "answer-is-current",
        "answer-is-current",
        "A write's answer that carries the resource shows it as a read right after does.",
        (lifecycle.ANSWER_IS_CURRENT,),
        is_write,
        ("test_every_written_member_reads_back",),
    ),
    Promise(
        "isolation",
        "isolation",
        "A read naming one resource shows none of another resource's values.",
        (isolation.READS_ARE_ISOLATED,),
        names_a_resource,
        ("test_a_read_shows_only_the_resource_it_names",),
    ),
    Promise(
        "reads-after-delete",
        "cascade",
        "A read served before its resource (or the AppInstance holding it) was deleted is "
        "not served after.",
        (lifecycle.CASCADE, lifecycle.DELETE_IS_FINAL),
        names_a_resource,
        ("test_a_read_made_before_a_delete_is_not_served_after",),
    ),
    Promise(
        "other-tenants",
        "tenant-isolation",
        "An identity of another AWS account is refused every operation naming a resource, "
        "changes nothing of it, and sees none of it in the account's Lists.",
        (declared(tenants.other_account_refused.__name__), tenants.OTHER_ACCOUNT_UNSEEN),
        lambda op: names_any_resource(op) or is_global_list(op),
        (
            "test_another_account_is_refused_and_changes_nothing",
            "test_another_accounts_lists_show_none_of_the_owners",
        ),
    ),
    Promise(
        "overlapping-creates",
        "concurrency",
        "Of overlapping creates of one id, exactly one succeeds and the others are 409.",
        (overlap.CONCURRENT_OUTCOMES,),
        creates_with_own_id,
        ("test_overlapping_creates_of_one_id_make_one",),
    ),
    Promise(
        "overlapping-replays",
        "concurrency",
        "Overlapping replays of one ClientRequestToken make one resource.",
        (overlap.CONCURRENT_OUTCOMES,),
        takes_token,
        ("test_overlapping_replays_of_one_token_make_one",),
    ),
    Promise(
        "overlapping-tags",
        "concurrency",
        "Overlapping TagResource calls with different keys leave every key.",
        (overlap.CONCURRENT_OUTCOMES,),
        merges_tags,
        ("test_overlapping_tagging_keeps_every_key",),
    ),
    Promise(
        "create-during-delete",
        "concurrency",
        "A member created while its AppInstance is deleted does not outlive the deletion window.",
        (overlap.CONCURRENT_OUTCOMES,),
        creates_under_a_parent,
        ("test_a_member_created_during_its_app_instances_deletion_is_no_orphan",),
    ),
    Promise(
        "overlapping-deletes",
        "concurrency",
        "Of overlapping deletes of one resource one succeeds, the others report it missing.",
        (overlap.CONCURRENT_OUTCOMES,),
        is_delete,
        ("test_overlapping_deletes_of_one_resource",),
    ),
)


def promise(promise_id: str) -> Promise:
    """The promise of that id (KeyError naming the known ones)."""
    for found in PROMISES:
        if found.id == promise_id:
            return found
    raise KeyError(f"no promise {promise_id!r}; the promises are {[p.id for p in PROMISES]}")


def applicable_pairs(promises: Iterable[Promise] = PROMISES) -> list[tuple[str, str]]:
    """Every (promise id, operation) the contract says a run must check."""
    return [(p.id, op) for p in promises for op in p.operations()]
