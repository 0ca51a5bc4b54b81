"""What happened to a run besides check verdicts: retries, throttled tests,
resources left behind, and how often each state-machine rule ran.

One :class:`RunEvents` per process (the plugin keeps it); xdist workers hand
theirs over in their report (:mod:`chime_conformance.run.worker_report`) and
the controller merges them into
``results.json`` (``retries``, ``throttled``, ``leftovers``, ``rule_counts``)
and the page. Nothing here knows about pytest.
"""

from __future__ import annotations

import os
import re
import threading
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from chime_conformance.wire.retries import Retry

__all__ = ["Leftover", "RetryEvent", "RunEvents", "ThrottledTest", "current_test_id"]


def current_test_id() -> str:
    """The running pytest node id ("" outside pytest), read from the
    environment: retries happen deep in the transport, far from any fixture."""
    return os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]


@dataclass(frozen=True)
class RetryEvent:
    """One retry: of which test and operation, why (status), and the wait."""

    test_id: str
    operation: str
    reason: str  # "HTTP 429", "HTTP 503", "connection reset"
    status: int | None
    wait: float


@dataclass(frozen=True)
class ThrottledTest:
    """A test that got no verdict: the target still throttled when retries ran out."""

    test_id: str
    operation: str
    status: int
    retries: int


# An AppInstance's ARN, at the start of the ARN of everything it holds
# (arn:aws:chime:us-east-1:123456789012:app-instance/ID/user/ID …)
_APP_INSTANCE_ARN = re.compile(r"arn:[^:\s]+:chime:[^:\s]*:[^:\s]*:app-instance/[^/\s]+")


@dataclass(frozen=True)
class Leftover:
    """A resource this run may have created and could not delete: a record
    from the ledger or the sweep to the report, never parsed back from text."""

    kind: str
    # the ARN (an endpoint: "<its user's ARN> endpoint <id>"; an account: its
    # id; a create whose answer never came: how many were sent)
    arn: str
    reason: str
    reference: bool = False  # on the --reference-url endpoint, not the target

    def __str__(self) -> str:
        where = "(reference) " if self.reference else ""
        return f"{where}{self.kind} {self.arn}: {self.reason}"

    def deleted_by(self, deleted: Collection[str]) -> bool:
        """Whether a later sweep that deleted the ARNs in ``deleted`` took it
        away: itself, or the AppInstance that held it."""
        if self.arn in deleted:
            return True
        holder = _APP_INSTANCE_ARN.match(self.arn)
        return holder is not None and holder.group(0) in deleted

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "arn": self.arn, "reason": self.reason}
        if self.reference:
            data["reference"] = True
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Leftover:
        return cls(data["kind"], data["arn"], data["reason"], bool(data.get("reference")))


@dataclass
class RunEvents:
    retries: list[RetryEvent] = field(default_factory=list)
    throttled: list[ThrottledTest] = field(default_factory=list)
    leftovers: list[Leftover] = field(default_factory=list)
    rule_counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    # the adaptive send rate (wire.retries.AdaptiveRate): seconds requests were
    # held back, how many, and the rate at the end (None: never throttled)
    paced_seconds: float = 0.0
    # resources a lost answer created, deleted before its retry (run.ledger)
    reconciled: list[str] = field(default_factory=list)
    paced_requests: int = 0
    rate: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    # -- recording (thread-safe) -------------------------------------------

    def retried(self, operation: str | None, retry: Retry) -> None:
        """A :class:`~chime_conformance.wire.retries.RetryPolicy` listener."""
        event = RetryEvent(
            current_test_id(), operation or "?", retry.reason, retry.status, round(retry.delay, 3)
        )
        with self._lock:
            self.retries.append(event)

    def paced(self, seconds: float, rate: float | None) -> None:
        """An :class:`~chime_conformance.wire.retries.AdaptiveRate` listener."""
        with self._lock:
            self.paced_requests += 1
            self.paced_seconds += seconds
            self.rate = rate

    def test_throttled(
        self, test_id: str, operation: str | None, status: int, retries: int
    ) -> None:
        with self._lock:
            self.throttled.append(ThrottledTest(test_id, operation or "?", status, retries))

    def left_behind(self, leftovers: list[Leftover]) -> None:
        with self._lock:
            self.leftovers.extend(leftovers)

    def forget_deleted(self, deleted: Collection[str]) -> None:
        """Drop the leftovers a later sweep deleted (:meth:`Leftover.deleted_by`)."""
        with self._lock:
            self.leftovers = [left for left in self.leftovers if not left.deleted_by(deleted)]

    def rule_ran(self, machine: str, rule: str) -> None:
        with self._lock:
            self.rule_counts[(machine, rule)] += 1

    def rules_declared(self, machine: str, rules: list[str]) -> None:
        """Make every rule of ``machine`` show, with 0 if it never ran."""
        with self._lock:
            for rule in rules:
                self.rule_counts[(machine, rule)] += 0

    # -- merging and the report ----------------------------------------------

    def merge(self, other: RunEvents) -> None:
        with self._lock:
            self.retries.extend(other.retries)
            self.paced_seconds += other.paced_seconds
            self.reconciled.extend(other.reconciled)
            self.paced_requests += other.paced_requests
            if other.rate is not None:  # workers pace apart: the sum is the run's rate
                self.rate = (self.rate or 0.0) + other.rate
            self.throttled.extend(other.throttled)
            self.leftovers.extend(other.leftovers)
            self.rule_counts.update(other.rule_counts)
            for key in other.rule_counts:
                self.rule_counts[key] += 0

    def to_json(self) -> dict[str, Any]:
        """The ``results.json`` members this adds (all counts, then the events)."""
        by_reason = Counter(event.reason for event in self.retries)
        machines: dict[str, dict[str, int]] = {}
        for (machine, rule), count in sorted(self.rule_counts.items()):
            machines.setdefault(machine, {})[rule] = count
        return {
            "retries": {
                "count": len(self.retries),
                "waited_seconds": round(sum(e.wait for e in self.retries), 3),
                "by_reason": dict(sorted(by_reason.items())),
                "events": [asdict(e) for e in self.retries],
                "reconciled": list(self.reconciled),
                "adaptive": {
                    "rate_per_second": None if self.rate is None else round(self.rate, 2),
                    "paced_requests": self.paced_requests,
                    "paced_seconds": round(self.paced_seconds, 3),
                },
            },
            "throttled": [asdict(t) for t in self.throttled],
            "leftovers": [leftover.to_json() for leftover in self.leftovers],
            "rule_counts": machines,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunEvents:
        """The events of :meth:`to_json` (an xdist worker's, in its report)."""
        events = cls(
            retries=[RetryEvent(**e) for e in data["retries"]["events"]],
            throttled=[ThrottledTest(**t) for t in data["throttled"]],
            leftovers=[Leftover.from_json(leftover) for leftover in data["leftovers"]],
        )
        events.reconciled = list(data["retries"].get("reconciled", []))
        adaptive = data["retries"].get("adaptive") or {}
        events.rate = adaptive.get("rate_per_second")
        events.paced_requests = adaptive.get("paced_requests", 0)
        events.paced_seconds = adaptive.get("paced_seconds", 0.0)
        for machine, rules in data["rule_counts"].items():
            for rule, count in rules.items():
                events.rule_counts[(machine, rule)] += count
        return events
