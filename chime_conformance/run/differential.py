"""Differential runs: the same request to two targets, and where they disagree.

With ``--reference-url`` every generated request also goes to a reference
endpoint (e.g. the emulator, or the real service). Two answers agree when
they have the same status, the same error type and the same response *shape*
(member names and JSON types, not values: ARNs, ids and timestamps differ
between targets by nature; see :func:`shape_of` for lists).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chime_conformance.checks import AGREES_WITH_REFERENCE, CheckFailure, error_type
from chime_conformance.wire.client import Exchange

CHECK_NAME = AGREES_WITH_REFERENCE.name  # declared in the registry
# Members whose presence depends on how much data a target holds, not on the
# contract: a List has a NextToken when more items remain, and two targets
# shared with other tests hold different numbers of them.
DATA_DEPENDENT = frozenset({"NextToken"})


def shape_of(value: Any) -> Any:
    """The JSON shape of ``value``: objects keep their member names and the
    shapes of their values; a list keeps only the JSON types of its items;
    scalars become their JSON type name. :data:`DATA_DEPENDENT` members are
    left out.

    Lists are compared loosely on purpose: two targets page the same kinds of
    resources in different orders (ids differ), so a page's items, and which
    optional members they happen to carry, legitimately differ. Each item's
    own structure is what the schema checks judge on each target."""
    if isinstance(value, Mapping):
        return {
            key: shape_of(item) for key, item in sorted(value.items()) if key not in DATA_DEPENDENT
        }
    if isinstance(value, list):
        return sorted({_json_type(item) for item in value})
    return _json_type(value)


def _json_type(value: Any) -> str:
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return "number"
    return "string"


def disagreements(target: Exchange, reference: Exchange) -> list[tuple[str, str, str]]:
    """``(what, target's, reference's)`` for each way the two answers differ."""
    found = []
    if target.status != reference.status:
        found.append(("status", str(target.status), str(reference.status)))
    if error_type(target) != error_type(reference):
        found.append(("error type", str(error_type(target)), str(error_type(reference))))
    if target.status == reference.status and shape_of(target.json) != shape_of(reference.json):
        found.append(
            ("response shape", repr(shape_of(target.json)), repr(shape_of(reference.json)))
        )
    return found


def failure(
    target: Exchange, reference: Exchange, found: list[tuple[str, str, str]]
) -> CheckFailure:
    """A CheckFailure naming every disagreement, the reference's answer as 'documented'."""
    failed = CheckFailure(
        operation=target.operation or "?",
        spec_fact=f"the target answers as the reference {reference.request.url.split('/')[2]} does",
        received="; ".join(f"{what} {ours}" for what, ours, _ in found),
        documented="; ".join(f"{what} {theirs}" for what, _, theirs in found),
    )
    failed.check = CHECK_NAME
    return failed
