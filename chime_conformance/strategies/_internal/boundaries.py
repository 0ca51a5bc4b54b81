"""Values just inside and just outside one constraint, breaking nothing else.

For a :class:`~chime_conformance.contract.constraints.Constraint` on a member with
schema ``S``, :func:`values_inside` makes values that keep every keyword of
``S`` and sit on the bound (exactly ``maxLength`` characters, exactly
``minimum``…); :func:`values_outside` makes values that break that keyword,
by one step (``maxLength + 1`` characters, ``minimum - 1``, one bad
character…), and keep every other keyword of ``S``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from chime_conformance.contract import constraints as catalogue
from chime_conformance.contract import spec
from chime_conformance.contract.constraints import Constraint
from chime_conformance.strategies._internal.patterns import (
    ANY_CHARACTER,
    ASTRAL_CHARACTER,
    integers,
    strings_of_length,
    texts_of_length,
)
from chime_conformance.strategies._internal.values import (
    lists_of,
    schema_key,
    validator_for,
    values_for,
)

ASTRAL_SAMPLE = "\U0001f600"

# Characters that most patterns refuse somewhere: whitespace, controls,
# separators, non-characters, letters of the other case, an emoji.
BAD_CHARACTERS = (
    " ", "\t", "\n", "\r", "\u0000", "\u0001", "\u007f", "\u0084", "\u009f", "\ufffe",
    "/", ":", "#", "%", "*", "?", "é", ASTRAL_SAMPLE, "A", "a", "0", "_", "-", ".", "@",
)  # fmt: skip
WHITESPACE = (" ", "\t", "\u00a0", "\u3000", "\u2003")


def _schema(op: spec.Operation, c: Constraint) -> Mapping[str, Any]:
    return catalogue.member_schema(op, c.member)


def _only_breaks(schema: Mapping[str, Any], keyword: str) -> Callable[[Any], bool]:
    validator = validator_for(schema_key(schema))
    return lambda value: [e.validator for e in validator.iter_errors(value)] == [keyword]


def values_inside(op: spec.Operation, c: Constraint) -> Any:
    """Valid values of ``c``'s member that sit on ``c``'s bound."""
    schema = _schema(op, c)
    if c.keyword in ("minLength", "maxLength"):
        return strings_of_size(schema, c.bound)
    if c.keyword in ("minimum", "maximum"):
        return st.just(c.bound)
    if c.keyword in ("minItems", "maxItems"):
        return lists_of_size(schema, c.member, c.bound)
    return values_for(schema, member=c.member)


def values_outside(op: spec.Operation, c: Constraint) -> Any:
    """Values of ``c``'s member that break ``c``, one step past its bound,
    and keep every other keyword of the member's schema."""
    if not c.probeable:
        raise InvalidArgument(f"{c.id} cannot be broken alone (shadowed by {c.shadowed_by})")
    schema = _schema(op, c)
    strategy = _OUTSIDE[c.keyword](op, c, schema)
    return strategy.filter(_only_breaks(schema, c.keyword))


def strings_of_size(schema: Mapping[str, Any], size: int) -> Any:
    """Strings of exactly ``size`` characters that satisfy ``schema``'s pattern;
    for free text and patterns that admit them, some are all astral (a
    256-character limit counts 256 emoji as 256)."""
    pattern = schema.get("pattern")
    free = pattern is None or catalogue.is_vacuous_pattern(pattern)
    base = texts_of_length(ANY_CHARACTER, size) if free else strings_of_length(pattern, size)
    if size and (free or spec.pattern_matches(pattern, ASTRAL_SAMPLE * size)):
        return st.one_of(base, texts_of_length(ASTRAL_CHARACTER, size))
    return base


def lists_of_size(schema: Mapping[str, Any], member: str, size: int) -> Any:
    """Lists of exactly ``size`` distinct valid items of array ``schema``."""
    items = schema.get("items", {})
    elements = values_for(items, member=member + "[]")
    return lists_of(elements, items, min_size=size, max_size=size)


def _too_short(op: spec.Operation, c: Constraint, schema: Mapping[str, Any]) -> Any:
    return strings_of_size(schema, c.bound - 1)


def _too_long(op: spec.Operation, c: Constraint, schema: Mapping[str, Any]) -> Any:
    return strings_of_size(schema, c.bound + 1)


def _below(op: spec.Operation, c: Constraint, schema: Mapping[str, Any]) -> Any:
    return st.just(c.bound - 1)


def _above(op: spec.Operation, c: Constraint, schema: Mapping[str, Any]) -> Any:
    return st.just(c.bound + 1)


def _too_few(op: spec.Operation, c: Constraint, schema: Mapping[str, Any]) -> Any:
    return lists_of_size(schema, c.member, c.bound - 1)


