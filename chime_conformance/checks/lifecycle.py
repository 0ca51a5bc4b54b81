"""The lifecycle of resources (docs/contract.md read-after-write,
answer-is-current, delete-is-final, cascade, idempotency, duplicates, admins,
tags, settings, user-expiration): checks that compare several answers, run by the scenarios
(conformance/scenario.py), the state machines and schemathesis' linked calls,
and recorded through chime_conformance.run.recorder."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from chime_conformance.checks.registry import SCHEMATHESIS, declare

READ_AFTER_WRITE = declare(
    "read_after_write",
    rule="read-after-write",
    description="What a write stored reads back as written, field by field.",
)
SETTINGS_READ_BACK = declare(
    "settings_read_back",
    rule="settings",
    description="Retention and expiration settings read back as they were put.",
)
TAGS_READ_BACK = declare(
    "tags_read_back",
    rule="tags",
    description="ListTagsForResource shows exactly the tags added and not removed.",
)
TAG_LIMIT = declare(
    "tag_limit",
    rule="tags",
    description="A resource never holds more than 50 tags; one more is refused with a 4xx.",
)
DELETE_IS_FINAL = declare(
    "delete_is_final",
    rule="delete-is-final",
    description="A deleted resource stays unreadable, and updating or deleting it again fails.",
)
CASCADE = declare(
    "cascade",
    rule="cascade",
    description="Deleting an AppInstance (or user) deletes its users, bots, admins and endpoints.",
)
IDEMPOTENCY = declare(
    "idempotency",
    rule="idempotency",
    description="A ClientRequestToken repeated with the same input returns the same resource.",
)
DUPLICATE_REJECTED = declare(
    "duplicate_rejected",
    rule="duplicates",
    description="Creating a resource whose id is taken is refused (409 ConflictException).",
)
ADMINS = declare(
    "admins",
    rule="admins",
    description="Only a user or bot of the same AppInstance can be its admin, once.",
)
USER_EXPIRATION = declare(
    "user_expiration",
    rule="user-expiration",
    description="A user past CreatedTimestamp + ExpirationDays is deleted within 6 hours; others stay.",
)

# schemathesis' linked calls (conformance/_schemathesis_harness.py)
USE_AFTER_FREE = declare(
    "use_after_free",
    rule="delete-is-final",
    description="schemathesis (linked calls): a deleted resource is not found afterwards.",
    kind=SCHEMATHESIS,
)
ENSURE_RESOURCE_AVAILABILITY = declare(
    "ensure_resource_availability",
    rule="read-after-write",
    description="schemathesis (linked calls): a created resource is there for the next call.",
    kind=SCHEMATHESIS,
)
ANSWER_IS_CURRENT = declare(
    "answer_is_current",
    rule="answer-is-current",
    description="A write's answer that carries the resource shows its state as read right after.",
)


def answer_differences(
    answer: Mapping[str, Any],
    read: Mapping[str, Any],
    pairs: Iterable[tuple[Sequence[str], Sequence[str]]],
) -> list[str]:
    """Where a write's ``answer`` and the ``read`` right after it disagree, at
    each ``(path in the answer, path in the read)`` of ``pairs`` (a member both
    hold, ``promises.answer_paths``); absent in both agrees."""
    differences = []
    for said_at, read_at in pairs:
        said, found = _at(answer, said_at), _at(read, read_at)
        if said != found:
            differences.append(f"{'.'.join(said_at)}: answered {said!r}, read {found!r}")
    return differences


def _at(body: Any, path: Sequence[str]) -> Any:
    for key in path:
        body = body.get(key) if isinstance(body, Mapping) else None
    return body
