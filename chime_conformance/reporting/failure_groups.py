"""Failures grouped by cause: one card per (operation, check, cause).

A target that answers every request with the same HTML 500 fails hundreds of
checks for one reason. The page shows each (operation, check, cause) once,
with how many failing records it stands for and its minimal example (the
failing request with the shortest text); the other examples are listed,
folded, behind it, and every one is complete in results.json.

A record's *cause* is what the answer was when it was not in the API's shape
("answered 500 text/html", the words the run's verdict uses for tests), and
otherwise the first line of the check's message with the values that vary
from example to example (long quoted strings, long numbers) left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chime_conformance.run.results import FAIL

MAX_CAUSE_CHARS = 160
_LONG_QUOTED = re.compile(r"(['\"`])[^'\"`]{25,}\1")
_LONG_NUMBER = re.compile(r"\d{6,}")


def failure_cause(record: Mapping[str, Any]) -> str:
    """Why ``record`` (a failing record of results.json) failed, in a few words
    shared by every record that failed the same way."""
    from chime_conformance.run.implementation import foreign_response

    foreign = foreign_response(record.get("response"))
    if foreign is not None:
        return f"answered {foreign}"
    first = next((line for line in str(record.get("message") or "").splitlines() if line), "")
    first = _LONG_NUMBER.sub("…", _LONG_QUOTED.sub(r"\1…\1", first.strip()))
    return (
        (first[:MAX_CAUSE_CHARS] + "…") if len(first) > MAX_CAUSE_CHARS else first or "(no message)"
    )


@dataclass(frozen=True)
class FailureCard:
    """Every failing record of one (operation, check, cause); ``minimal`` first."""

    anchor: str
    operation: str
    check: str
    cause: str
    records: tuple[Mapping[str, Any], ...]

    @property
    def minimal(self) -> Mapping[str, Any]:
        return self.records[0]

    @property
    def others(self) -> tuple[Mapping[str, Any], ...]:
        return self.records[1:]

    @property
    def count(self) -> int:
        return len(self.records)

    @property
    def tests(self) -> int:
        return len({r["test_id"] for r in self.records})


@dataclass(frozen=True)
class CauseGroup:
    """The cards that share a cause, most failing records first."""

    cause: str
    cards: tuple[FailureCard, ...]

    @property
    def count(self) -> int:
        return sum(card.count for card in self.cards)


def failure_cards(
    records: Iterable[Mapping[str, Any]], *, prefix: str = "failure"
) -> list[FailureCard]:
    """One card per (operation, check, cause) of the failing ``records``, in
    the order their first record came; anchored ``{prefix}-1``, ``{prefix}-2``…"""
    grouped: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    for record in records:
        if record["outcome"] == FAIL:
            key = (record["operation"], record["check"], failure_cause(record))
            grouped.setdefault(key, []).append(record)
    return [
        FailureCard(f"{prefix}-{number}", operation, check, cause, tuple(sorted(found, key=_size)))
        for number, ((operation, check, cause), found) in enumerate(grouped.items(), start=1)
    ]


def cause_groups(cards: Sequence[FailureCard]) -> list[CauseGroup]:
    """``cards`` under their causes, the most frequent cause first."""
    by_cause: dict[str, list[FailureCard]] = {}
    for card in cards:
        by_cause.setdefault(card.cause, []).append(card)
    groups = [
        CauseGroup(cause, tuple(sorted(found, key=lambda c: -c.count)))
        for cause, found in by_cause.items()
    ]
    return sorted(groups, key=lambda group: (-group.count, group.cause))


def _size(record: Mapping[str, Any]) -> tuple[int, int, str]:
    """The minimal example: fewest steps, then the shortest request."""
    request = record.get("request") or {}
    body = request.get("body") if isinstance(request, Mapping) else None
    return (
        len(record.get("steps") or ()),
        len(str(body or "")) + len(str(request.get("url", ""))),
        record["test_id"],
    )
