"""The ledger of resources a run created, and their clean-up.

Every create that goes through the suite is written down here *before* it is
sent (:meth:`Ledger.intend`) and again when its answer arrives; at the end of
the run (after failures and Ctrl-C too) the ledger deletes exactly the
resources it saw created, children before parents, and reports any it could
not. A create whose answer never came (Ctrl-C in flight) stays *pending*: the
sweep (:mod:`chime_conformance.run.sweep`) finds such resources by the run's name
prefix and tag. The suite never deletes a resource it did not create.
"""

from __future__ import annotations

import datetime
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chime_conformance.contract import resources
from chime_conformance.run.events import Leftover
from chime_conformance.wire.client import ClientError


@dataclass(frozen=True)
class Resource:
    """A resource this run created: its kind and the members that address it."""

    kind: str
    address: tuple[tuple[str, str], ...]  # (member, value) pairs, hashable

    @property
    def members(self) -> dict[str, str]:
        return dict(self.address)

    def __str__(self) -> str:
        return f"{self.kind} " + " ".join(f"{k}={v}" for k, v in self.address)

    @property
    def arn(self) -> str:
        """What names it in a leftover: its ARN (an admin: the admin's; an
        endpoint: its user's ARN and its id, as the sweep says it), or an
        account's id."""
        members = self.members
        if "EndpointId" in members:
            return f"{members['AppInstanceUserArn']} endpoint {members['EndpointId']}"
        return members.get("AppInstanceAdminArn") or self.address[0][1]


def left_behind(resource: Resource, reason: str) -> Leftover:
    """The record of ``resource``, which this run could not delete."""
    return Leftover(resource.kind, resource.arn, reason)


# Every resource the suite creates carries this tag, valued with the run id
# (where the API takes tags at creation), and a name starting with the run id.
RUN_TAG_KEY = "chime-conformance-run"
CREATE_OPERATIONS = frozenset(k.create for k in resources.KINDS.values())

# Creates the API gives no ClientRequestToken: retried after a lost answer
# (a dropped connection), each would make a second resource. Before the retry
# the first is looked for by its name and deleted (Ledger.reconcile).
UNTOKENED_CREATES = frozenset({"CreateAccount"})
# How much older than the lost request a same-named account may look (the
# target's clock against ours) and still be taken for the lost request's own.
RECONCILE_CLOCK_SKEW = 300.0
MAX_RECONCILE_PAGES = 50

# kind → (the operation that deletes it, clean-up order: lower goes first)
DELETERS: Mapping[str, tuple[str, int]] = {
    k.name: (k.delete, resources.clean_up_order(k.name)) for k in resources.KINDS.values()
}


def created_resource(
    operation: str, members: Mapping[str, Any], body: Mapping[str, Any] | None
) -> Resource | None:
    """The resource a successful ``operation`` call created, or None."""
    kind = resources.by_create(operation)
    if kind is None:
        return None
    address = kind.created_address(members, body or {})
    if address is None:
        return None  # a malformed answer: the checks report it; nothing to clean
    return Resource(kind.name, tuple(sorted((k, str(v)) for k, v in address.items())))


