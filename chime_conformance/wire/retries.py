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

Before each attempt the policy's :class:`AdaptiveRate` (botocore's
``adaptive`` retry mode: its token bucket, CUBIC rate calculator and rate
clocker, reused as they are) may hold the request back: off until the first
429/503, then a client-side send rate that backs off on each one and
recovers, so a throttling target costs a slower run, not a retry per request.
"""

from __future__ import annotations

import collections
import email.utils
import random
import threading
import time
import unittest
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "THROTTLING_STATUSES",
    "AdaptiveRate",
    "OutcomeUnknown",
    "Retry",
    "RetryPolicy",
    "TargetThrottled",
    "outcome_unknown",
]

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
PaceListener = Callable[[float, float | None], None]  # (seconds held back, send rate)


class _ThrottlingStatus:
    """botocore's throttling detector, for a status instead of a parsed answer."""

    def is_throttling_error(self, status: int | None = None, **_: Any) -> bool:
        return status in THROTTLING_STATUSES


FLOOR_RATE = 0.5  # requests/s: botocore's ClientRateLimiter never goes below it
THROTTLED_AT_FLOOR = 3  # throttling answers at (twice) the floor before pacing is dropped
# Or: of the last PACED_WINDOW answers while paced, this share or more still
# throttled. A target that throttles by rate stops once paced below it (the
# token bucket row: 57 of 11,573 answers); one that throttles every n-th
# request goes on (1 in 3), and its CUBIC rate hovers near 1.5 requests/s.
PACED_WINDOW = 40
STILL_THROTTLED_SHARE = 0.25


