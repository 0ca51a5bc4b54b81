"""The constraint catalogue: every constraint an operation's input must keep.

A :class:`Constraint` names one JSON Schema keyword on one input member of one
operation (``CreateAppInstance:Tags[].Key:maxLength``). :func:`constraints`
lists them all, derived from the spec's schemas, so the suite's coverage, the
report and the strategies that probe each constraint agree on what exists.

Member paths join object properties with ``.`` and mark list items with ``[]``
(``Configuration.Lex.LexBotAliasArn``, ``Tags[].Key``, ``TagKeys[]``).

What is *not* a constraint: vacuous keywords that no value can break, namely a
``minLength`` or ``minItems`` of 0 and a match-anything pattern (botocore's
unanchored ``.*``, see :func:`is_vacuous_pattern`). JSON types are listed only
when asked for (``include_types=True``), and only where the wire carries them:
a path label or a string query parameter is text whatever JSON type the
caller meant, so it has no type to break.

Some constraints exist but cannot be broken alone: a ``maxLength`` of 1600 on
an ARN whose pattern never matches more than 1284 characters, or the
``minLength`` of 1 on a pattern that needs a character. Their
:attr:`Constraint.shadowed_by` names the keyword that always breaks with them
(``"pattern"``), or ``"server-issued"`` for a NextToken, whose bounds no
forged value can show; the suite cannot cover them and the report says why.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from re import _parser as _sre_parse  # Python 3.11+
from typing import Any

from chime_conformance.contract import spec

# The JSON Schema keywords a constraint can be (its ``keyword``).
KEYWORDS = (
    "required",
    "type",
    "minLength",
    "maxLength",
    "pattern",
    "enum",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
)
INSIDE = "inside"
OUTSIDE = "outside"
SIDES = (INSIDE, OUTSIDE)


@dataclass(frozen=True)
class Constraint:
    """One JSON Schema keyword on one input member of one operation.

    ``bound`` is the keyword's value: a number for lengths, ranges and list
    sizes, the pattern text, a tuple of the allowed values for ``enum``,
    ``True`` for ``required`` and the type name for ``type``.
    """

    operation: str
    member: str
    keyword: str
    bound: Any
    shadowed_by: str | None = None

    @property
    def id(self) -> str:
        """The stable identifier, ``Operation:Member.Path:keyword``."""
        return f"{self.operation}:{self.member}:{self.keyword}"

    @property
    def probeable(self) -> bool:
        """Whether a value can break this constraint and no other."""
        return self.shadowed_by is None

    def __str__(self) -> str:
        return self.id


# --------------------------------------------------------------------------
# Patterns: what they admit


def is_vacuous_pattern(pattern: str) -> bool:
    """Whether every string satisfies ``pattern`` (a search): it matches the
    empty string and nothing anchors it, like botocore's free-text ``.*``."""
    anchors = ("^", "$", "\\A", "\\Z", "\\b", "\\B", "(?=", "(?!", "(?<")
    return not any(a in pattern for a in anchors) and spec.pattern_matches(pattern, "")


def is_anchored(pattern: str) -> bool:
    """Whether ``pattern`` must match the whole value (``^…$``)."""
    return pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$")


def anchored_core(pattern: str) -> str:
    """``pattern`` without its ``^…$`` anchors (unchanged when it has none)."""
    return pattern[1:-1] if is_anchored(pattern) else pattern


@functools.cache
def pattern_length_range(pattern: str) -> tuple[int, float]:
    """The shortest and longest value (in characters) that can satisfy
    ``pattern``; the longest is ``math.inf`` when unbounded or unanchored."""
    parsed = _sre_parse.parse(spec.ecma_regex(anchored_core(pattern)).pattern)
    low, high = parsed.getwidth()
    if not is_anchored(pattern) or high >= _sre_parse.MAXREPEAT - 1:
        return low, math.inf
    return low, high


# --------------------------------------------------------------------------
# The catalogue


def constraints(op: spec.Operation, *, include_types: bool = False) -> tuple[Constraint, ...]:
    """Every constraint of ``op``'s input, in schema order: ``required``,
    ``minLength``/``maxLength``, ``pattern``, ``enum``, ``minimum``/``maximum``,
    ``minItems``/``maxItems`` (and ``type`` with ``include_types=True``),
    vacuous ones left out (see the module docstring)."""
    found = _catalogue(op.name)
    if include_types:
        return found
    return tuple(c for c in found if c.keyword != "type")


def all_constraints(api: str | None = None) -> tuple[Constraint, ...]:
    """The constraints of every operation of ``api`` (or of both APIs)."""
    return tuple(c for op in spec.operations(api) for c in constraints(op))


