"""Strings that satisfy a spec pattern, of a chosen length.

``hypothesis.strategies.from_regex`` makes typical matches but cannot aim at a
length, and the boundary probes need matches of exactly ``maxLength``
characters. So besides ``from_regex`` this module walks the parsed regex and
spends a length budget over its parts. Both read the pattern with the spec's
ECMA-262 meaning (``chime_conformance.contract.spec.ecma_regex``); ``.`` is narrowed to
exclude every line terminator (ECMA's, and NEL, which Java's ``.`` excludes)
so a valid value is valid under any engine the service may use.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from chime_conformance.contract import constraints as catalogue
from chime_conformance.contract import spec

try:
    from re import _constants as sre_c  # type: ignore[attr-defined]
    from re import _parser as sre  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_constants as sre_c  # type: ignore[no-redef]
    import sre_parse as sre  # type: ignore[no-redef]

# Strategies built inside draws are validated each time; reuse them instead.
integers = functools.cache(st.integers)

LINE_TERMINATORS = "\n\r\u2028\u2029\u0085"
_SAFE_DOT = "[^\\n\\r\\u2028\\u2029\\u0085]"

# Any character a JSON document in UTF-8 can carry: no lone surrogates.
ANY_CHARACTER = st.characters(exclude_categories=["Cs"])
ASTRAL_CHARACTER = st.characters(min_codepoint=0x10000, exclude_categories=["Cs"])


def _narrow_dots(pattern: str) -> str:
    """``pattern`` with every ``.`` outside a class replaced by :data:`_SAFE_DOT`."""
    out, in_class, escaped = [], False, False
    for char in pattern:
        if escaped:
            out.append(char)
            escaped = False
            continue
        escaped = char == "\\"
        in_class = (in_class or char == "[") and not (in_class and char == "]")
        out.append(_SAFE_DOT if char == "." and not in_class else char)
    return "".join(out)


@functools.cache
def generation_regex(pattern: str) -> str:
    """The Python regex, without anchors, that generation uses for ``pattern``."""
    return spec.ecma_regex(_narrow_dots(catalogue.anchored_core(pattern))).pattern


@functools.cache
def _parsed(pattern: str) -> Any:
    return sre.parse(generation_regex(pattern))


def length_range(pattern: str) -> tuple[int, float]:
    """Shortest and longest match that generation can produce for ``pattern``."""
    low, high = _parsed(pattern).getwidth()
    return low, (math.inf if high >= sre.MAXREPEAT - 1 else high)


_LONG = 512


@functools.cache
def texts_of_length(alphabet: Any, length: int) -> Any:
    """Text of exactly ``length`` characters drawn from ``alphabet``.

    Beyond 512 characters a drawn stretch of up to 512 is repeated to the
    length: Hypothesis refuses tests whose smallest example is huge, and the
    boundary probes need 1600 and 2048 characters."""
    if length <= _LONG:
        return st.text(alphabet, min_size=length, max_size=length)
    stretch = st.text(alphabet, min_size=1, max_size=_LONG)
    return stretch.map(lambda s: (s * (length // len(s) + 1))[:length])


@functools.cache
def strings_matching(pattern: str, *, min_size: int = 0, max_size: int | None = None) -> Any:
    """Strings of ``min_size`` to ``max_size`` characters that satisfy ``pattern``
    (anchored or not, with the spec's ECMA meaning).

    Mixes typical matches (short ones, as ``from_regex`` makes) with matches
    of a length drawn from the whole range, so both everyday values and
    values of exactly the bounds appear. Shrinks towards shorter strings and
    lower characters."""
    if min_size < 0 or (max_size is not None and max_size < min_size):
        raise InvalidArgument(f"need 0 <= min_size <= max_size, got {min_size}, {max_size}")
    low, high = length_range(pattern)
    top = min(high, math.inf if max_size is None else max_size)
    start = max(low, min_size)
    if start > top:
        raise InvalidArgument(f"no string of {min_size}..{max_size} characters matches {pattern!r}")
    top_int = int(min(top, start + 200)) if top == math.inf else int(top)
    sized = _lengths(pattern, start, top_int)
    if low < min_size or top_int - start <= _TYPICAL:
        return sized
    return st.one_of(sized, _lengths(pattern, start, start + _TYPICAL))


# How much longer than the shortest match a typical one is, at most. Not
# ``from_regex``: it draws each character of a repetition as a choice of its
# own (a 1,000-character ARN tail is 1,000 choices); these are native strings.
_TYPICAL = 24


def regex_matches(pattern: str) -> Any:
    """Full matches of ``pattern`` of every length it allows (up to 200 more
    than its shortest), for hand-written shapes such as ``[0-9a-f]{64}``: what
    ``from_regex(pattern, fullmatch=True)`` makes, drawn as native strings.
    Each repetition must allow every length between its bounds."""
    low, high = length_range(pattern)
    return _lengths(pattern, low, int(min(high, low + 200)))


def _lengths(pattern: str, start: int, top: int) -> Any:
    return integers(start, top).flatmap(lambda n: strings_of_length(pattern, n))


@functools.cache
def strings_of_length(pattern: str, length: int) -> Any:
    """Strings of exactly ``length`` characters that satisfy ``pattern``."""
    low, high = length_range(pattern)
    if not low <= length <= high:
        raise InvalidArgument(f"no match of {pattern!r} has {length} characters")
    return _sized_match(_parsed(pattern), length).filter(
        lambda s: len(s) == length and spec.pattern_matches(pattern, s)
    )


@st.composite
def _sized_match(draw: Any, parsed: Any, length: int) -> str:
    return _sequence(draw, list(parsed), length)


def _width(items: list[Any]) -> tuple[int, int]:
    """Shortest and longest match of ``items`` in sequence, as sre's ``getwidth``
    says (the sum of each item's, capped as it caps them)."""
    low = high = 0
    for item in items:
        item_low, item_high = _item_width(item)
        low, high = low + item_low, high + item_high
    return min(low, sre.MAXREPEAT - 1), min(high, sre.MAXREPEAT)


# Every draw walks the same items of a cached parse again: each item's width is
# computed once (the item is kept with it, so its id cannot be reused).
_ITEM_WIDTHS: dict[int, tuple[Any, tuple[int, int]]] = {}


def _item_width(item: Any) -> tuple[int, int]:
    cached = _ITEM_WIDTHS.get(id(item))
    if cached is None or cached[0] is not item:
        low, high = sre.SubPattern(sre.State(), [item]).getwidth()
        cached = (item, (low, min(high, sre.MAXREPEAT)))
        _ITEM_WIDTHS[id(item)] = cached
    return cached[1]


def _sequence(draw: Any, items: list[Any], length: int) -> str:
    widths = [_width([item]) for item in items]
    rest_low, rest_high = sum(w[0] for w in widths), sum(w[1] for w in widths)
    parts = []
    for item, (low, high) in zip(items, widths, strict=True):
        rest_low, rest_high = rest_low - low, rest_high - high
        size = draw(integers(max(low, length - rest_high), min(high, length - rest_low)))
        parts.append(_item(draw, item, size))
        length -= size
    return "".join(parts)


def _item(draw: Any, item: Any, length: int) -> str:
    op, arg = item
    if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, getattr(sre_c, "POSSESSIVE_REPEAT", None)):
        return _repeat(draw, arg, length)
    if op is sre_c.SUBPATTERN:
        return _sequence(draw, list(arg[-1]), length)
    if op is sre_c.BRANCH:
        fitting = [alt for alt in arg[1] if _fits(_width(list(alt)), length)]
        return _sequence(draw, list(draw(st.sampled_from(fitting))), length)
    if op is sre_c.AT:
        return ""
    return draw(character_strategy(item))


def _fits(width: tuple[int, int], length: int) -> bool:
    return width[0] <= length <= width[1]


def _repeat(draw: Any, arg: Any, length: int) -> str:
    low, high, sub = arg
    each_low, each_high = _width(list(sub))
    if length == 0:
        return ""
    if (each_low, each_high) == (1, 1) and len(sub) == 1:  # a run of one atom, e.g. [a-z]*
        return draw(texts_of_length(character_strategy(sub[0]), length))
    counts = [
        k
        for k in range(max(low, 1), min(high, length) + 1)
        if k * each_low <= length <= k * each_high
        and (k <= _BLOCK or _block_bounds(k, length, each_low, each_high))
    ]
    count = draw(st.sampled_from(counts))
    if count > _BLOCK:
        return _repeated_block(draw, list(sub), count, length)
    return _sequence(draw, list(sub) * count, length)


_BLOCK = 32


def _block_bounds(count: int, length: int, each_low: int, each_high: int) -> range:
    """The lengths a block of 32 iterations can have when ``count`` iterations
    (whole blocks, then the rest) must make ``length`` characters."""
    times, rest = divmod(count, _BLOCK)
    low = max(_BLOCK * each_low, -(-(length - rest * each_high) // times))
    high = min(_BLOCK * each_high, (length - rest * each_low) // times)
    return range(low, high + 1)


def _repeated_block(draw: Any, sub: list[Any], count: int, length: int) -> str:
    """``count`` iterations of ``sub`` as a block of 32 iterations repeated,
    plus the rest: a long repetition with a small smallest example."""
    bounds = _block_bounds(count, length, *_width(sub))
    times, rest = divmod(count, _BLOCK)
    block_length = draw(integers(bounds.start, bounds.stop - 1))
    block = _sequence(draw, sub * _BLOCK, block_length)
    return block * times + _sequence(draw, sub * rest, length - times * block_length)


_CHARACTERS: dict[str, Any] = {}


def character_strategy(item: Any) -> Any:
    """Single characters matching one parsed regex atom (literal, class, ``.``)."""
    # cached by the atom's repr: building strategies inside draws is slow
    key = repr(item)
    if key not in _CHARACTERS:
        _CHARACTERS[key] = _character_strategy(item)
    return _CHARACTERS[key]


def _character_strategy(item: Any) -> Any:
    op, arg = item
    if op is sre_c.LITERAL:
        return st.just(chr(arg))
    if op is sre_c.IN:
        return _class_characters(arg)
    # one characters() strategy rather than a filter: Hypothesis then draws
    # whole strings natively instead of character by character
    if op is sre_c.NOT_LITERAL:
        return st.characters(exclude_categories=["Cs"], exclude_characters=chr(arg))
    if op is sre_c.ANY:
        return st.characters(exclude_categories=["Cs"], exclude_characters=LINE_TERMINATORS)
    raise InvalidArgument(f"cannot generate for regex construct {op}")


def _class_characters(items: list[Any]) -> Any:
    """One ``characters()`` strategy per interval of the class, never a filter:
    Hypothesis resolves their ``one_of`` to one alphabet and draws whole strings
    natively (a filtered alphabet draws, and rejects, character by character).
    A negated class spans the astral planes, where most of the code space is,
    so astral characters show up often without a branch of their own."""
    spans = class_intervals(items)
    if not spans:
        raise InvalidArgument(f"the regex class {items!r} matches no character")
    return st.one_of(
        [
            st.characters(min_codepoint=low, max_codepoint=high, categories=None)
            for low, high in spans
        ]
    )


_MAX_CODEPOINT = 0x10FFFF
_SURROGATES = (0xD800, 0xDFFF)


def class_intervals(items: list[Any]) -> list[tuple[int, int]]:
    """The code points of the parsed class ``items`` as sorted, disjoint
    ``(low, high)`` intervals, surrogates left out (no JSON text carries one)."""
    negated = bool(items) and items[0][0] is sre_c.NEGATE
    spans = _merged(_atom_span(op, arg) for op, arg in items if op is not sre_c.NEGATE)
    if negated:
        spans = _complement(spans)
    return _complement(_merged([*_complement(spans), _SURROGATES]))


def _atom_span(op: Any, arg: Any) -> tuple[int, int]:
    if op is sre_c.LITERAL:
        return (arg, arg)
    if op is sre_c.RANGE:
        return (arg[0], arg[1])
    raise InvalidArgument(f"cannot generate for class item {op} {arg}")


def _merged(spans: Any) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(spans):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def _complement(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The code points of ``0..0x10FFFF`` outside the merged ``spans``."""
    out, start = [], 0
    for low, high in spans:
        if low > start:
            out.append((start, low - 1))
        start = high + 1
    if start <= _MAX_CODEPOINT:
        out.append((start, _MAX_CODEPOINT))
    return out