def _too_many(op: spec.Operation, c: Constraint, schema: Mapping[str, Any]) -> Any:
    return lists_of_size(schema, c.member, c.bound + 1)


def _enum_near_misses(op: spec.Operation, c: Constraint, schema: Mapping[str, Any]) -> Any:
    return enum_near_misses(c.bound)


def enum_near_misses(allowed: tuple[Any, ...]) -> Any:
    """Strings next to an allowed value that are not allowed: another case,
    surrounding whitespace, a suffix, a similar unknown word, empty."""
    if not allowed:
        raise InvalidArgument("an enum needs at least one allowed value")
    return st.builds(_enum_variants, st.sampled_from(allowed)).flatmap(
        lambda variants: st.sampled_from([v for v in variants if v not in allowed])
    )


def _enum_variants(value: str) -> list[str]:
    return [
        value.lower(), value.swapcase(), value.capitalize(), f" {value}", f"{value} ",
        f"{value}\n", f"{value}_", f"{value}S", value[:-1], "", "UNKNOWN", value.replace("_", "-"),
    ]  # fmt: skip


def _pattern_near_misses(op: spec.Operation, c: Constraint, schema: Mapping[str, Any]) -> Any:
    return near_misses(schema, member=c.member)


@st.composite
def near_misses(draw: Any, schema: Mapping[str, Any], *, member: str | None = None) -> str:
    """Strings that fail ``schema``'s pattern but keep its other keywords,
    made from a valid value by one small edit: a bad character put in or
    swapped in, surrounding whitespace, whitespace only, another case, a
    broken ARN (wrong partition, a segment missing, a resource starting
    with ``/``)."""
    base = draw(values_for(schema, member=member))
    where = draw(integers(0, len(base)))
    space = draw(st.sampled_from(WHITESPACE))
    keeps_the_rest = _only_breaks(schema, "pattern")
    candidates = [m for m in _edits(base, where, space) if keeps_the_rest(m)]
    assume(candidates)
    return draw(st.sampled_from(candidates))


def _edits(base: str, where: int, space: str) -> Iterator[str]:
    for char in BAD_CHARACTERS:
        yield base[:where] + char + base[where + 1 :]
        yield base[:where] + char + base[where:]
    yield from (space + base, base + space, base + "\n", "\n" + base)
    yield from (space * max(len(base), 1), space, base.swapcase())
    yield from _arn_edits(base)


def _arn_edits(base: str) -> Iterator[str]:
    if not base.startswith("arn:"):
        return
    parts = base.split(":", 5)
    if len(parts) == 6:
        yield ":".join(["arn", parts[1].upper(), *parts[2:]])  # a partition in upper case
        yield ":".join(["ARN", *parts[1:]])
        yield ":".join(parts[:3] + parts[4:])  # the region segment missing
        yield ":".join([*parts[:5], "/" + parts[5]])  # a resource that starts with /
        yield ":".join(["arn", "aws_cn", *parts[2:]])


def _wrong_types(op: spec.Operation, c: Constraint, schema: Mapping[str, Any]) -> Any:
    location, _ = op.location_of(catalogue.split_path(c.member)[0])
    return wrong_types(schema, on_the_query=location == "query")


def wrong_types(schema: Mapping[str, Any], *, on_the_query: bool = False) -> Any:
    """JSON values of another type than ``schema``'s: numbers, booleans, lists
    or objects for a string; text and fractions for an integer; text or a
    list for an object. ``on_the_query`` keeps to values whose text is not
    itself a valid query value (an integer member gets ``"ten"``, ``1.5``)."""
    kind = schema.get("type")
    if on_the_query:
        return st.sampled_from(["ten", "1.5", "", "0x10", "1e3"]) | st.just(1.5)
    samples: dict[str, list[Any]] = {
        "string": [7, 1.5, True, ["text"], {"text": "text"}],
        "integer": ["7", 7.5, True, [7], {"value": 7}],
        "number": ["7", True, [7], {"value": 7}],
        "boolean": ["true", 1, [True]],
        "array": ["item", {"0": "item"}, 7],
        "object": ["{}", [], 7, True],
    }
    if kind not in samples:
        raise InvalidArgument(f"no wrong types known for schema type {kind!r}")
    return st.sampled_from(samples[kind])


_OUTSIDE: Mapping[str, Callable[[spec.Operation, Constraint, Mapping[str, Any]], Any]] = {
    "minLength": _too_short,
    "maxLength": _too_long,
    "pattern": _pattern_near_misses,
    "enum": _enum_near_misses,
    "minimum": _below,
    "maximum": _above,
    "minItems": _too_few,
    "maxItems": _too_many,
    "type": _wrong_types,
}
