"""Who may do what: the emulator's identities, their accounts, and IAM's two refusals.

An identity is an access key with its secret, the AWS account it belongs to and
the actions its policy denies (``KEY:SECRET:ACCOUNT_ID[:deny=chime:Action,…]``).
Every request acts in the account of the key that signed it, as in moto, whose
backends are keyed by account and region like ``models.EmulatorBackend``.

Before an operation runs, :meth:`Policy.authorize` refuses, with the modeled
403 ForbiddenException (docs/contract.md, tenant-isolation):

- an action the identity's policy denies (IAM: an explicit deny wins);
- a request naming an Amazon Chime resource (``arn:aws:chime:…``, in any
  top-level member) of another account. IAM allows a cross-account request only
  when the resource's own account grants it through a resource-based policy,
  and Amazon Chime SDK resources have none; the refusal does not depend on
  whether the resource exists, so it tells the caller nothing.

The accounts API's actions have no resource-level permissions (their resource
is ``*``): an Amazon Chime account of another AWS account is simply not among
the caller's, 404 NotFoundException, which the keyed model answers by itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from chime_conformance.contract import spec
from chime_conformance.emulator.exceptions import ForbiddenException

ACTION_PREFIX = "chime:"
_ACCOUNT_ID = re.compile(r"[0-9]{12}", re.ASCII)
# arn:partition:service:region:account:resource
_CHIME_ARN = re.compile(r"arn:[^:]*:chime:[^:]*:([^:]*):.+", re.DOTALL)


class IdentityError(ValueError):
    """An identity that cannot be used, said in one sentence."""


@dataclass(frozen=True)
class Identity:
    """An access key, its secret, its AWS account and the actions it is denied."""

    access_key: str
    secret_key: str
    account_id: str
    denied_actions: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not self.access_key or not self.secret_key:
            raise IdentityError("an identity needs a non-empty access key and secret key")
        if not _ACCOUNT_ID.fullmatch(self.account_id):
            raise IdentityError(
                f"the account of access key {self.access_key!r} must be 12 digits, "
                f"not {self.account_id!r}"
            )
        unknown = sorted(set(self.denied_actions) - set(ACTIONS))
        if unknown:
            raise IdentityError(
                f"{unknown[0]!r} denied to {self.access_key!r} is no action of this emulator "
                f"(actions are {ACTION_PREFIX}<Operation>, e.g. {ACTION_PREFIX}DeleteAppInstance)"
            )
        object.__setattr__(self, "denied_actions", frozenset(self.denied_actions))

    @classmethod
    def parse(cls, text: str) -> Identity:
        """``KEY:SECRET:ACCOUNT_ID`` or ``KEY:SECRET:ACCOUNT_ID:deny=chime:A,chime:B``."""
        parts = text.split(":", 3)
        if len(parts) < 3:
            raise IdentityError(
                f"identity {text.split(':', 1)[0]!r}… is not ACCESS_KEY:SECRET:ACCOUNT_ID"
                "[:deny=chime:Action,…]"
            )
        access_key, secret_key, account_id, *rest = parts
        denied: list[str] = []
        if rest:
            if not rest[0].startswith("deny="):
                raise IdentityError(
                    f"after the account of identity {access_key!r} comes deny=chime:Action,… "
                    f"(got {rest[0][:40]!r})"
                )
            denied = [action.strip() for action in rest[0].removeprefix("deny=").split(",")]
        return cls(access_key, secret_key, account_id, frozenset(a for a in denied if a))

    def describe(self) -> dict[str, Any]:
        """What ``GET /_emulator/health`` says of it (never the secret key)."""
        return {
            "AccessKeyId": self.access_key,
            "AccountId": self.account_id,
            "DeniedActions": sorted(self.denied_actions),
        }

    def principal(self) -> str:
        return f"arn:aws:iam::{self.account_id}:user/{self.access_key}"


ACTIONS = frozenset(f"{ACTION_PREFIX}{op.name}" for op in spec.operations())

# The second identity the embedded emulator of the suite gets (pytest plugin), in an
# account of its own, so a suite can check that accounts cannot see each other.
OTHER_TEST_IDENTITY = Identity("testing-other", "testing-other", "210987654321")


def identities_of(primary: Identity, others: Iterable[Identity]) -> tuple[Identity, ...]:
    """``primary`` then ``others``, one per access key; an identity with the
    primary's key replaces it (to give the default key a deny list)."""
    found: dict[str, Identity] = {primary.access_key: primary}
    seen: set[str] = set()
    for identity in others:
        if identity.access_key in seen:
            raise IdentityError(f"access key {identity.access_key!r} is given twice")
        seen.add(identity.access_key)
        found[identity.access_key] = identity
    return tuple(found.values())


def chime_arns(members: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """``(member, arn, account)`` for every top-level member naming an Amazon
    Chime resource; other services' ARNs (a Pinpoint app, a Lex alias) are not
    this service's to authorize."""
    for member, value in members.items():
        if isinstance(value, str):
            match = _CHIME_ARN.fullmatch(value)
            if match:
                yield member, value, match.group(1)


class Policy:
    """The identities of one emulator, by access key, and what each may do."""

    def __init__(self, identities: Iterable[Identity]) -> None:
        self.identities = tuple(identities)
        self._by_key = {identity.access_key: identity for identity in self.identities}
        self.primary = self.identities[0]

    def caller(self, access_key: str) -> Identity:
        """The identity of a verified access key (the primary identity for a key
        the verifier let through without one)."""
        return self._by_key.get(access_key, self.primary)

    def authorize(
        self, caller: Identity, operation: spec.Operation, members: Mapping[str, Any]
    ) -> Identity:
        """The identity the request acts as, once IAM allows it; 403 ForbiddenException
        for a denied action or another account's resource."""
        action = f"{ACTION_PREFIX}{operation.name}"
        if action in caller.denied_actions:
            raise ForbiddenException(
                f"User: {caller.principal()} is not authorized to perform: {action} "
                "with an explicit deny in an identity-based policy."
            )
        for _member, arn, account in chime_arns(members):
            if account != caller.account_id:
                raise ForbiddenException(
                    f"User: {caller.principal()} is not authorized to perform: {action} on "
                    f"resource: {arn[:1600]} because no resource-based policy allows the "
                    f"{action} action."
                )
        return caller
