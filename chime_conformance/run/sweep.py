"""The end-of-run sweep: nothing this run created stays on the target.

The ledger deletes what it saw created. A create whose answer never arrived
(Ctrl-C or a timeout in flight) left nothing in the ledger but its intent, so
the sweep then looks for the run's resources the way an operator would:
through the List operations, by the run id that starts every name the suite
gives and by the run tag (``chime-conformance-run = <run id>``), and deletes
them children first, as the resource catalogue orders them
(:mod:`chime_conformance.contract.resources`: admins, each user's endpoints
and the user, bots, the AppInstance; then accounts). What cannot be deleted
is returned with its ARN. A second
Ctrl-C stops the sweep, which then says what remains. Every call is bounded
by the client's timeouts and the sweep by a deadline.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from typing import Any

from chime_conformance.contract import resources
from chime_conformance.run.events import Leftover
from chime_conformance.run.ledger import RUN_TAG_KEY, Ledger
from chime_conformance.wire.client import ChimeClient, ClientError, ConnectionLost, RequestTimedOut
from chime_conformance.wire.retries import OutcomeUnknown

__all__ = ["DEFAULT_SWEEP_SECONDS", "sweep"]

DEFAULT_SWEEP_SECONDS = 60.0
MAX_PAGES = 200  # per List walk: a bound, not an expectation


class _OutOfTime(Exception):
    pass


class Sweeper:
    """One sweep of one target for one run id."""

    def __init__(
        self, client: ChimeClient, run_id: str, deadline: float, shard: str | None = None
    ) -> None:
        self.client = client
        self.run_id = run_id
        # A shard shares the run id with the other shards (which may still be
        # running on the same target): it sweeps only names of its own scope
        # ("<run id>-s2gw0-…"), never by the run tag, which they share.
        self.shard = shard
        self.own_name = re.compile(
            re.escape(run_id) + (f"-{re.escape(shard)}(?:main|gw[0-9]+)-" if shard else "")
        )
        self.deadline = deadline
        self.leftovers: list[Leftover] = []
        self.deleted: set[str] = set()

    # -- calls ------------------------------------------------------------------

    def _call(self, operation: str, members: Mapping[str, Any]) -> Any:
        if time.monotonic() > self.deadline:
            raise _OutOfTime
        return self.client.call(operation, dict(members))

    def _walk(self, operation: str, members: Mapping[str, Any], items: str) -> Iterator[Any]:
        token = None
        for _ in range(MAX_PAGES):
            request = {**members, "MaxResults": 50, **({"NextToken": token} if token else {})}
            exchange = self._call(operation, request)
            body = exchange.json if isinstance(exchange.json, dict) else {}
            if not 200 <= exchange.status < 300:
                return
            yield from body.get(items) or []
            token = body.get("NextToken")
            if not token:
                return

    def _delete(self, kind: str, arn: str, operation: str, members: Mapping[str, Any]) -> None:
        try:
            if time.monotonic() > self.deadline:
                raise _OutOfTime
            status = _delete_status(self.client, operation, members)
        except (_OutOfTime, KeyboardInterrupt):
            raise
        except (Exception, ClientError) as error:  # report it, and go on with the rest
            self.leftovers.append(Leftover(kind, arn, f"{type(error).__name__}: {error}"))
            return
        if not (200 <= status < 300 or status == 404):
            self.leftovers.append(Leftover(kind, arn, f"{operation} answered {status}"))
        else:
            self.deleted.add(arn)

    # -- what belongs to the run -----------------------------------------------

    def ours(self, kind: resources.Kind, identifier: str, name: Any) -> bool:
        if isinstance(name, str) and self.own_name.match(name):
            return True
        if self.shard is not None or not kind.taggable:
            return False
        exchange = self._call("ListTagsForResource", {resources.TAGGING_MEMBER: identifier})
        tags = exchange.json.get("Tags") if isinstance(exchange.json, dict) else None
        return any(
            isinstance(t, dict) and t.get("Key") == RUN_TAG_KEY and t.get("Value") == self.run_id
            for t in tags or []
        )

    def listed(self, kind: resources.Kind, scope: Mapping[str, Any]) -> list[tuple[str, Any]]:
        """(identifier, item) of each resource of ``kind`` its List shows in ``scope``."""
        found = []
        for item in list(self._walk(kind.list, scope, kind.items_member)):
            identifier = _at(item, kind.identifier_path)
            if isinstance(identifier, str) and identifier:
                found.append((identifier, item))
        return found

    def roots(self, kind: resources.Kind) -> list[dict[str, str]]:
        """The addresses of the run's resources of ``kind`` (a kind without a parent)."""
        return [
            {kind.member: identifier}
            for identifier, item in self.listed(kind, {})
            if self.ours(kind, identifier, item.get("Name") if isinstance(item, dict) else None)
        ]

    # -- deleting, children first ----------------------------------------------

    def delete_tree(self, kind: resources.Kind, address: Mapping[str, str]) -> None:
        """Delete the resource of ``kind`` at ``address`` and, first, all it holds."""
        children = [k for k in resources.KINDS.values() if k.parent == kind.name]
        for child in sorted(children, key=lambda k: resources.clean_up_order(k.name)):
            for identifier, _ in self.listed(child, address):
                scope = {**address, child.member: identifier}
                self.delete_tree(child, {m: scope[m] for m in child.address})
        self._delete(kind.name, _label(kind, address), kind.delete, address)


