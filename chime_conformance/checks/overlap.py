"""Overlapping requests (docs/contract.md concurrency): several requests sent
at once (``chime_conformance.wire.overlapping``), and what they add up to
judged against what the rules allow for some order of them. Run by the
concurrency tests (conformance/test_concurrency.py) and the state machine of
overlapping requests; each judge is pure: answers in, a :class:`Judgement` out,
recorded by the caller under :data:`CONCURRENT_OUTCOMES`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chime_conformance.checks.registry import declare
from chime_conformance.wire.exchange import Exchange

CONCURRENT_OUTCOMES = declare(
    "concurrent_outcomes_allowed",
    rule="concurrency",
    description="Overlapping requests end in an outcome the rules allow for some order of them.",
)


@dataclass(frozen=True)
class Judgement:
    """What several answers add up to: held or not, and in the words of a
    :class:`~chime_conformance.checks.CheckFailure` when not."""

    held: bool
    fact: str
    received: str
    documented: str


# --------------------------------------------------------------------------
# Overlapping requests


def _statuses(exchanges: Sequence[Exchange]) -> str:
    return ", ".join(str(e.status) for e in exchanges)


def judge_overlapping_creates(
    exchanges: Sequence[Exchange], *, success: int, what: str
) -> Judgement:
    """N overlapping creates of one id: exactly one succeeds, every other is a
    409 ConflictException (docs/contract.md duplicates, under overlap)."""
    won = [e for e in exchanges if e.status == success]
    lost = [e for e in exchanges if e.status == 409]
    return Judgement(
        held=len(won) == 1 and len(won) + len(lost) == len(exchanges),
        fact=f"{len(exchanges)} overlapping creates of one {what}: one succeeds, the rest conflict",
        received=_statuses(exchanges),
        documented=f"one {success}, {len(exchanges) - 1} × 409",
    )


def judge_overlapping_replays(
    exchanges: Sequence[Exchange], identifiers: Sequence[Any], *, success: int, what: str
) -> Judgement:
    """N overlapping requests with one ClientRequestToken and one input: every
    one succeeds, naming the same resource (docs/contract.md idempotency)."""
    distinct = {json.dumps(i, sort_keys=True) for i in identifiers}
    return Judgement(
        held=all(e.status == success for e in exchanges) and len(distinct) == 1,
        fact=f"{len(exchanges)} overlapping replays of one ClientRequestToken make one {what}",
        received=f"{_statuses(exchanges)}; {len(distinct)} distinct resource(s): "
        f"{sorted(distinct)[:4]}",
        documented=f"{len(exchanges)} × {success}, one resource",
    )


def judge_overlapping_tags(
    exchanges: Sequence[Exchange], sent: Mapping[str, str], listed: Mapping[str, str]
) -> Judgement:
    """Overlapping TagResource calls with different keys: every key is there,
    with its value (docs/contract.md tags: TagResource merges)."""
    lost = sorted(key for key, value in sent.items() if listed.get(key) != value)
    return Judgement(
        held=all(200 <= e.status < 300 for e in exchanges) and not lost,
        fact=f"{len(exchanges)} overlapping TagResource calls with different keys keep every key",
        received=f"{_statuses(exchanges)}; keys lost or changed: {lost}",
        documented=f"every one of the {len(sent)} keys listed with its value",
    )


def judge_overlapping_deletes(
    exchanges: Sequence[Exchange], *, missing: frozenset[int], strict: bool
) -> Judgement:
    """Overlapping deletes of one resource: one succeeds and the others report
    it missing (lenient, *unverified*: several may succeed); never anything else."""
    won = [e for e in exchanges if 200 <= e.status < 300]
    others_missing = all(200 <= e.status < 300 or e.status in missing for e in exchanges)
    held = others_missing and (len(won) == 1 if strict else len(won) >= 1)
    return Judgement(
        held=held,
        fact=f"{len(exchanges)} overlapping deletes of one resource: one succeeds, the rest "
        "report it missing",
        received=_statuses(exchanges),
        documented=f"one 2xx, the rest {' or '.join(map(str, sorted(missing)))}"
        + ("" if strict else " (lenient: several 2xx)"),
    )


def judge_create_during_delete(
    create: Exchange, delete: Exchange, child_after: Exchange | None, *, missing: frozenset[int]
) -> Judgement:
    """A child created while its parent is deleted: the delete succeeds, the
    create succeeds or is refused (never a 5xx), and no child outlives the
    parent's deletion window (docs/contract.md cascade, under overlap)."""
    orphan = child_after is not None and child_after.status not in missing
    create_ok = 200 <= create.status < 300 or 400 <= create.status < 500
    after = "not created" if child_after is None else str(child_after.status)
    return Judgement(
        held=200 <= delete.status < 300 and create_ok and not orphan,
        fact="a child created while its AppInstance is deleted does not outlive it",
        received=f"delete {delete.status}, create {create.status}, the child's read after "
        f"the deletion window {after}",
        documented="delete 2xx; create 2xx or 4xx; the child then reported missing",
    )