class AdaptiveRate:
    """A client-side send rate, as botocore's ``adaptive`` retry mode keeps
    one: :class:`botocore.retries.adaptive.ClientRateLimiter` over its
    :class:`~botocore.retries.bucket.TokenBucket`, enabled by the first
    throttling answer, cut to 70 % of the measured rate by each one and
    grown back (CUBIC) by the answers after. Thread-safe (botocore's are).
    Dropped (no more pacing; retries go on) once the target has throttled
    :data:`THROTTLED_AT_FLOOR` times near the floor rate, or a quarter of the
    last :data:`PACED_WINDOW` paced answers: its throttling does not depend
    on the rate, and pacing at a request or two a second would turn a
    minute's run into hours."""

    def __init__(self, listener: PaceListener | None = None, clock: Any = None) -> None:
        """``clock``: botocore's ``bucket.Clock`` (``current_time``, ``sleep``)
        unless a test gives its own."""
        from botocore.retries import adaptive, bucket, throttling

        clock = clock or bucket.Clock()
        self._bucket = bucket.TokenBucket(max_rate=1, clock=clock)
        self._limiter = adaptive.ClientRateLimiter(
            rate_adjustor=throttling.CubicCalculator(
                starting_max_rate=0, start_time=clock.current_time()
            ),
            rate_clocker=adaptive.RateClocker(clock),
            token_bucket=self._bucket,
            throttling_detector=_ThrottlingStatus(),
            clock=clock,
        )
        self.listener = listener
        self.held_back = 0.0  # seconds requests waited for the bucket
        # a target that throttles whatever the rate (every n-th request) keeps
        # throttling at botocore's floor: pacing is then dropped, retries stay
        self.dropped = False
        self._throttled_at_floor = 0
        self._paced: collections.deque[bool] = collections.deque(maxlen=PACED_WINDOW)
        self._lock = threading.Lock()

    @property
    def rate(self) -> float | None:
        """Requests per second allowed now; None until the target first throttled."""
        return float(self._bucket.max_rate) if self._limiter._enabled else None

    def before_sending(self, max_wait: float | None = None) -> None:
        """Wait for the bucket's next token (what botocore's limiter does
        before each request), but at most ``max_wait`` seconds: the same cap
        as a ``Retry-After`` wait. A target that throttles whatever the rate
        (every n-th request) would otherwise push the rate to botocore's floor
        (0.5 requests/s) and a minute's run into hours."""
        if not self._limiter._enabled or self.dropped:
            return
        from botocore.exceptions import CapacityNotAvailableError

        started = time.monotonic()
        if max_wait is None:
            self._bucket.acquire()
        else:
            deadline = started + max_wait
            while True:
                try:
                    self._bucket.acquire(block=False)
                    break
                except CapacityNotAvailableError:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break  # sent without a token: the cap is reached
                    time.sleep(min(left, 1.0 / max(float(self._bucket.max_rate), 1.0)))
        waited = time.monotonic() - started
        with self._lock:
            self.held_back += waited
        if self.listener is not None:
            self.listener(waited, self.rate)

    def answered(self, status: int) -> None:
        if self.dropped:
            return
        rate = self.rate
        self._limiter.on_receiving_response(status=status)
        throttled = status in THROTTLING_STATUSES
        with self._lock:
            if rate is not None:
                self._paced.append(throttled)
            if rate is not None and rate > 2 * FLOOR_RATE:
                self._throttled_at_floor = 0
            elif throttled and rate is not None:
                self._throttled_at_floor += 1
            # slowing down did not help: this target does not throttle by rate
            still = len(self._paced) == PACED_WINDOW and (
                sum(self._paced) >= STILL_THROTTLED_SHARE * PACED_WINDOW
            )
            self.dropped = self._throttled_at_floor >= THROTTLED_AT_FLOOR or still


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter.

    Only answers that mean "try later" (429, 503) and dropped connections are
    retried; a read timeout is not, because the server may have acted.
    ``max_delay`` caps the backoff, a server's ``Retry-After`` and the adaptive
    rate's wait for a token.
    """

    max_retries: int = 3
    base_delay: float = 0.2
    max_delay: float = 5.0
    statuses: frozenset[int] = THROTTLING_STATUSES
    listener: RetryListener | None = field(default=None, compare=False)
    rate: AdaptiveRate | None = field(default=None, compare=False)

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
            if self.rate is not None:
                self.rate.before_sending(self.max_delay)
            reason, answer, retry_after = attempt()
            if self.rate is not None and answer is not None:
                self.rate.answered(_status(reason))
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


def _status(reason: str | None) -> int:
    """The throttling status a reason names ("HTTP 429"), else 200 (an answer)."""
    if reason is not None and reason.startswith("HTTP "):
        return int(reason.removeprefix("HTTP "))
    return 200


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


# After an attempt whose answer was lost, the retry's answer says what the
# lost attempt did, not what this request does: a delete finds nothing (404),
# a create finds it made (409). Judging it would report the suite's own retry
# as the target's fault.
_AFTER_A_LOST_ANSWER = {"Delete": 404, "Deregister": 404, "Create": 409}


def outcome_unknown(
    operation: str | None, status: int, retries: tuple[Retry, ...]
) -> OutcomeUnknown | None:
    """The no-verdict for a retried ``operation`` whose lost first answer
    explains the retry's ``status``, else None."""
    if operation is None or not any(r.reason == "connection reset" for r in retries):
        return None
    for prefix, explained in _AFTER_A_LOST_ANSWER.items():
        if operation.startswith(prefix) and status == explained:
            return OutcomeUnknown(operation, status)
    return None


class OutcomeUnknown(unittest.SkipTest):
    """A request's answer was lost and its retry answered what the lost
    attempt explains (a delete: 404; a create: 409): no verdict, as for
    :class:`TargetThrottled` (pytest and Hypothesis skip; never a failure),
    unless the caller knows what the lost attempt did: a scenario that asked
    for that very effect (conformance/scenario.py) takes it as done and goes on."""

    PREFIX = "answer lost:"

    def __init__(self, operation: str, status: int) -> None:
        super().__init__(
            f"{self.PREFIX} {operation}'s answer was lost and its retry answered {status}, "
            "which the lost attempt explains; no verdict."
        )
        self.operation = operation
        self.status = status
        self.exchange: Any = None  # the retry's answer, where the caller has one
