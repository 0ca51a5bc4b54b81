"""One retry policy for every path to the target.

The client, the scenarios, the state machines (through the client) and the
schemathesis harness all send through :meth:`RetryPolicy.run`: bounded
retries on "try later" answers (429, 503) and dropped connections, honouring
``Retry-After`` up to a cap, every retry reported to the policy's listener
(the run's :class:`~chime_conformance.run.events.RunEvents`). An answer that
still says "try later" when the retries run out is never judged as a contract
answer: the caller raises :class:`TargetThrottled`, which pytest and
Hypothesis both treat as "skip this test" and the plugin reports as
*throttled*.
"""

from __future__ import annotations

import email.utils
import random
import time
import unittest
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = ["THROTTLING_STATUSES", "Retry", "RetryPolicy", "TargetThrottled"]

THROTTLING_STATUSES = frozenset({429, 503})
Answer = TypeVar("Answer")


@dataclass(frozen=True)
class Retry:
    """One retry: which attempt failed, why, and how long we waited."""

    attempt: int  # 1-based number of the attempt that was retried
    reason: str  # "HTTP 429", "HTTP 503", "connection reset"
    delay: float
    status: int | None = None  # the answer's status; None for a dropped connection


RetryListener = Callable[[str | None, Retry], None]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter.

    Only answers that mean "try later" (429, 503) and dropped connections are
    retried; a read timeout is not, because the server may have acted.
    ``max_delay`` caps both the backoff and a server's ``Retry-After``.
    """

    max_retries: int = 3
    base_delay: float = 0.2
    max_delay: float = 5.0
    statuses: frozenset[int] = THROTTLING_STATUSES
    listener: RetryListener | None = field(default=None, compare=False)

    def delay(self, retry_number: int, retry_after: str | None = None) -> float:
        """Seconds before retry ``retry_number`` (0-based): ``Retry-After`` (seconds
        or an HTTP date) if the server gave a usable one, else half the
        exponential step plus jitter; never more than ``max_delay``."""
        asked = _retry_after_seconds(retry_after)
        if asked is not None:
            return min(asked, self.max_delay)
        step = min(self.max_delay, self.base_delay * 2**retry_number)
        return step / 2 + random.uniform(0, step / 2)

    def run(
        self,
        attempt: Callable[[], tuple[str | None, Answer | None, str | None]],
        *,
        operation: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> tuple[Answer | None, tuple[Retry, ...]]:
        """Call ``attempt() -> (why to retry or None, answer or None if the
        connection dropped, Retry-After)`` until it needs no retry or the
        retries run out; return the last answer and the retries made."""
        retries: list[Retry] = []
        while True:
            reason, answer, retry_after = attempt()
            if reason is None or len(retries) >= self.max_retries:
                return answer, tuple(retries)
            status = int(reason.removeprefix("HTTP ")) if reason.startswith("HTTP ") else None
            retry = Retry(len(retries) + 1, reason, self.delay(len(retries), retry_after), status)
            retries.append(retry)
            if self.listener is not None:
                self.listener(operation, retry)
            sleep(retry.delay)

    def reason_to_retry(self, status: int) -> str | None:
        return f"HTTP {status}" if status in self.statuses else None


def _retry_after_seconds(value: str | None) -> float | None:
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            return None
        seconds = moment.timestamp() - time.time()
    return max(0.0, seconds) if seconds == seconds else None  # NaN: unusable


class TargetThrottled(unittest.SkipTest):
    """The target still said "try later" when the retries ran out: the answer
    is no verdict on the contract, and the test is reported *throttled*.

    A :class:`unittest.SkipTest`, so Hypothesis stops at once (no shrinking
    on a busy target) and pytest reports the test as skipped with this reason.
    """

    PREFIX = "throttled:"

    def __init__(self, operation: str | None, status: int, retries: tuple[Retry, ...]) -> None:
        waited = sum(retry.delay for retry in retries)
        super().__init__(
            f"{self.PREFIX} {operation or 'a request'} still answered {status} after "
            f"{len(retries)} retries ({waited:.1f} s of waiting); no verdict."
        )
        self.operation = operation
        self.status = status
        self.retries = retries
        self.exchange: Any = None  # the last answer, where the caller has one
