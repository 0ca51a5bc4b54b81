"""Apply checks to an exchange, record every outcome, and fail loudly.

The one path from "an exchange happened" to "the run knows what it proved":
used by the per-operation tests, the schemathesis tests and the state
machines alike, so the report sees every check the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chime_conformance import checks, differential, spec
from chime_conformance.client import Exchange
from chime_conformance.results import FAIL, NOT_APPLICABLE, PASS, CheckRecord, ResultLog


class ContractBroken(AssertionError):
    """One or more checks failed on one exchange; the message lists them all,
    followed by a reproducer."""


@dataclass
class Verifier:
    """Runs checks for one test and records them under its node id."""

    results: ResultLog
    test_id: str
    strict: bool = False
    region: str = "us-east-1"
    account_id: str | None = None

    def context(self, exchange: Exchange) -> checks.CheckContext:
        op = spec.operation(exchange.operation) if exchange.operation else None
        if op is None:
            raise ValueError("the exchange does not name its operation")
        return checks.CheckContext(
            operation=op,
            strict=self.strict,
            account_id=self.account_id,
            region=self.region,
            members=exchange.members or {},
        )

    def verify(
        self,
        exchange: Exchange,
        expectation: checks.Expectation,
        *,
        names: tuple[str, ...] | None = None,
        constraint: str | None = None,
        reference: Exchange | None = None,
    ) -> None:
        """Apply the checks (all registered ones by default) and, given the
        reference's answer to the same request, compare the two; raise
        :class:`ContractBroken` naming every check that failed."""
        outcomes = checks.run_checks(self.context(exchange), exchange, expectation, names)
        if reference is not None:
            outcomes.append(compared(exchange, reference))
        for outcome in outcomes:
            self.results.record(self._record(exchange, outcome, constraint))
        failures = [o.failure for o in outcomes if o.failure is not None]
        if failures:
            raise ContractBroken(describe(exchange, failures))

    def fail(self, exchange: Exchange, failure: checks.CheckFailure, *, check: str) -> None:
        """Record and raise a failure found outside the registry (a comparison
        of two exchanges, such as read-after-write)."""
        failure.check = check
        self.results.record(self.failure_record(exchange, failure))
        raise ContractBroken(describe(exchange, [failure]))

    def passed(self, exchange: Exchange, *, check: str) -> None:
        self.results.record(CheckRecord(self.test_id, exchange.operation or "?", check, PASS))

    def _record(
        self, exchange: Exchange, outcome: checks.CheckResult, constraint: str | None
    ) -> CheckRecord:
        if outcome.failure is not None:
            return self.failure_record(exchange, outcome.failure, constraint)
        status = PASS if outcome.applied else NOT_APPLICABLE
        return CheckRecord(
            self.test_id, exchange.operation or "?", outcome.check, status, constraint=constraint
        )

    def failure_record(
        self, exchange: Exchange, failure: checks.CheckFailure, constraint: str | None = None
    ) -> CheckRecord:
        """The record of a failure on ``exchange``; a subclass may add what it
        knows (a state machine adds its step sequence and whole-run reproducer)."""
        return CheckRecord(
            test_id=self.test_id,
            operation=exchange.operation or "?",
            check=failure.check,
            outcome=FAIL,
            message=failure.message,
            spec_fact=failure.spec_fact,
            constraint=constraint,
            request=request_record(exchange),
            response=response_record(exchange),
            reproducer_curl=exchange.as_curl(),
            reproducer_python=exchange.as_python(),
        )


def compared(exchange: Exchange, reference: Exchange) -> checks.CheckResult:
    """The differential check's outcome: does the target answer as the reference?"""
    found = differential.disagreements(exchange, reference)
    failure = differential.failure(exchange, reference, found) if found else None
    return checks.CheckResult(differential.CHECK_NAME, True, failure)


def describe(exchange: Exchange, failures: Iterable[checks.CheckFailure]) -> str:
    """Every failure's text, then the request that provoked them as Python."""
    lines = [f"[{f.check}] {f.message}" for f in failures]
    lines.append("Reproduce with:\n" + exchange.as_python())
    return "\n\n".join(lines)


def request_record(exchange: Exchange) -> dict[str, Any]:
    request = exchange.request
    return {
        "method": request.method,
        "url": request.url,
        "headers": dict(request.headers),  # already redacted by the client
        "body": _text(request.body),
    }


def response_record(exchange: Exchange) -> dict[str, Any]:
    response = exchange.response
    return {
        "status": response.status,
        "headers": dict(response.headers),
        "body": _text(response.body),
    }


def _text(body: bytes | None, limit: int = 4096) -> str | None:
    if body is None:
        return None
    text = body[:limit].decode("utf-8", "replace")
    return text + ("…" if len(body) > limit else "")
