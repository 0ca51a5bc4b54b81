"""Multi-step contract tests: call, verify every answer, compare across calls.

A read-after-write or idempotency failure is a comparison of two answers, so
it cannot live in the per-exchange check registry; :class:`Scenario` records
it as a named check all the same ("Received: … Documented: …"), so the
report and the fault-injection proofs treat it like any other check.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from chime_conformance import checks
from chime_conformance.contract import resources as catalogue
from chime_conformance.contract import spec
from chime_conformance.run.config import DEFAULT_DELETION_WINDOW
from chime_conformance.run.implementation import foreign_answer
from chime_conformance.run.recorder import Verifier
from chime_conformance.wire import overlapping
from chime_conformance.wire.client import ChimeClient, Exchange
from chime_conformance.wire.retries import OutcomeUnknown

# How often a deleted resource is read again while the deletion window lasts.
POLL_SECONDS = 0.25


class Scenario:
    """One test's conversation with the target."""

    def __init__(
        self,
        client: ChimeClient,
        verifier: Verifier,
        *,
        strict: bool = False,
        deletion_window: float = DEFAULT_DELETION_WINDOW,
    ) -> None:
        self.client = client
        self.verifier = verifier
        self.strict = strict
        # seconds a deleted resource may still read back (--deletion-window)
        self.deletion_window = deletion_window

    def call(
        self, operation: str, members: Mapping[str, Any], *, resource: str = "present"
    ) -> Exchange:
        """Send a valid request and verify the answer with every check."""
        exchange = self.client.call(operation, dict(members))
        self.verifier.verify(exchange, checks.Expectation.valid_input(resource=resource))  # type: ignore[arg-type]
        return exchange

    def ok(self, operation: str, members: Mapping[str, Any]) -> dict[str, Any]:
        """Call, verify, and return the body of a 2xx answer.

        If the answer was lost and the retry's answer is what the lost attempt
        explains (a delete found nothing to delete; an admin's create found it
        made), and that effect is the one asked for, it is taken as done: no
        verdict on the retry, and an empty body (the caller knows what it
        asked for). A create whose answer names what it made (an ARN the
        service issues) cannot be settled so and stays a no-verdict."""
        try:
            exchange = self.call(operation, members)
        except OutcomeUnknown:
            if not lost_attempt_did_what_was_asked(operation):
                raise
            return {}
        if not 200 <= exchange.status < 300:
            self.expect(
                exchange,
                False,
                check=checks.declared("valid_input_accepted"),
                fact=f"{operation} succeeds on a valid request naming live resources",
                received=f"{exchange.status} {exchange.response.body[:200]!r}",
                documented=str(spec.operation(operation).success_status),
            )
        return exchange.json if isinstance(exchange.json, dict) else {}

    def attempt(self, operation: str, members: Mapping[str, Any]) -> Exchange:
        """Send a request the caller expects to be refused (a 404 or a 409),
        unverified: the caller judges it. If the answer was lost and the
        retry's refusal is what the lost attempt explains, that refusal is the
        one expected anyway: it is returned for judging."""
        try:
            return self.client.call(operation, dict(members))
        except OutcomeUnknown as unknown:
            if unknown.exchange is None:
                raise
            return unknown.exchange  # type: ignore[no-any-return]

    def expect(
        self,
        exchange: Exchange,
        held: bool,
        *,
        check: checks.DeclaredCheck,
        fact: str,
        received: Any,
        documented: Any,
    ) -> None:
        """Record ``check`` on ``exchange``: passed if ``held``, else fail the test."""
        if held:
            self.verifier.passed(exchange, check=check)
            return
        failure = checks.CheckFailure(
            operation=exchange.operation or "?",
            spec_fact=fact,
            received=str(received),
            documented=str(documented),
        )
        self.verifier.fail(exchange, failure, check=check)

    def expect_on(self, operation: str, exchange: Exchange, held: bool, **what: Any) -> None:
        """:meth:`expect`, recorded under ``operation``: a read that shows what
        a write stored is a verdict on the write (the record keeps the read)."""
        self.expect(dataclasses.replace(exchange, operation=operation), held, **what)

    def together(
        self,
        requests: Sequence[tuple[str, Mapping[str, Any]]],
        *,
        verify: bool = True,
        stagger: float = 0.0,
    ) -> list[Exchange]:
        """Send ``requests`` at once (``chime_conformance.wire.overlapping``) and
        verify each answer with every check: a success as about a present
        resource, a missing-resource answer as about an absent one (overlapping
        deletes and creates race to it). ``verify=False`` where which answer
        comes is the race itself (a create against its parent's delete): only
        the caller's judgement of the outcome is recorded, so a run's cells do
        not depend on who won. ``stagger``: see ``send_together``. The
        exchanges, in the order given."""
        send = getattr(self.client, "send_together", None)
        exchanges = (
            send(requests, stagger=stagger)
            if send
            else overlapping.send_together(self.client.call, requests, stagger=stagger)
        )
        missing = checks.missing_resource_statuses(self.strict)
        for exchange in exchanges if verify else ():
            resource = "absent" if exchange.status in missing else None
            self.verifier.verify(exchange, checks.Expectation.valid_input(resource=resource))
        return exchanges

    def expect_fields(
        self,
        exchange: Exchange,
        actual: Mapping[str, Any],
        wanted: Mapping[str, Any],
        *,
        check: checks.DeclaredCheck,
        what: str,
    ) -> None:
        """Every field of ``wanted`` reads back as written."""
        for name, value in wanted.items():
            self.expect(
                exchange,
                actual.get(name) == value,
                check=check,
                fact=f"{what}.{name} reads back as written",
                received=repr(actual.get(name)),
                documented=repr(value),
            )

    def reads_back(
        self,
        operation: str,
        members: Mapping[str, Any],
        key: str,
        wanted: Mapping[str, Any],
        *,
        check: checks.DeclaredCheck = checks.READ_AFTER_WRITE,
    ) -> dict[str, Any]:
        """Read ``body[key]`` with ``operation`` and expect ``wanted`` in it;
        return what was read."""
        exchange = self.call(operation, members)
        found = field_of(exchange.json, key)
        actual = found if isinstance(found, dict) else {}
        self.expect_fields(exchange, actual, wanted, check=check, what=key)
        return actual

    def gone(
        self, operation: str, members: Mapping[str, Any], *, check: checks.DeclaredCheck, what: str
    ) -> Exchange:
        """Poll ``operation`` (for at most the deletion window) until it reports
        the resource missing. An answer not in the API's shape (the operation is
        not implemented, an HTML page) ends the wait at once: asking again for
        the window's 20 s would not change it."""
        deadline = time.monotonic() + self.deletion_window
        while True:
            exchange = self.client.call(operation, dict(members))
            missing = exchange.status in checks.missing_resource_statuses(self.strict)
            if missing or time.monotonic() >= deadline or _foreign(exchange):
                break
            time.sleep(POLL_SECONDS)
        # the scenario's own check first: a lingering resource is a broken
        # cascade or delete, which is more precise than "not reported missing"
        self.expect(
            exchange,
            missing,
            check=check,
            fact=f"{what} is unreadable after its deletion (docs/contract.md cascade/missing resource)",
            received=exchange.status,
            documented=f"404 within {self.deletion_window:g} s",
        )
        self.verifier.verify(exchange, checks.Expectation.valid_input(resource="absent"))
        return exchange

    def pages(
        self, operation: str, members: Mapping[str, Any], items_key: str, max_results: int
    ) -> Iterator[tuple[Exchange, list[Any]]]:
        """Walk a List through NextToken, checking each page's contract."""
        token: str | None = None
        seen_tokens: set[str] = set()
        while True:
            request = {
                **members,
                "MaxResults": max_results,
                **({"NextToken": token} if token else {}),
            }
            exchange = self.call(operation, request)
            body = exchange.json if isinstance(exchange.json, dict) else {}
            items = list(body.get(items_key) or [])
            self.expect(
                exchange,
                len(items) <= max_results,
                check=checks.PAGINATION,
                fact=f"a {operation} page holds at most MaxResults items",
                received=len(items),
                documented=f"<= {max_results}",
            )
            token = body.get("NextToken")
            yield exchange, items
            if not token:
                return
            self.expect(
                exchange,
                bool(items) and token not in seen_tokens,
                check=checks.PAGINATION,
                fact=f"{operation}: a NextToken comes with items and never repeats",
                received=f"{len(items)} items, token seen before: {token in seen_tokens}",
                documented="a new token after a non-empty page",
            )
            seen_tokens.add(token)


def field_of(body: Mapping[str, Any], *path: str) -> Any:
    """``body[path[0]][path[1]]…`` or None."""
    value: Any = body
    for step in path:
        value = value.get(step) if isinstance(value, Mapping) else None
    return value


def _foreign(exchange: Exchange) -> bool:
    """Whether ``exchange`` was answered outside the API's shape."""
    response = exchange.response
    text = response.body.decode("utf-8", errors="replace")
    return (
        foreign_answer(response.status, response.json, text=text, headers=response.headers)
        is not None
    )


def lost_attempt_did_what_was_asked(operation: str) -> bool:
    """Whether a lost attempt of ``operation`` whose retry answered what that
    attempt explains (a delete: 404; a create: 409) did exactly what was
    asked: a delete deleted it; a create made the resource its request names
    in full (an admin: the AppInstance and the user it promotes)."""
    if catalogue.by_delete(operation) is not None:
        return True
    made = catalogue.by_create(operation)
    named = spec.operation(operation).input_schema.get("required", ()) if made else ()
    return made is not None and set(made.address) <= set(named)
