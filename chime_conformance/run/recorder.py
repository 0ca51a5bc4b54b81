"""Apply checks to an exchange, record every outcome, and fail loudly.

The one path from "an exchange happened" to "the run knows what it proved":
:class:`Recorder` writes every verdict, whichever layer produced it (the
per-operation tests and scenarios through :class:`Verifier`, the state
machines through its subclass, the schemathesis harness directly), and
refuses a check name the registry (:data:`chime_conformance.checks.REGISTRY`)
does not declare.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chime_conformance import checks
from chime_conformance.contract import spec
from chime_conformance.run import differential
from chime_conformance.run.results import FAIL, NOT_APPLICABLE, PASS, CheckRecord, ResultLog
from chime_conformance.wire.exchange import Exchange


class ContractBroken(AssertionError):
    """One or more checks failed on one exchange; the message lists them all,
    followed by a reproducer. ``failures`` and ``exchange`` keep the parts,
    so a caller can say it otherwise without reading the text."""

    def __init__(
        self,
        message: str,
        *,
        failures: tuple[checks.CheckFailure, ...] = (),
        exchange: Exchange | None = None,
    ) -> None:
        super().__init__(message)
        self.failures = failures
        self.exchange = exchange


@dataclass(frozen=True)
class Recorder:
    """The one writer of check records: every verdict of the run goes through
    :meth:`record`, which accepts only declared checks."""

    results: ResultLog

    def record(
        self,
        check: checks.DeclaredCheck | str,
        outcome: str,
        *,
        test_id: str,
        operation: str,
        exchange: Exchange | None = None,
        failure: checks.CheckFailure | None = None,
        message: str | None = None,
        spec_fact: str | None = None,
        constraint: str | None = None,
        steps: tuple[str, ...] = (),
        reproducer_python: str | None = None,
    ) -> CheckRecord:
        """Write one verdict; a failure keeps the (redacted) exchange and its
        reproducers. :class:`~chime_conformance.checks.UnknownCheck` if
        ``check`` is not declared."""
        name = checks.declared(check).name
        details: dict[str, Any] = {}
        if outcome == FAIL:
            details = {
                "message": message if message is not None else (failure.message if failure else ""),
                "spec_fact": spec_fact
                if spec_fact is not None
                else (failure.spec_fact if failure else ""),
                "steps": steps,
            }
            if exchange is not None:
                details.update(
                    request=request_record(exchange),
                    response=response_record(exchange),
                    reproducer_curl=exchange.as_curl(),
                    reproducer_python=reproducer_python or exchange.as_python(),
                )
        record = CheckRecord(test_id, operation, name, outcome, constraint=constraint, **details)
        self.results.record(record)
        return record


@dataclass
class Verifier:
    """Runs checks for one test and records them under its node id."""

    results: ResultLog
    test_id: str
    strict: bool = False
    region: str = "us-east-1"
    account_id: str | None = None
    recorder: Recorder = field(init=False)

    def __post_init__(self) -> None:
        self.recorder = Recorder(self.results)

    def __repr__(self) -> str:
        # Hypothesis prints a test's arguments (this fixture among them) when it
        # fails; the ResultLog would make that hundreds of kilobytes.
        return f"{type(self).__name__}(test_id={self.test_id!r})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Hypothesis' printer shows a dataclass field by field unless told so."""
        printer.text(repr(self))

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
            self._record(exchange, outcome, constraint)
        failures = [o.failure for o in outcomes if o.failure is not None]
        if failures:
            raise self.broken(exchange, failures)

    def fail(
        self, exchange: Exchange, failure: checks.CheckFailure, *, check: checks.DeclaredCheck
    ) -> None:
        """Record and raise a failure found outside the per-exchange oracles
        (a comparison of two exchanges, such as read-after-write)."""
        failure.check = checks.declared(check).name
        self._record_failure(exchange, failure)
        raise self.broken(exchange, [failure])

    def passed(self, exchange: Exchange, *, check: checks.DeclaredCheck) -> None:
        self.recorder.record(check, PASS, test_id=self.test_id, operation=exchange.operation or "?")

    def _record(
        self, exchange: Exchange, outcome: checks.CheckResult, constraint: str | None
    ) -> None:
        if outcome.failure is not None:
            self._record_failure(exchange, outcome.failure, constraint)
            return
        self.recorder.record(
            outcome.check,
            PASS if outcome.applied else NOT_APPLICABLE,
            test_id=self.test_id,
            operation=exchange.operation or "?",
            constraint=constraint,
        )

    def _record_failure(
        self, exchange: Exchange, failure: checks.CheckFailure, constraint: str | None = None
    ) -> None:
        self.recorder.record(
            failure.check,
            FAIL,
            test_id=self.test_id,
            operation=exchange.operation or "?",
            exchange=exchange,
            failure=failure,
            constraint=constraint,
            **self.failure_details(failure),
        )

    def failure_details(self, failure: checks.CheckFailure) -> Mapping[str, Any]:
        """What a failure's record adds besides the exchange; a subclass may add
        what it knows (a state machine: its steps and whole-run reproducer)."""
        return {}

    def broken(self, exchange: Exchange, failures: Iterable[checks.CheckFailure]) -> ContractBroken:
        """The exception that fails the test; a subclass may say it otherwise."""
        failures = tuple(failures)
        return ContractBroken(describe(exchange, failures), failures=failures, exchange=exchange)


def compared(exchange: Exchange, reference: Exchange) -> checks.CheckResult:
    """The differential check's outcome: does the target answer as the reference?"""
    found = differential.disagreements(exchange, reference)
    failure = differential.failure(exchange, reference, found) if found else None
    return checks.CheckResult(checks.AGREES_WITH_REFERENCE.name, True, failure)


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
