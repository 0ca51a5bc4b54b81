"""Failures on purpose that break no contract: throttling and slow answers.

A client's retry logic is tested against them: a throttled request is answered
``429 ThrottledClientException`` with ``Retry-After``, in AWS's error shape, and
is not carried out; a slowed request is carried out after its delay. Both are
installed on a running emulator through its public dispatch hook
(``EmulatorApp.hooks.wrap_dispatch``), so they act on valid, signed requests,
after authentication and validation, and never inside the backend's lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from chime_conformance.contract import spec
from chime_conformance.emulator.exceptions import (
    ServiceUnavailableException,
    ThrottledClientException,
)
from chime_conformance.testing._errors import MockChimeError

if TYPE_CHECKING:
    from chime_conformance.emulator.app import EmulatorApp
    from chime_conformance.emulator.hooks import Dispatch


class RateExceeded(ThrottledClientException):
    """What AWS answers a client over its request rate, with the wait it asks for."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("Rate exceeded.")
        self.retry_after = retry_after

    def headers(self) -> tuple[tuple[str, str], ...]:
        return (("Retry-After", str(self.retry_after)),)


@dataclass
class Disruption:
    """One ``throttle()`` or ``slow()`` request: which calls it acts on, how many
    times, how many answers it has throttled or delayed so far (``answered``), and
    how many delayed calls a reset or the emulator's end cut short (``cancelled``:
    answered 503 and not carried out, so no late write lands in a fresh state)."""

    kind: Literal["throttle", "slow"]
    operation: str | None  # None: any operation of either API
    times: int
    seconds: float  # Retry-After of a throttle, delay of a slow answer
    answered: int = 0
    cancelled: int = 0

    @property
    def remaining(self) -> int:
        return self.times - self.answered

    def applies_to(self, operation: str) -> bool:
        return self.remaining > 0 and self.operation in (None, operation)


class Disruptions:
    """The disruptions pending on one emulator, taken first come, first served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Disruption] = []
        # set on clear(): a delayed answer stops waiting, so a reset or a stop never hangs
        self._released = threading.Event()

    @classmethod
    def install(cls, app: EmulatorApp) -> Disruptions:
        disruptions = cls()
        app.hooks.wrap_dispatch(disruptions._wrap)
        return disruptions

    def add(
        self,
        kind: Literal["throttle", "slow"],
        operation: str | None,
        *,
        times: int,
        seconds: float,
    ) -> Disruption:
        _check_arguments(operation, times, seconds)
        disruption = Disruption(kind, operation, times, seconds)
        with self._lock:
            self._pending.append(disruption)
        return disruption

    def clear(self) -> None:
        """Drops every pending disruption and lets every delayed answer go now."""
        with self._lock:
            self._pending.clear()
            released, self._released = self._released, threading.Event()
        released.set()

    def _take(self, operation: str) -> tuple[Disruption | None, threading.Event]:
        with self._lock:
            for disruption in self._pending:
                if disruption.applies_to(operation):
                    disruption.answered += 1
                    return disruption, self._released
            return None, self._released

    def _wrap(self, dispatch: Dispatch) -> Dispatch:
        def disrupted(operation: spec.Operation, members: dict[str, Any], caller: Any) -> Any:
            disruption, released = self._take(operation.name)
            if disruption is not None and disruption.kind == "throttle":
                raise RateExceeded(int(disruption.seconds))
            if disruption is not None and released.wait(disruption.seconds):
                with self._lock:
                    disruption.cancelled += 1
                raise ServiceUnavailableException(
                    "The emulator was reset or stopped while this answer was delayed."
                )
            return dispatch(operation, members, caller)

        return disrupted


def _check_arguments(operation: str | None, times: int, seconds: float) -> None:
    if operation is not None:
        try:
            spec.operation(operation)
        except KeyError:
            raise MockChimeError(
                f"no operation {operation!r} in chime-sdk-identity or chime: name one as "
                "botocore's model does (CreateAppInstance, ListAccounts...), or None for any"
            ) from None
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise MockChimeError(f"times must be a whole number of calls, 1 or more, not {times!r}")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds >= 0:
        raise MockChimeError(f"seconds must be a number of seconds, 0 or more, not {seconds!r}")
