"""Every use of a private Hypothesis or schemathesis API, in one module.

The suite leans on a few internals of the libraries it builds on, for speed
or to put a setting back, and only here: nothing else in the package or the
suite names them. Each use has a fallback: if the internal has moved, nothing
is patched and the run is slower, never wrong. :data:`INTERNALS` lists them;
:func:`missing_internals` says, one sentence each, which the installed
versions no longer have, and ``tests/adapter/test_library_internals.py``
holds the versions ``pyproject.toml`` allows to them.

- **A test function's settings** (:func:`test_settings`,
  :func:`set_test_settings`): Hypothesis keeps them as
  ``_hypothesis_internal_use_settings`` on the function; the plugin puts a
  parametrized test's back after each item and runs a test without its
  shrink phase (:mod:`chime_conformance.pytest_plugin.plugin`).
- **Hypothesis' digest of a test function, once per function**
  (:func:`memoize_function_digests`).
- **schemathesis' example and coverage cases, built when a test runs**
  (:func:`defer_coverage_cases`).
- **For this project's own tests**: Hypothesis' own digest, its CI
  variables, the databases a multiplexed one wraps, schemathesis' pytest
  test builder, its pool of the project's constants scanned ahead of a fork
  (:func:`hypothesis_function_digest` and the others at the end).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import inspect
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "INTERNALS",
    "ITEM_DIGEST",
    "DeferredExamples",
    "Internal",
    "defer_coverage_cases",
    "explicit_examples",
    "function_digest",
    "hypothesis_ci_variables",
    "hypothesis_function_digest",
    "hypothesis_repr_call",
    "memoize_function_digests",
    "missing_internals",
    "replace_settings",
    "scan_hypothesis_constants",
    "schemathesis_operation_test",
    "settings_depth",
    "settings_of",
    "wrapped_databases",
]

_SETTINGS = "_hypothesis_internal_use_settings"  # @settings / @given put them there
ITEM_DIGEST = "_hypothesis_internal_add_digest"  # Hypothesis' pytest plugin: the item's id
_EXAMPLES = "hypothesis_explicit_examples"  # @example appends to it


# --------------------------------------------------------------------------
# What is used, and whether the installed versions still have it


@dataclass(frozen=True)
class Internal:
    """One private API: which distribution has it, where, and what it is for."""

    library: str  # the distribution, as pyproject.toml names it
    name: str
    used_for: str
    present: Callable[[], bool]


def _attributes(module: str, *names: str) -> Callable[[], bool]:
    def present() -> bool:
        try:
            found = importlib.import_module(module)
        except ImportError:
            return False
        return all(hasattr(found, name) for name in names)

    return present


def _settings_attribute() -> bool:
    from hypothesis import given, settings, strategies

    @settings(max_examples=1)
    @given(strategies.none())
    def probe(x: None) -> None:
        pass

    current = getattr(probe, _SETTINGS, None)
    return isinstance(current, settings) and hasattr(current, "_fallback")


def _add_digest_read() -> bool:
    from hypothesis.internal import reflection

    with contextlib.suppress(OSError, TypeError, AttributeError):
        return ITEM_DIGEST in inspect.getsource(reflection.function_digest)
    return False


def _explicit_examples() -> bool:
    from hypothesis import example

    def probe(x: int) -> None:
        pass

    return len(getattr(example(1)(probe), _EXAMPLES, ())) == 1


def _attachers() -> bool:
    try:
        from schemathesis.generation.hypothesis import builder
    except ImportError:
        return False
    for name, expected in _ATTACHERS.items():
        function = _EAGER.get(name, getattr(builder, name, None))
        if function is None:
            return False
        if list(inspect.signature(function).parameters)[: len(expected)] != expected:
            return False
    return True


INTERNALS: tuple[Internal, ...] = (
    Internal("hypothesis", f"a test function's {_SETTINGS} (settings, with _fallback)",
             "a parametrized test's settings put back after each item; a test run "
             "without its shrink phase", _settings_attribute),
    Internal("hypothesis", "hypothesis.internal.reflection.function_digest, "
             "_clean_source, get_signature", "the digest of a test function, once per function",
             _attributes("hypothesis.internal.reflection",
                         "function_digest", "_clean_source", "get_signature")),
    Internal("hypothesis", "hypothesis.core.function_digest, hypothesis.stateful.function_digest",
             "the digest of a test function, once per function",
             lambda: _attributes("hypothesis.core", "function_digest")()
             and _attributes("hypothesis.stateful", "function_digest")()),
    Internal("hypothesis", f"{ITEM_DIGEST}, read by function_digest",
             "each parametrized item's own digest", _add_digest_read),
    Internal("hypothesis", f"a test function's {_EXAMPLES} (@example)",
             "schemathesis' cases built when a test runs", _explicit_examples),
    Internal("schemathesis", "schemathesis.generation.hypothesis.builder.add_examples, "
             "add_coverage (their first parameters)", "schemathesis' cases built when a "
             "test runs", _attachers),
    Internal("schemathesis", "schemathesis.core.marks.METADATA_ATTR",
             "schemathesis' marks carried over to a test whose cases are built late",
             _attributes("schemathesis.core.marks", "METADATA_ATTR")),
    # for this project's own tests
    Internal("hypothesis", "hypothesis._settings._CI_VARS",
             "a foreign project's run shown unchanged outside CI",
             _attributes("hypothesis._settings", "_CI_VARS")),
    Internal("hypothesis", "MultiplexedDatabase._wrapped, ReadOnlyDatabase._wrapped",
             "the example database's layers shown", lambda: _wrapped_databases_readable()),
    Internal("hypothesis", "hypothesis.internal.reflection.repr_call",
             "a failing test's arguments shown as Hypothesis prints them",
             _attributes("hypothesis.internal.reflection", "repr_call")),
    Internal("schemathesis", "schemathesis.pytest._test_builder.build_operation_test",
             "deferred cases shown equal to eager ones",
             _attributes("schemathesis.pytest._test_builder", "build_operation_test")),
    Internal("hypothesis", "hypothesis.internal.conjecture.providers._get_local_constants",
             "the project's constants scanned once by the tests' fork server, not by every run",
             _attributes("hypothesis.internal.conjecture.providers", "_get_local_constants")),
)  # fmt: skip


def missing_internals() -> list[str]:
    """One sentence for each internal the installed versions no longer have."""
    from importlib import metadata

    return [
        f"{internal.library} {metadata.version(internal.library)} no longer has "
        f"{internal.name}, which {__name__} uses for {internal.used_for}"
        for internal in INTERNALS
        if not internal.present()
    ]


# --------------------------------------------------------------------------
# A test function's settings


def settings_of(function: Any) -> Any:
    """The Hypothesis settings ``function`` runs with (None: not a Hypothesis test)."""
    return getattr(function, _SETTINGS, None)


def replace_settings(function: Any, settings: Any) -> None:
    """Make ``function`` (a Hypothesis test) run with ``settings``."""
    setattr(function, _SETTINGS, settings)


def settings_depth(settings: Any) -> int:
    """How many layers of ``settings(parent=…)`` lie between ``settings`` and
    the defaults (each read of an unset setting walks them)."""
    from hypothesis import settings as settings_type

    depth = 0
    while settings is not None and settings is not settings_type.default:
        depth, settings = depth + 1, getattr(settings, "_fallback", None)
    return depth


# --------------------------------------------------------------------------
# Hypothesis' digest of a test function, once per function
#
# Hypothesis keys each test's example database, and a derandomized profile's
# (``ci``) seed, on ``function_digest(test)``: a hash of the test's cleaned
# source (``inspect.getsource``, ``ast.parse``, a tokenizer pass), of its
# signature, and of ``_hypothesis_internal_add_digest``, which Hypothesis'
# pytest plugin sets to the item's node id for a parametrized test. The
# suite's parametrized tests share one function among hundreds of items, and
# Hypothesis computes the digest twice per item (the seed and the database
# key): 4% of the ``ci`` run went to re-reading and re-tokenizing the same few
# sources. :func:`function_digest` keeps the hash of the source and the
# signature per function and adds each item's ``_hypothesis_internal_add_digest``
# to a copy of it: the very same bytes (``tests/adapter/test_digest_cache.py``
# holds them to Hypothesis' own function), so the same seeds and the same requests.

# Hypothesis' modules that imported ``function_digest`` by name
_USERS = ("hypothesis.core", "hypothesis.stateful")
_SOURCE_HASHES: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_APPLIED_DIGESTS: list[Any] = []


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
        hasher.update(getattr(function, ITEM_DIGEST))
    return hasher.digest()


def memoize_function_digests() -> None:
    """Make Hypothesis use :func:`function_digest` (once per process); if
    Hypothesis' internals changed shape, nothing is patched."""
    if _APPLIED_DIGESTS:
        return
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
    _APPLIED_DIGESTS.append(reflection.function_digest)


