"""Hypothesis' digest of a test function, computed once per function instead
of once or twice per test item.

Hypothesis keys each test's example database, and a derandomized profile's
(``ci``) seed, on ``function_digest(test)``: a hash of the test's cleaned
source (``inspect.getsource``, ``ast.parse``, a tokenizer pass), of its
signature, and of ``_hypothesis_internal_add_digest``, which Hypothesis'
pytest plugin sets to the item's node id for a parametrized test. The
suite's parametrized tests share one function among hundreds of items, and
Hypothesis computes the digest twice per item (the seed and the database
key): 4% of the ``ci`` run went to re-reading and re-tokenizing the same few
sources.

:func:`memoize_function_digests` keeps the hash of the source and the
signature per function and adds each item's ``_hypothesis_internal_add_digest``
to a copy of it: the very same bytes (``tests/adapter/test_digest_cache.py`` holds
them to Hypothesis' own function), so the same seeds and the same requests.
If Hypothesis' internals change shape, nothing is patched (slower, still
correct).
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import weakref
from typing import Any

__all__ = ["function_digest", "memoize_function_digests"]

# Hypothesis' modules that imported ``function_digest`` by name
_USERS = ("hypothesis.core", "hypothesis.stateful")
_SOURCE_HASHES: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_APPLIED: list[Any] = []


def _source_hash(function: Any) -> Any:
    """The sha384 of ``function``'s cleaned source and signature, as Hypothesis'
    ``function_digest`` computes it before the item's own addition."""
    from hypothesis.internal import reflection

    hasher = hashlib.sha384()
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        with contextlib.suppress(AttributeError):
            hasher.update(function.__name__.encode())
    else:
        hasher.update(reflection._clean_source(source))
    # as Hypothesis: a signature it cannot read adds nothing
    with contextlib.suppress(Exception):
        hasher.update(repr(reflection.get_signature(function)).encode())
    return hasher


def function_digest(function: Any) -> bytes:
    """``hypothesis.internal.reflection.function_digest(function)``, with the
    source and signature part hashed once per function."""
    try:
        base = _SOURCE_HASHES.get(function)
    except TypeError:  # not hashable: not cached
        base = None
    if base is None:
        base = _source_hash(function)
        with contextlib.suppress(TypeError):  # not hashable or not weakly referenceable
            _SOURCE_HASHES[function] = base
    hasher = base.copy()
    with contextlib.suppress(AttributeError):
        hasher.update(function._hypothesis_internal_add_digest)
    return hasher.digest()


def memoize_function_digests() -> None:
    """Make Hypothesis use :func:`function_digest` (once per process)."""
    if _APPLIED:
        return
    import importlib

    from hypothesis.internal import reflection

    if not all(
        hasattr(reflection, name) for name in ("function_digest", "_clean_source", "get_signature")
    ):
        return
    modules = [importlib.import_module(name) for name in _USERS]
    if not all(getattr(m, "function_digest", None) is reflection.function_digest for m in modules):
        return
    for module in modules:
        module.function_digest = function_digest  # type: ignore[attr-defined]
    _APPLIED.append(reflection.function_digest)