def _epoch(value: Any) -> float | None:
    """A timestamp member (epoch seconds or ISO 8601) as epoch seconds."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
        return moment.timestamp()
    return None


def deleted_resource(operation: str, members: Mapping[str, Any]) -> Resource | None:
    """The resource a successful delete ``operation`` removed, or None."""
    kind = resources.by_delete(operation)
    if kind is None or not all(k in members for k in kind.address):
        return None
    return Resource(kind.name, tuple(sorted((k, str(members[k])) for k in kind.address)))


class Ledger:
    """Thread-safe record of the resources a run created and has not deleted."""

    def __init__(self) -> None:
        self._live: dict[Resource, None] = {}  # insertion-ordered set
        self._pending: Counter[str] = Counter()  # creates sent, answer not yet seen
        self._lock = threading.Lock()
        # resources a lost answer created, found and deleted before the retry
        self.reconciled: list[str] = []

    def reconcile(
        self, client: Any, operation: str, members: Mapping[str, Any], sent_at: float
    ) -> None:
        """Before ``operation`` is retried after its answer was lost: delete
        what the lost attempt (sent at ``sent_at``, epoch seconds) created, so
        the retry makes the only one. For an untokened create (a token makes
        the retry idempotent already): the accounts of that exact name, made
        since the lost request was sent, that this run has not seen created.
        One it cannot delete stays in the ledger (a leftover if it stays)."""
        name = members.get("Name")
        if operation not in UNTOKENED_CREATES or not isinstance(name, str):
            return
        known = {r.members.get("AccountId") for r in self.live() if r.kind == "account"}
        orphans: list[str] = []
        token = None
        for _ in range(MAX_RECONCILE_PAGES):
            page = {"Name": name, **({"NextToken": token} if token else {})}
            answer = client.call("ListAccounts", page)
            document = answer.json if isinstance(answer.json, dict) else {}
            for account in document.get("Accounts") or []:
                if not isinstance(account, dict) or account.get("Name") != name:
                    continue
                account_id = account.get("AccountId")
                created = _epoch(account.get("CreatedTimestamp"))
                recent = created is None or created >= sent_at - RECONCILE_CLOCK_SKEW
                if isinstance(account_id, str) and account_id not in known and recent:
                    orphans.append(account_id)
            token = document.get("NextToken")
            if answer.status != 200 or not token:
                break
        for account_id in orphans:
            deleted = client.call("DeleteAccount", {"AccountId": account_id})
            line = f"account {account_id} ({name!r}): made by a CreateAccount whose answer was lost"
            if 200 <= deleted.status < 300:
                with self._lock:
                    self.reconciled.append(f"{line}; deleted before the retry")
            else:
                with self._lock:
                    self._live[Resource("account", (("AccountId", account_id),))] = None

    def intend(self, operation: str, members: Mapping[str, Any]) -> None:
        """Write down a create about to be sent (called before every call)."""
        if operation in CREATE_OPERATIONS:
            with self._lock:
                self._pending[operation] += 1

    def pending(self) -> dict[str, int]:
        """Creates sent whose answer never arrived, by operation."""
        with self._lock:
            return {operation: n for operation, n in self._pending.items() if n > 0}

    def observe(self, operation: str, members: Mapping[str, Any], status: int, body: Any) -> None:
        """Write down what a call created or deleted (called after every call)."""
        if operation in CREATE_OPERATIONS:
            with self._lock:
                if self._pending[operation] > 0:
                    self._pending[operation] -= 1
        if not 200 <= status < 300:
            return
        mapping = body if isinstance(body, Mapping) else None
        created = created_resource(operation, members, mapping)
        deleted = deleted_resource(operation, members)
        with self._lock:
            if created is not None:
                self._live[created] = None
            if deleted is not None:
                self._live.pop(deleted, None)

    def live(self) -> list[Resource]:
        """The resources still to delete, in the order to delete them."""
        with self._lock:
            resources = list(self._live)
        return sorted(resources, key=lambda r: DELETERS[r.kind][1])

    def forget(self, resource: Resource) -> None:
        with self._lock:
            self._live.pop(resource, None)

    def clean_up(self, delete: Callable[[str, dict[str, str]], int]) -> list[Leftover]:
        """Delete every live resource with ``delete(operation, members) -> status``;
        return a record of each that could not be deleted (404 counts as gone).
        A Ctrl-C stops it: the rest are returned as left behind."""
        leftovers: list[Leftover] = []
        resources = self.live()
        for number, resource in enumerate(resources):
            operation = DELETERS[resource.kind][0]
            try:
                status = delete(operation, resource.members)
            except KeyboardInterrupt:
                leftovers.extend(self.interrupted(resources[number:]))
                break
            except (Exception, ClientError) as error:  # report, and go on with the rest
                leftovers.append(left_behind(resource, f"{type(error).__name__}: {error}"))
                continue
            if 200 <= status < 300 or status == 404:
                self.forget(resource)
            else:
                leftovers.append(left_behind(resource, f"{operation} answered {status}"))
        return leftovers

    def interrupted(self, resources: list[Resource] | None = None) -> list[Leftover]:
        """``resources`` (default: every live one) as left behind by a Ctrl-C."""
        remaining = self.live() if resources is None else resources
        return [left_behind(r, "not deleted (clean-up interrupted)") for r in remaining]