# --------------------------------------------------------------------------
# schemathesis' example and coverage cases, built when a test runs
#
# schemathesis attaches the cases of its examples and coverage phases to each
# per-operation test as Hypothesis ``@example``\\ s while pytest *collects* it:
# two thirds of ``pytest conformance --collect-only`` went there, before the
# first request, and every xdist worker paid it for all 35 operations,
# whichever it ran. :func:`defer_coverage_cases` makes the attachment lazy: the
# test's list of explicit examples becomes a :class:`DeferredExamples` that
# computes the very same cases (schemathesis' own ``add_examples`` and
# ``add_coverage``, same arguments, same order) the first time Hypothesis reads
# it, i.e. when the test runs, in the process that runs it. Nothing is tested
# less: ``tests/adapter/test_lazy_coverage.py`` proves the deferred cases equal
# the eager ones.


class DeferredExamples(list[Any]):
    """A test's explicit examples: those attached before (``previous``, itself
    perhaps deferred), then the ones ``build(holder)`` attaches to a holder,
    computed on first read; schemathesis' marks go from the holder to ``test``."""

    def __init__(self, previous: Any, build: Callable[[Any], None], test: Any) -> None:
        super().__init__()
        self._pending: tuple[Any, Callable[[Any], None]] | None = (previous, build)
        self._test = test

    def _materialize(self) -> None:
        if self._pending is None:
            return
        (previous, build), self._pending = self._pending, None

        def holder() -> None:  # receives the cases and schemathesis' marks
            pass

        build(holder)
        super().extend([*previous, *getattr(holder, _EXAMPLES, ())])
        _copy_marks(holder, self._test)

    def __iter__(self) -> Iterator[Any]:
        self._materialize()
        return super().__iter__()

    def __reversed__(self) -> Iterator[Any]:
        self._materialize()
        return super().__reversed__()

    def __len__(self) -> int:
        self._materialize()
        return super().__len__()

    def __bool__(self) -> bool:
        return len(self) > 0

    def __getitem__(self, index: Any) -> Any:
        self._materialize()
        return super().__getitem__(index)

    def append(self, item: Any) -> None:
        self._materialize()
        super().append(item)


