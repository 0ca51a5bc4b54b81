"""schemathesis' example and coverage cases, built when a test runs instead of
when pytest collects it.

schemathesis attaches the cases of its examples and coverage phases to each
per-operation test as Hypothesis ``@example``\\ s while pytest *collects* it:
two thirds of ``pytest conformance --collect-only`` went there, before the
first request, and every xdist worker paid it for all 35 operations,
whichever it ran.

:func:`defer_coverage_cases` makes the attachment lazy: the test's list of
explicit examples becomes a :class:`DeferredExamples` that computes the very
same cases (schemathesis' own ``add_examples`` and ``add_coverage``, same
arguments, same order) the first time Hypothesis reads it, i.e. when the
test runs, in the process that runs it. Nothing is tested less:
``tests/adapter/test_lazy_coverage.py`` proves the deferred cases equal the eager
ones. If schemathesis' internals change shape, the patch is not applied and
collection stays eager (slower, still correct).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["DeferredExamples", "defer_coverage_cases"]

_EXAMPLES = "hypothesis_explicit_examples"


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
    phases are built when each test runs. Returns whether the patch is in place."""
    if _APPLIED:
        return _APPLIED[0]
    from schemathesis.generation.hypothesis import builder

    eager = {name: getattr(builder, name, None) for name in _ATTACHERS}
    for name, expected in _ATTACHERS.items():
        function = eager[name]
        if (
            function is None
            or list(inspect.signature(function).parameters)[: len(expected)] != expected
        ):
            _APPLIED.append(False)
            return False
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