def sweep(
    client: ChimeClient,
    ledger: Ledger,
    run_id: str,
    *,
    listing: bool = True,
    seconds: float = DEFAULT_SWEEP_SECONDS,
    deleted: set[str] | None = None,
    shard: str | None = None,
) -> list[Leftover]:
    """Delete what this run created on ``client``'s target (the ledger's
    resources, then, with ``listing``, whatever the List operations show of
    the run; with ``shard`` ("s2"), only that shard's names); return what
    could not be deleted. Never raises: a second Ctrl-C or the deadline ends
    it with the rest reported."""
    try:
        leftovers = ledger.clean_up(_deleter(client))
    except KeyboardInterrupt:  # between two deletes: clean_up reports the rest itself
        leftovers = ledger.interrupted()
        listing = False
    if not listing:
        if ledger.pending():
            leftovers.extend(_unknown(ledger, "not looked for (no List sweep here)"))
        return _unique(leftovers)
    sweeper = Sweeper(client, run_id, time.monotonic() + seconds, shard)
    step = "listing"
    pending: list[tuple[resources.Kind, dict[str, str]]] = []
    try:
        for root in (k for k in resources.KINDS.values() if k.parent is None):
            step = f"listing {root.items_member}"
            pending = [(root, address) for address in sweeper.roots(root)]
            while pending:
                step = "deleting"
                sweeper.delete_tree(*pending[0])
                pending.pop(0)
    except (KeyboardInterrupt, _OutOfTime) as stop:
        why = (
            "sweep interrupted by Ctrl-C"
            if isinstance(stop, KeyboardInterrupt)
            else (f"sweep out of time after {seconds:g} s")
        )
        leftovers.extend(Leftover(k.name, _label(k, address), why) for k, address in pending)
        if step.startswith("listing"):
            leftovers.extend(_unknown(ledger, f"{why} while {step}"))
    except (Exception, ClientError) as error:  # the target answers the List operations badly
        leftovers.extend(_unknown(ledger, f"could not list the run's resources: {error}"))
    leftovers.extend(sweeper.leftovers)
    if deleted is not None:
        deleted.update(sweeper.deleted)
    return _unique(leftovers)


def _at(item: Any, path: tuple[str, ...]) -> Any:
    for step in path:
        item = item.get(step) if isinstance(item, dict) else None
    return item


def _label(kind: resources.Kind, address: Mapping[str, str]) -> str:
    """How a leftover names a resource: its ARN or id, under its parent's if
    the id alone says nothing ("<user ARN> endpoint <id>")."""
    own = address[kind.member]
    if kind.arn_kinds or kind.parent is None:
        return own
    return f"{address[resources.kind(kind.parent).member]} {kind.name} {own}"


def _deleter(client: ChimeClient) -> Any:
    return lambda operation, members: _delete_status(client, operation, members)


def _delete_status(client: ChimeClient, operation: str, members: Mapping[str, Any]) -> int:
    """A delete's status; 404 for one whose first answer was lost and whose
    retry found nothing left (the lost attempt deleted it). A delete is
    idempotent, so one that got no answer (none in time, or every attempt's
    connection dropped) is sent once more."""
    for attempt in (1, 2):
        try:
            return client.call(operation, dict(members)).status
        except OutcomeUnknown as unknown:
            return unknown.status
        except (RequestTimedOut, ConnectionLost):
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _unknown(ledger: Ledger, why: str) -> list[Leftover]:
    return [
        Leftover(operation, f"({count} sent, answer never seen)", why)
        for operation, count in ledger.pending().items()
    ]


def _unique(leftovers: list[Leftover]) -> list[Leftover]:
    return list(dict.fromkeys(leftovers))
