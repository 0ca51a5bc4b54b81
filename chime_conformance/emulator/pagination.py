"""Opaque, tamper-evident NextTokens and the page walk they drive.

A token carries the list it belongs to (operation and scope, e.g. the
AppInstance whose users are listed) and the position after which the next page
starts, HMAC-signed with a per-emulator secret. Positions are creation sequence
numbers, never offsets, so a walk visits every item that existed throughout it
exactly once even while other clients create and delete.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import hmac
import itertools
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from chime_conformance.emulator.exceptions import BadRequestException


class Sequenced(Protocol):
    @property
    def seq(self) -> int: ...


ItemT = TypeVar("ItemT", bound=Sequenced)


@dataclass(frozen=True)
class Members:
    """The items of one list: the records of ``table`` (a dict whose insertion order
    is creation order, as every table of models.py) that ``keep`` accepts.

    Paging one costs O(log n + what the page skips and holds), not O(n): the
    table's records are ordered once, and again only when a record was added or
    removed, then each page bisects to its start."""

    table: dict[str, Any]
    keep: Callable[[Any], bool] | None = None


@dataclass
class _Order:
    """A table's records in creation order, and what tells whether it is still so."""

    table: dict[str, Any]
    length: int
    last: Any
    records: list[Any]
    seqs: list[int]

    @classmethod
    def of(cls, table: dict[str, Any]) -> _Order:
        records = list(dict.values(table))  # the dict's own: no marking by the store
        seqs = [record.seq for record in records]
        if any(a >= b for a, b in itertools.pairwise(seqs)):  # restored out of order
            records.sort(key=lambda record: record.seq)
            seqs = [record.seq for record in records]
        return cls(table, len(table), _last(table), records, seqs)

    def holds(self, table: dict[str, Any]) -> bool:
        # Records are only ever added at the end (a new key, or a deleted key
        # created again, which is a new record) or removed: the same length and
        # the same last record mean the same records.
        return self.table is table and self.length == len(table) and self.last is _last(table)


def _last(table: dict[str, Any]) -> Any:
    if not table:
        return None
    return dict.get(table, next(reversed(table)))


@dataclass(frozen=True)
class Page(Generic[ItemT]):
    items: list[ItemT]
    next_token: str | None


class PageTokens:
    """Issues and checks NextTokens; the secret never leaves the emulator."""

    def __init__(self, secret: bytes | None = None) -> None:
        self.secret = secret if secret is not None else secrets.token_bytes(32)
        self._orders: dict[int, _Order] = {}

    @property
    def secret(self) -> bytes:
        return self._secret

    @secret.setter
    def secret(self, value: bytes) -> None:  # a restored state brings its own
        self._secret = value
        # keyed once, copied per token (keying an HMAC costs more than the hash)
        self._keyed = hmac.new(value, digestmod=hashlib.sha256)

    def issue(self, listing: str, after_seq: int) -> str:
        payload = json.dumps({"l": listing, "a": after_seq}, separators=(",", ":")).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def position(self, listing: str, token: str) -> int:
        """The sequence number the page after ``token`` starts after."""
        payload_part, _, mac_part = token.partition(".")
        try:
            payload = base64.urlsafe_b64decode(_padded(payload_part))
            mac = base64.urlsafe_b64decode(_padded(mac_part))
        except (binascii.Error, ValueError):
            raise _invalid_token() from None
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise _invalid_token()
        claims = json.loads(payload)
        if claims.get("l") != listing:
            raise BadRequestException(
                "Invalid NextToken: it belongs to another list; "
                "pass the NextToken of the previous page of this same list."
            )
        return int(claims["a"])

    def page(
        self,
        listing: str,
        items: Members | Sequence[ItemT],
        max_results: int,
        next_token: str | None,
    ) -> Page[ItemT]:
        """One page of ``items`` (in creation order) after ``next_token``."""
        after = self.position(listing, next_token) if next_token else -1
        if isinstance(items, Members):
            found = self._window(items, after, max_results + 1)
        else:
            found = [item for item in items if item.seq > after][: max_results + 1]
        page = found[:max_results]
        more = len(found) > max_results
        return Page(page, self.issue(listing, page[-1].seq) if more else None)

    def _window(self, members: Members, after: int, count: int) -> list[Any]:
        """Up to ``count`` kept records created after sequence number ``after``."""
        order = self._orders.get(id(members.table))
        if order is None or not order.holds(members.table):
            if len(self._orders) > 256:  # tables of reset or deleted scopes
                self._orders.clear()
            order = self._orders[id(members.table)] = _Order.of(members.table)
        records, keep = order.records, members.keep
        found: list[Any] = []
        for index in range(bisect.bisect_right(order.seqs, after), len(records)):
            if keep is None or keep(records[index]):
                found.append(records[index])
                if len(found) == count:
                    break
        return found

    def _mac(self, payload: bytes) -> bytes:
        keyed = self._keyed.copy()
        keyed.update(payload)
        return keyed.digest()


def _invalid_token() -> BadRequestException:
    return BadRequestException(
        "Invalid NextToken: it was not issued by this service or has been altered."
    )


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _padded(text: str) -> str:
    return text + "=" * (-len(text) % 4)
