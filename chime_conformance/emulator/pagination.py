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
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from chime_conformance.emulator.exceptions import BadRequestException


class Sequenced(Protocol):
    @property
    def seq(self) -> int: ...


ItemT = TypeVar("ItemT", bound=Sequenced)


@dataclass(frozen=True)
class Page(Generic[ItemT]):
    items: list[ItemT]
    next_token: str | None


class PageTokens:
    """Issues and checks NextTokens; the secret never leaves the emulator."""

    def __init__(self, secret: bytes | None = None) -> None:
        self.secret = secret if secret is not None else secrets.token_bytes(32)

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
        items: Sequence[ItemT],
        max_results: int,
        next_token: str | None,
    ) -> Page[ItemT]:
        """One page of ``items`` (in creation order) after ``next_token``."""
        after = self.position(listing, next_token) if next_token else -1
        remaining = [item for item in items if item.seq > after]
        page = remaining[:max_results]
        more = len(remaining) > max_results
        return Page(page, self.issue(listing, page[-1].seq) if more else None)

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self.secret, payload, hashlib.sha256).digest()


def _invalid_token() -> BadRequestException:
    return BadRequestException(
        "Invalid NextToken: it was not issued by this service or has been altered."
    )


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _padded(text: str) -> str:
    return text + "=" * (-len(text) % 4)