def _copy_marks(source: Any, target: Any) -> None:
    from schemathesis.core.marks import METADATA_ATTR

    marks = getattr(source, METADATA_ATTR, None)
    if marks is None:
        return
    existing = getattr(target, METADATA_ATTR, None)
    if existing is None:
        setattr(target, METADATA_ATTR, marks)
        return
    for name, value in vars(marks).items():
        setattr(existing, name, value)


_APPLIED: list[bool] = []
_EAGER: dict[str, Callable[..., Any]] = {}  # schemathesis' own functions, once patched
# schemathesis' functions that attach cases to a test, and the names of the
# parameters they take first (checked, so a changed schemathesis stays eager)
_ATTACHERS = {
    "add_examples": ["test", "operation", "fill_missing"],
    "add_coverage": ["test", "operation", "generation_modes", "auth_storage", "override"],
}


def defer_coverage_cases() -> bool:
    """Patch schemathesis (once) so the cases of its examples and coverage
    phases are built when each test runs. Returns whether the patch is in
    place; if schemathesis' internals changed shape, collection stays eager."""
    if _APPLIED:
        return _APPLIED[0]
    from schemathesis.generation.hypothesis import builder

    eager: dict[str, Callable[..., Any]] = {}
    for name, expected in _ATTACHERS.items():
        function = getattr(builder, name, None)
        if (
            function is None
            or list(inspect.signature(function).parameters)[: len(expected)] != expected
        ):
            _APPLIED.append(False)
            return False
        eager[name] = function
    for name, function in eager.items():
        _EAGER[name] = function
        setattr(builder, name, _deferred(function))
    _APPLIED.append(True)
    return True


