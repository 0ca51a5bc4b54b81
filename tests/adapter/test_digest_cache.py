"""The memoized digest of a test function is Hypothesis' own, byte for byte:
the same seeds under a derandomized profile, so the same requests."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

from chime_conformance.pytest_plugin import _library_internals as _digest_cache
from chime_conformance.pytest_plugin._library_internals import (
    ITEM_DIGEST,
)
from chime_conformance.pytest_plugin._library_internals import (
    hypothesis_function_digest as hypothesis_digest,
)


def plain(a: int, b: str = "x") -> None:  # a comment Hypothesis strips
    pass


@given(st.integers())
def wrapped(n: int) -> None:
    pass


class Machine(RuleBasedStateMachine):
    @rule()
    def step(self) -> None:
        pass


CALLABLES: list[Any] = [
    plain,
    wrapped.hypothesis.inner_test,  # what Hypothesis digests for a @given test
    Machine,
    lambda x: x,
    len,  # no Python source: Hypothesis falls back to the name
    _digest_cache.function_digest,
]


@pytest.mark.parametrize("function", CALLABLES, ids=lambda f: getattr(f, "__name__", "?"))
def test_the_memoized_digest_is_hypothesis_digest(function: Any) -> None:
    assert _digest_cache.function_digest(function) == hypothesis_digest(function)
    assert _digest_cache.function_digest(function) == hypothesis_digest(function)  # cached


def test_each_parametrized_item_keeps_its_own_digest() -> None:
    """Hypothesis' pytest plugin sets the item digest attribute (``ITEM_DIGEST``) to the
    item's node id on the one function all items share."""
    test = wrapped.hypothesis.inner_test
    seen = set()
    try:
        for node_id in (b"t.py::test[a]", b"t.py::test[b]", b"t.py::test[a]"):
            setattr(test, ITEM_DIGEST, node_id)
            digest = _digest_cache.function_digest(test)
            assert digest == hypothesis_digest(test)
            seen.add(digest)
    finally:
        delattr(test, ITEM_DIGEST)
    assert len(seen) == 2


def test_an_unhashable_callable_is_digested_uncached() -> None:
    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def __call__(self) -> None:
            pass

    function = Unhashable()
    assert _digest_cache.function_digest(function) == hypothesis_digest(function)


def test_the_suite_runs_with_the_memoized_digest() -> None:
    import hypothesis.core
    import hypothesis.stateful

    _digest_cache.memoize_function_digests()
    assert hypothesis.core.function_digest is _digest_cache.function_digest
    assert hypothesis.stateful.function_digest is _digest_cache.function_digest
