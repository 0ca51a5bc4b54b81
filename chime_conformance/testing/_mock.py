"""``mock_chime``: an emulator for a block, a test function or a test class.

As moto's ``mock_aws``: a context manager and a decorator (with or without
arguments); on a function, each call gets a fresh emulator; on a class, each
test does (``setUp``/``tearDown`` of a ``unittest.TestCase``, and a pytest
class' ``setup_method``/``teardown_method``, share their test's emulator).
Unlike moto, nothing is patched inside botocore: a real HTTP server listens on
a loopback port and the standard ``AWS_ENDPOINT_URL_*`` variables point every
client created inside at it (see ``_activation``).
"""

from __future__ import annotations

import functools
import inspect
import os
import unittest
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar, overload

from chime_conformance.testing._activation import Activation, activate, deactivate
from chime_conformance.testing._emulator import (
    DEFAULT_ACCOUNT_ID,
    ChimeEmulator,
    EmulatorOptions,
    launch,
)
from chime_conformance.testing._errors import MockChimeError

Target = TypeVar("Target", bound=Callable[..., Any])
_RUNNING = "_mock_chime_running"  # a pytest class instance's MockChime, setup to teardown


class MockChime:
    """What ``mock_chime(...)`` returns: enter it (``with``), decorate with it, or
    ``start()``/``stop()`` it. Entered, it gives the :class:`ChimeEmulator`."""

    def __init__(self, options: EmulatorOptions | None = None) -> None:
        self.options = options or EmulatorOptions()
        self._emulator: ChimeEmulator | None = None
        self._activation: Activation | None = None

    @property
    def emulator(self) -> ChimeEmulator:
        if self._emulator is None:
            raise MockChimeError("this mock_chime is not started: enter it with `with` first")
        return self._emulator

    def start(self) -> ChimeEmulator:
        """Starts an emulator and points the environment's clients at it."""
        if self._emulator is not None:
            raise MockChimeError(
                "this mock_chime is already started: nest a new mock_chime() for a second emulator"
            )
        emulator = launch(self.options)
        try:
            self._activation = activate(emulator, "mock_chime")
        except BaseException:
            emulator._stop()
            raise
        self._emulator = emulator
        return emulator

    def stop(self) -> None:
        """Restores the environment and stops the emulator (its state is gone)."""
        if self._emulator is None or self._activation is None:
            raise MockChimeError("this mock_chime is not started, or was stopped already")
        deactivate(self._activation)
        emulator, self._emulator, self._activation = self._emulator, None, None
        emulator._stop()

    def __enter__(self) -> ChimeEmulator:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __call__(self, target: Target) -> Target:
        if inspect.isclass(target):
            return _decorate_class(target, self.options)  # type: ignore[return-value]
        if callable(target):
            return _decorate_function(target, self.options)
        raise MockChimeError(f"mock_chime decorates a function or a class, not {target!r}")


@overload
def mock_chime(target: Target, /) -> Target: ...


@overload
def mock_chime(
    *,
    region: str | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
    faults: Sequence[str] = (),
    allow_faults: bool = False,
    snapshot: str | os.PathLike[str] | None = None,
) -> MockChime: ...


def mock_chime(target: Any = None, /, **options: Any) -> Any:
    """The emulator of Chime SDK Identity and the Chime accounts API, for a block or a test.

    ``with mock_chime() as chime:`` starts an emulator on a free loopback port and,
    until the block ends (even by an exception), sets ``AWS_ENDPOINT_URL_CHIME_SDK_IDENTITY``
    and ``AWS_ENDPOINT_URL_CHIME`` to it, with credentials it accepts (the environment's
    keys if it has both, else test keys) and its region (``region``, else the
    environment's, else us-east-1): every boto3/botocore client created inside
    talks to it. ``@mock_chime`` and ``@mock_chime(...)`` do the same around a test
    function, or each test of a class. ``faults`` (with ``allow_faults=True``) breaks
    the contract on purpose; ``snapshot`` starts from a saved state.
    """
    if target is None:
        return MockChime(EmulatorOptions.from_mapping(options, "mock_chime"))
    if options:
        raise MockChimeError(
            "give mock_chime's options as @mock_chime(region=...), not with a target"
        )
    return MockChime()(target)


def _decorate_function(function: Target, options: EmulatorOptions) -> Target:
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            with MockChime(options):
                return await function(*args, **kwargs)

        return run_async  # type: ignore[return-value]

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        with MockChime(options):
            return function(*args, **kwargs)

    return run  # type: ignore[return-value]


def _decorate_class(cls: type, options: EmulatorOptions) -> type:
    if issubclass(cls, unittest.TestCase):
        # run() calls setUp, the test, tearDown and the cleanups: one emulator for all
        cls.run = _decorate_function(cls.run, options)  # type: ignore[method-assign]
    elif callable(getattr(cls, "setup_method", None)):
        cls.setup_method = _setup_in_emulator(cls.setup_method, options)  # type: ignore[attr-defined]
        cls.teardown_method = _teardown_emulator(getattr(cls, "teardown_method", None))  # type: ignore[attr-defined]
    else:
        for name, member in inspect.getmembers(cls, inspect.isfunction):
            if name.startswith("test") and not isinstance(
                inspect.getattr_static(cls, name), staticmethod
            ):
                setattr(cls, name, _decorate_function(member, options))
    return cls


def _setup_in_emulator(setup: Callable[..., Any], options: EmulatorOptions) -> Callable[..., Any]:
    @functools.wraps(setup)
    def setup_method(self: Any, method: Any) -> None:
        running = MockChime(options)
        running.start()
        vars(self)[_RUNNING] = running
        try:
            _call_with_optional_method(setup, self, method)
        except BaseException:
            vars(self).pop(_RUNNING).stop()
            raise

    return setup_method


def _teardown_emulator(teardown: Callable[..., Any] | None) -> Callable[..., Any]:
    def teardown_method(self: Any, method: Any) -> None:
        try:
            if teardown is not None:
                _call_with_optional_method(teardown, self, method)
        finally:
            running = vars(self).pop(_RUNNING, None)
            if running is not None:
                running.stop()

    if teardown is not None:
        functools.update_wrapper(teardown_method, teardown)
    return teardown_method


def _call_with_optional_method(function: Callable[..., Any], self: Any, method: Any) -> None:
    """As pytest calls ``setup_method``: with the test method if it takes one."""
    if len(inspect.signature(function).parameters) > 1:
        function(self, method)
    else:
        function(self)