def _deferred(attach: Callable[..., Any]) -> Callable[..., Any]:
    """``attach(test, ...)``, run when the test first reads its examples."""

    def attach_when_run(test: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        previous = getattr(test, _EXAMPLES, ())
        build = functools.partial(_attach_to, attach, args, kwargs)
        setattr(test, _EXAMPLES, DeferredExamples(previous, build, test))
        return test

    return attach_when_run


def _attach_to(attach: Callable[..., Any], args: Any, kwargs: Any, holder: Any) -> None:
    attach(holder, *args, **kwargs)


# --------------------------------------------------------------------------
# For this project's own tests


def hypothesis_function_digest(function: Any) -> bytes:
    """Hypothesis' own ``function_digest``, patched or not."""
    from hypothesis.internal import reflection

    original = _APPLIED_DIGESTS[0] if _APPLIED_DIGESTS else reflection.function_digest
    return bytes(original(function))


def explicit_examples(test: Any) -> Any:
    """The ``@example``\\ s attached to ``test`` (schemathesis' cases among them)."""
    return getattr(test, _EXAMPLES, [])


def hypothesis_repr_call(function: Any, args: Any, kwargs: Any) -> str:
    """How Hypothesis prints a failing test's call with its arguments."""
    from hypothesis.internal.reflection import repr_call

    return str(repr_call(function, args, kwargs))


def hypothesis_ci_variables() -> list[str]:
    """The environment variables by which Hypothesis knows it runs in CI."""
    from hypothesis import _settings

    return list(getattr(_settings, "_CI_VARS", {"CI": None}))


def wrapped_databases(database: Any) -> list[Any]:
    """The databases a multiplexed (or read-only) example database wraps."""
    wrapped = database._wrapped
    return list(wrapped) if isinstance(wrapped, list | tuple) else [wrapped]


def _wrapped_databases_readable() -> bool:
    from hypothesis.database import InMemoryExampleDatabase, MultiplexedDatabase, ReadOnlyDatabase

    inner = InMemoryExampleDatabase()
    try:
        return wrapped_databases(ReadOnlyDatabase(inner)) == [inner] and wrapped_databases(
            MultiplexedDatabase(inner)
        ) == [inner]
    except AttributeError:
        return False


def schemathesis_operation_test(**arguments: Any) -> Any:
    """An operation's test as schemathesis' pytest plugin builds it."""
    from schemathesis.pytest._test_builder import build_operation_test

    return build_operation_test(**arguments)


def scan_hypothesis_constants() -> None:
    """Hypothesis draws some values from a pool of constants it reads out of
    the project's modules in ``sys.modules``, scanning each new module when a
    test first draws. Scanned here for every module imported so far: the
    tests' fork server (tests/support/pytest_forkserver.py) does it once
    before it forks, so each run scans only what it imports itself. Without
    the internal, nothing is scanned ahead."""
    import warnings

    from hypothesis.internal.conjecture import providers

    scan = getattr(providers, "_get_local_constants", None)
    if scan is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "slow code in plugin": ahead of any run, on purpose
            scan()