def constraint(constraint_id: str) -> Constraint:
    """The constraint whose :attr:`Constraint.id` is ``constraint_id``."""
    name = constraint_id.split(":", 1)[0]
    for candidate in _catalogue(name):
        if candidate.id == constraint_id:
            return candidate
    raise KeyError(f"no constraint {constraint_id!r}")


def member_schema(op: spec.Operation, member: str) -> Mapping[str, Any]:
    """The schema of the member at path ``member`` (``Tags[].Key``) of ``op``."""
    schema: Mapping[str, Any] = op.input_schema
    for step in split_path(member):
        schema = schema["items"] if step == "[]" else schema["properties"][step]
    return schema


def split_path(member: str) -> list[str]:
    """``"Tags[].Key"`` → ``["Tags", "[]", "Key"]``."""
    return [step for step in re.split(r"\.|(\[\])", member) if step]


# Members whose only valid values are ones the server issued: a forged
# NextToken is refused (docs/contract.md pagination) whatever its length, so no
# request can show its length bound at work from either side.
SERVER_ISSUED = frozenset({"NextToken"})


@functools.cache
def _catalogue(op_name: str) -> tuple[Constraint, ...]:
    op = spec.operation(op_name)
    return tuple(_unobservable_if_issued(c) for c in _walk_object(op, op.input_schema, ""))


def _unobservable_if_issued(c: Constraint) -> Constraint:
    if split_path(c.member)[0] in SERVER_ISSUED and c.keyword != "required":
        return dataclasses.replace(c, shadowed_by="server-issued")
    return c


def _walk_object(op: spec.Operation, schema: Mapping[str, Any], path: str) -> Iterator[Constraint]:
    required = schema.get("required", [])
    for name, child in schema.get("properties", {}).items():
        child_path = f"{path}.{name}" if path else name
        if name in required:
            yield Constraint(op.name, child_path, "required", True)
        yield from _walk(op, child, child_path)


def _walk(op: spec.Operation, schema: Mapping[str, Any], path: str) -> Iterator[Constraint]:
    if "type" in schema and _has_wire_type(op, schema, path):
        # a value of another type is never one of the enum's either
        shadow = "enum" if "enum" in schema else None
        yield Constraint(op.name, path, "type", schema["type"], shadow)
    yield from _string_constraints(op.name, schema, path)
    yield from _number_constraints(op.name, schema, path)
    if schema.get("type") == "array" or "items" in schema:
        yield from _array_constraints(op.name, schema, path)
        yield from _walk(op, schema.get("items", {}), path + "[]")
    if schema.get("type") == "object" or "properties" in schema:
        yield from _walk_object(op, schema, path)


def _has_wire_type(op: spec.Operation, schema: Mapping[str, Any], path: str) -> bool:
    top = split_path(path)[0]
    location, _ = op.location_of(top)
    return location == "body" or schema.get("type") in ("integer", "number")


def _string_constraints(op_name: str, schema: Mapping[str, Any], path: str) -> Iterator[Constraint]:
    pattern = schema.get("pattern")
    if schema.get("minLength", 0) > 0:
        bound = schema["minLength"]
        yield Constraint(op_name, path, "minLength", bound, _length_shadow(pattern, bound - 1))
    if "maxLength" in schema:
        bound = schema["maxLength"]
        yield Constraint(op_name, path, "maxLength", bound, _length_shadow(pattern, bound + 1))
    if pattern is not None and not is_vacuous_pattern(pattern):
        yield Constraint(op_name, path, "pattern", pattern)
    if "enum" in schema:
        yield Constraint(op_name, path, "enum", tuple(schema["enum"]))


def _length_shadow(pattern: str | None, outside_length: int) -> str | None:
    """``"pattern"`` when no value of ``outside_length`` characters can match it."""
    if pattern is None or is_vacuous_pattern(pattern):
        return None
    low, high = pattern_length_range(pattern)
    return None if low <= outside_length <= high else "pattern"


def _number_constraints(op_name: str, schema: Mapping[str, Any], path: str) -> Iterator[Constraint]:
    for keyword in ("minimum", "maximum"):
        if keyword in schema:
            yield Constraint(op_name, path, keyword, schema[keyword])


def _array_constraints(op_name: str, schema: Mapping[str, Any], path: str) -> Iterator[Constraint]:
    if schema.get("minItems", 0) > 0:
        yield Constraint(op_name, path, "minItems", schema["minItems"])
    if "maxItems" in schema:
        yield Constraint(op_name, path, "maxItems", schema["maxItems"])
