"""Resources of one account kept apart (docs/contract.md isolation): a read
naming one resource shows none of another resource's values. Run by the
promise tests (conformance/test_promises.py) on every read that names a
resource, for two AppInstances whose every value differs."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from chime_conformance.checks.registry import declare

READS_ARE_ISOLATED = declare(
    "reads_are_isolated",
    rule="isolation",
    description="A read naming one resource shows none of another resource's values.",
)

# Strings this long are told apart wherever they appear; shorter values (and
# numbers, enums) only under the member that holds them.
DISTINCT_LENGTH = 8

Fingerprints = frozenset[tuple[str, str]]


def _leaves(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for name, item in value.items():
            yield from _leaves(item, str(name))
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item, key)
    else:
        yield key, value


def _print(key: str, value: Any) -> tuple[str, str]:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    wide = isinstance(value, str) and len(value) >= DISTINCT_LENGTH
    return ("*" if wide else key, text)


def fingerprints(*values: Any) -> Fingerprints:
    """What tells a resource's values apart in an answer: each leaf of
    ``values`` as ``(member, value)``, long strings under ``*`` (anywhere)."""
    return frozenset(_print(key, leaf) for value in values for key, leaf in _leaves(value))


def leaked_values(answer: Any, own: Fingerprints, others: Fingerprints) -> list[str]:
    """The leaves of ``answer`` that belong to the other resource and not to
    the one the request named."""
    found = set()
    for key, leaf in _leaves(answer):
        printed = _print(key, leaf)
        if printed in others and printed not in own:
            found.add(f"{key}={printed[1][:80]}")
    return sorted(found)
