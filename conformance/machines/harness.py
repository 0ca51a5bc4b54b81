"""What every state machine shares: its context, its step log, its checks.

A machine talks to the target only through a :class:`Scenario` whose client
records every exchange in the machine's :class:`StepLog` and whose verifier
(:class:`MachineVerifier`) stamps a failure's record with the steps that led
to it and with a script replaying them; so the report shows the minimal step
sequence Hypothesis ends on, and a user can rerun it against the target.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import itertools
import math
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from chime_conformance import checks
from chime_conformance.checks import overlap
from chime_conformance.run.config import DEFAULT_DELETION_WINDOW
from chime_conformance.run.events import RunEvents
from chime_conformance.run.recorder import ContractBroken, Verifier
from chime_conformance.wire import overlapping
from chime_conformance.wire.client import ChimeClient, Exchange
from chime_conformance.wire.retries import OutcomeUnknown

from .. import scenario
from ..resources import RUN_TAG_KEY
from ..scenario import Scenario, field_of
from .reproducer import sequence_script

# Global lists (every AppInstance of the account) may hold thousands of other
# clients' items: their page size grows so that a walk takes about this many pages.
GLOBAL_WALK_PAGES = 8


@dataclass
class MachineContext:
    """What a machine needs from the suite: the client, the verifier whose
    records reach the report, the run id and the strictness."""

    client: ChimeClient
    verifier: Verifier
    run_id: str
    strict: bool = False
    # seconds a deleted resource may still read back (--deletion-window)
    deletion_window: float = DEFAULT_DELETION_WINDOW
    worker: str = "main"  # the xdist worker: workers share the run id
    names: Callable[[], int] = field(default_factory=lambda: itertools.count(1).__next__)
    # the size of each global list at its last walk, shared by the examples of a test
    global_sizes: dict[str, int] = field(default_factory=dict)
    # how often each rule ran, for the report (None: not counted)
    events: RunEvents | None = None

    def prefix(self) -> str:
        """A fresh name prefix for one machine run: every id, token and account
        name the run makes starts with it, so a replay can swap in a new one."""
        # fixed width: no machine's prefix is a prefix of another's (ListAccounts filters by it)
        return f"{self.run_id}-{self.worker}-m{self.names():04d}"


# --------------------------------------------------------------------------
# The step log


@dataclass
class StepLog:
    """The rules a machine ran and every exchange it sent, in order."""

    prefix: str
    steps: list[str] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    current: str = ""  # the rule or invariant running now
    current_started_at: int = 0  # index of its first exchange
    # id() of each exchange sent together with others -> the number of its group
    together: dict[int, int] = field(default_factory=dict)

    def begin(self, line: str, *, is_rule: bool) -> None:
        if is_rule:
            self.steps.append(line)
        self.current = line
        self.current_started_at = len(self.exchanges)

    def sent(self, exchange: Exchange) -> Exchange:
        self.exchanges.append(exchange)
        return exchange

    def sent_together(self, exchanges: list[Exchange]) -> list[Exchange]:
        """Requests that overlapped: logged in the order given, as one group."""
        group = 1 + max(self.together.values(), default=0)
        for exchange in exchanges:
            self.together[id(exchange)] = group
            self.exchanges.append(exchange)
        return exchanges

    def group_of(self, exchange: Exchange) -> int | None:
        return self.together.get(id(exchange))

    def minimal_steps(self) -> tuple[str, ...]:
        """The rules so far, then the rule or invariant that failed."""
        failing = () if self.steps and self.steps[-1] == self.current else (self.current,)
        return (*self.steps, *failing)

    def replayed_exchanges(self) -> list[Exchange]:
        """Every call so far, reads too (a broken target's answers may depend
        on them), except that the failing step's polling shows only its last
        answer."""
        earlier = self.exchanges[: self.current_started_at]
        later = self.exchanges[self.current_started_at :]
        return earlier + _without_repeats(later, grouped=set(self.together))


def _without_repeats(exchanges: list[Exchange], grouped: Collection[int] = ()) -> list[Exchange]:
    # polling repeats one request; the last answer is the one that counts
    # (requests sent together are all kept: their overlap is the point)
    kept: list[Exchange] = []
    for exchange in exchanges:
        if kept and id(exchange) not in grouped and _same_request(kept[-1], exchange):
            kept[-1] = exchange
        else:
            kept.append(exchange)
    return kept


def _same_request(a: Exchange, b: Exchange) -> bool:
    return (a.request.method, a.request.url, a.request.body) == (
        b.request.method,
        b.request.url,
        b.request.body,
    )


def _step_line(name: str, arguments: Mapping[str, Any]) -> str:
    shown = ", ".join(f"{key}={value!r}" for key, value in arguments.items())
    return f"state.{name}({shown})"


def step(function: Callable[..., Any]) -> Callable[..., Any]:
    """Log a rule in the machine's step log (goes under ``@rule``)."""

    @functools.wraps(function)
    def logged(machine: Machine, **arguments: Any) -> Any:
        machine.log.begin(_step_line(function.__name__, arguments), is_rule=True)
        machine.counted(function.__name__)
        if machine.context.events is not None:
            machine.context.events.rule_ran(machine.machine_name(), function.__name__)
        return function(machine, **arguments)

    return logged


def check(function: Callable[..., Any]) -> Callable[..., Any]:
    """Mark the start of an invariant in the step log (goes under ``@invariant``)."""

    @functools.wraps(function)
    def logged(machine: Machine) -> Any:
        machine.log.begin(_step_line(function.__name__, {}), is_rule=False)
        return function(machine)

    return logged


# --------------------------------------------------------------------------
# Recording client and verifier


@dataclass
class RecordingClient:
    """The suite's client, writing every exchange into a step log."""

    client: ChimeClient
    log: StepLog

    def call(self, operation: str, members: Mapping[str, Any], **options: Any) -> Exchange:
        try:
            return self.log.sent(self.client.call(operation, dict(members), **options))
        except OutcomeUnknown as unknown:  # the retry's answer still happened
            if unknown.exchange is not None:
                self.log.sent(unknown.exchange)
            raise

    def send_together(
        self, requests: Sequence[tuple[str, Mapping[str, Any]]], *, stagger: float = 0.0
    ) -> list[Exchange]:
        """Send ``requests`` at once; logged as one group, which the reproducer
        sends at once again."""
        sent = overlapping.send_together(self.client.call, requests, stagger=stagger)
        return self.log.sent_together(sent)


@dataclass
class MachineVerifier(Verifier):
    """A verifier whose failures carry the machine's steps and a script that
    replays them, in the record and in the raised message."""

    log: StepLog = field(default_factory=lambda: StepLog(""))

    def failure_details(self, failure: checks.CheckFailure) -> Mapping[str, Any]:
        return {
            "steps": self.log.minimal_steps(),
            "reproducer_python": self.script(f"[{failure.check}] {failure.message}"),
        }

    def script(self, broken: str) -> str:
        return sequence_script(
            self.log.replayed_exchanges(),
            together=self.log.group_of,
            prefix=self.log.prefix,
            steps=self.log.minimal_steps(),
            broken=broken,
        )

    def broken(self, exchange: Exchange, failures: Iterable[checks.CheckFailure]) -> ContractBroken:
        failures = tuple(failures)
        found = "\n\n".join(f"[{f.check}] {f.message}" for f in failures)
        steps = "\n".join(f"  {line}" for line in self.log.minimal_steps())
        return ContractBroken(
            f"{found}\n\nSteps:\n{steps}\n\n"
            f"Replay the steps against the target with this script:\n{self.script(found)}",
            failures=failures,
            exchange=exchange,
        )


# --------------------------------------------------------------------------
# The machine base


def page_sizes(maximum: int = 50) -> Any:
    """MaxResults for list walks: mostly tiny pages (they exercise NextToken
    most), sometimes any size up to ``maximum``."""
    return st.one_of(st.integers(1, 3), st.integers(1, maximum))


_RULE_MARKER = "hypothesis_stateful_rule"  # Hypothesis' own lookup (setup_state) is private
_INITIALIZE_MARKER = "hypothesis_stateful_initialize_rule"


def _may_run(name: str) -> Callable[[Machine], bool]:
    return lambda machine: machine.may_run(name)


class Machine(RuleBasedStateMachine):
    """A state machine bound to a :class:`MachineContext` (``bind()``).

    Rule coverage: Hypothesis draws the next rule among the valid ones with
    a bias to the first in its order (fewest targets and arguments first), so
    under ``ci`` (a few short runs) rules deep in the state rarely fired.
    Every rule therefore gets one more precondition, *take turns*: within one
    run a rule may run again only once every rule has had as many turns as the
    run's length allows (``1 + steps // rules``; creators, whose state the
    others need, one more). :meth:`wait` (not counted, valid only when no
    other rule is) keeps the machine moving when every rule has had its turn.
    The precondition reads only this run's state, so replays and shrinking
    see the same choices.
    """

    context: MachineContext

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, member in list(vars(cls).items()):
            found = getattr(member, _RULE_MARKER, None)
            if found is not None and name != "wait":
                if found.targets:  # creators get one turn more: the others need their state
                    cls.creators = frozenset({*cls.creators, name})
                setattr(cls, name, precondition(_may_run(name))(member))

    creators: frozenset[str] = frozenset()

    def may_run(self, name: str) -> bool:
        turns = 1 + self.steps_run // self.rule_count + (name in self.creators)
        return self.rule_runs[name] < turns

    def counted(self, name: str) -> None:
        """A rule starts (called by :func:`step`)."""
        self.rule_runs[name] += 1
        self.steps_run += 1

    def nothing_else_can_run(self) -> bool:
        # Hypothesis' own validity test (bundles, preconditions); it prefers
        # rules without targets or arguments, so `wait` must not compete.
        strategy = getattr(self, "_rules_strategy", None)
        if strategy is None:
            return True
        return not any(
            strategy.is_valid(r) for r in strategy.rules if r.function.__name__ != "wait"
        )

    @precondition(lambda self: self.nothing_else_can_run())
    @rule()
    def wait(self) -> None:
        """Nothing: lets a run go on when every valid rule has had its turn."""
        self.steps_run += 1

    @classmethod
    def bind(cls, context: MachineContext) -> type[Machine]:
        """This machine class, talking to ``context``'s target."""
        if context.events is not None:
            context.events.rules_declared(cls.__name__, cls.rule_names())
        return type(cls.__name__, (cls,), {"context": context})

    @classmethod
    def rule_names(cls) -> list[str]:
        """Every rule and initialize rule of the machine (invariants are not rules)."""
        markers = (_RULE_MARKER, _INITIALIZE_MARKER)
        return sorted(
            name
            for name, member in inspect.getmembers(cls)
            if name != "wait" and any(getattr(member, m, None) is not None for m in markers)
        )

    @classmethod
    def machine_name(cls) -> str:
        return cls.__name__

    def __init__(self) -> None:
        super().__init__()
        self.rule_runs: Counter[str] = Counter()
        self.steps_run = 0
        self.rule_count = max(1, len(self.rule_names()))
        self.prefix = self.context.prefix()
        self.log = StepLog(self.prefix)
        self._serial = itertools.count(1)
        base = self.context.verifier
        self.verifier = MachineVerifier(
            results=base.results,
            test_id=base.test_id,
            strict=base.strict,
            region=base.region,
            account_id=base.account_id,
            log=self.log,
        )
        client = RecordingClient(self.context.client, self.log)
        self.scenario = Scenario(
            client,  # type: ignore[arg-type]
            self.verifier,
            strict=self.context.strict,
            deletion_window=self.context.deletion_window,
        )
        self.page_size = 1

    # -- names -----------------------------------------------------------------

    def unique(self, kind: str) -> str:
        """A token or id no other call of this run uses (starts with the prefix)."""
        return f"{self.prefix}-{kind}{next(self._serial)}"

    def run_tag(self) -> dict[str, str]:
        return {"Key": RUN_TAG_KEY, "Value": self.context.run_id}

    # -- expectations ----------------------------------------------------------

    def expect(self, exchange: Exchange, held: bool, **what: Any) -> None:
        self.scenario.expect(exchange, held, **what)

    def refused(
        self, operation: str, members: Mapping[str, Any], *, check: checks.DeclaredCheck, fact: str
    ) -> Exchange:
        """Send a valid request the contract refuses (a conflict, a limit, a
        rule of the API): any 4xx, never a success or a server error."""
        exchange = self.scenario.attempt(operation, members)
        self.verifier.verify(
            exchange, checks.Expectation.valid_input(), names=("not_a_server_error",)
        )
        self.expect(
            exchange,
            400 <= exchange.status < 500,
            check=check,
            fact=fact,
            received=f"{exchange.status} {exchange.response.body[:200]!r}",
            documented="a 4xx",
        )
        return exchange

    def conflict(
        self, operation: str, members: Mapping[str, Any], *, check: checks.DeclaredCheck, fact: str
    ) -> None:
        """A request that must be a 409 ConflictException (lenient: any 4xx)."""
        exchange = self.refused(operation, members, check=check, fact=fact)
        if self.context.strict:
            self.expect(
                exchange,
                exchange.status == 409,
                check=check,
                fact=fact,
                received=exchange.status,
                documented="409 ConflictException",
            )

    def judged(self, exchange: Exchange, judgement: overlap.Judgement) -> None:
        """Record what overlapping requests added up to (docs/contract.md concurrency)."""
        self.expect(
            exchange,
            judgement.held,
            check=checks.CONCURRENT_OUTCOMES,
            fact=f"{judgement.fact} (docs/contract.md concurrency)",
            received=judgement.received,
            documented=judgement.documented,
        )

    def poll_until_missing(self, operation: str, members: Mapping[str, Any]) -> Exchange:
        """Read until the resource is reported missing or the deletion window
        ends; the last answer (judged by the caller)."""
        deadline = time.monotonic() + self.context.deletion_window
        while True:
            exchange = self.scenario.client.call(operation, members)
            if exchange.status in self._missing_statuses() or time.monotonic() >= deadline:
                return exchange
            time.sleep(scenario.POLL_SECONDS)

    def missing(
        self, operation: str, members: Mapping[str, Any], *, check: checks.DeclaredCheck, what: str
    ) -> None:
        """A request about a resource seen gone before: reported missing at
        once (nothing to wait for: it must stay gone)."""
        exchange = self.scenario.attempt(operation, members)
        self._reported_missing(exchange, check=check, what=f"{what} stays unreadable")

    def gone_within_bound(
        self, operation: str, members: Mapping[str, Any], *, check: checks.DeclaredCheck, what: str
    ) -> None:
        """Poll (bounded: the real service deletes asynchronously) until the
        resource is reported missing."""
        deadline = time.monotonic() + self.context.deletion_window
        while True:
            exchange = self.scenario.client.call(operation, members)
            if exchange.status in self._missing_statuses() or time.monotonic() >= deadline:
                break
            time.sleep(scenario.POLL_SECONDS)
        self._reported_missing(
            exchange,
            check=check,
            what=f"{what} is unreadable within {self.context.deletion_window:g} s",
        )

    def _missing_statuses(self) -> tuple[int, ...]:
        return tuple(sorted(checks.missing_resource_statuses(self.context.strict)))

    def _reported_missing(
        self, exchange: Exchange, *, check: checks.DeclaredCheck, what: str
    ) -> None:
        # the sequence-level check first: it names the break the machine found
        allowed = self._missing_statuses()
        self.expect(
            exchange,
            exchange.status in allowed,
            check=check,
            fact=f"{what} (docs/contract.md cascade / missing resource)",
            received=f"{exchange.status} {exchange.response.body[:200]!r}",
            documented=" or ".join(map(str, allowed)),
        )
        self.verifier.verify(exchange, checks.Expectation.valid_input(resource="absent"))

    def matches(
        self, exchange: Exchange, actual: Mapping[str, Any], wanted: Mapping[str, Any], *, what: str
    ) -> None:
        """Every modelled field reads back as the model says."""
        self.scenario.expect_fields(
            exchange, actual, wanted, check=checks.READ_AFTER_WRITE, what=what
        )

    def timestamps_move_forward(
        self, exchange: Exchange, actual: Mapping[str, Any], seen: dict[str, Any], *, what: str
    ) -> None:
        """CreatedTimestamp never changes, LastUpdatedTimestamp never goes back
        and never precedes it; ``seen`` holds the values read last time."""
        created, updated = actual.get("CreatedTimestamp"), actual.get("LastUpdatedTimestamp")
        held = seen.get("created", created) == created
        if updated is not None and isinstance(created, int | float):
            held = held and created <= updated and seen.get("updated", updated) <= updated
        self.expect(
            exchange,
            held,
            check=checks.TIMESTAMPS_MONOTONIC,
            fact=f"{what}: CreatedTimestamp is fixed, LastUpdatedTimestamp never moves back",
            received=f"created {created}, last updated {updated}",
            documented=f"created {seen.get('created', created)}, last updated >= {seen.get('updated')}",
        )
        seen.update(created=created, **({"updated": updated} if updated is not None else {}))

    # -- list walks --------------------------------------------------------------

    def walk(
        self,
        operation: str,
        members: Mapping[str, Any],
        items_key: str,
        key_of: Callable[[Mapping[str, Any]], Any],
        *,
        expected: Mapping[Any, Any],
        gone: frozenset[Any] = frozenset(),
        owned: bool = True,
    ) -> dict[Any, Mapping[str, Any]]:
        """Walk a List through every NextToken and check it shows exactly the
        ``expected`` keys once each (and none of ``gone``). ``owned``: the list
        holds only this machine's resources, so nothing else may show either.
        Returns the listed items by key."""
        page_size = self._page_size_for(operation, owned)
        listed: dict[Any, Mapping[str, Any]] = {}
        repeated: list[Any] = []
        total, last = 0, None
        for exchange, items in self.scenario.pages(operation, members, items_key, page_size):
            last = (exchange, items)
            for item in items:
                key = key_of(item) if isinstance(item, Mapping) else None
                total += 1
                if key in listed:
                    repeated.append(key)
                if owned or key in expected or key in gone:
                    listed[key] = item
        if not owned:
            self.context.global_sizes[operation] = total
        assert last is not None
        self._check_listing(operation, last, listed, repeated, expected, page_size, owned)
        return listed

    def _page_size_for(self, operation: str, owned: bool) -> int:
        if owned:
            return self.page_size
        known = self.context.global_sizes.get(operation, 0)
        return min(50, max(self.page_size, math.ceil(known / GLOBAL_WALK_PAGES)))

    def _check_listing(
        self,
        operation: str,
        last: tuple[Exchange, list[Any]],
        listed: Mapping[Any, Any],
        repeated: list[Any],
        expected: Mapping[Any, Any],
        page_size: int,
        owned: bool,
    ) -> None:
        exchange, last_items = last
        self.expect(
            exchange,
            not [key for key in repeated if key in listed],
            check=checks.PAGINATION,
            fact=f"{operation}: following NextToken visits every item exactly once",
            received=f"listed more than once: {sorted(map(str, set(repeated)))}",
            documented="each item once",
        )
        self.expect(
            exchange,
            set(listed) == set(expected),
            check=checks.LIST_MATCHES_MODEL,
            fact=f"{operation} (MaxResults={page_size}, walked through every NextToken) "
            "lists what was created and not deleted",
            received=f"missing {sorted(map(str, set(expected) - set(listed)))}, "
            f"unexpected {sorted(map(str, set(listed) - set(expected)))}",
            documented=f"exactly the {len(expected)} item(s) of the model",
        )
        # An empty last page after a full one means the full one carried a
        # NextToken with nothing left; only decidable on lists only we write.
        empty_tail = bool((exchange.members or {}).get("NextToken")) and not last_items
        self.expect(
            exchange,
            not (owned and empty_tail),
            check=checks.PAGINATION,
            fact=f"{operation}: the last page carries no NextToken (docs/contract.md pagination)",
            received="a NextToken that led to an empty page",
            documented="no NextToken once every item was listed",
        )

    def teardown(self) -> None:
        """Delete what this run left alive (unchecked: the run is over; the
        ledger would delete it at the end of the session anyway)."""
        for operation, members in self.leftovers():
            # a delete whose lost answer's retry found nothing to delete is done
            with contextlib.suppress(OutcomeUnknown):
                self.context.client.call(operation, members)

    def leftovers(self) -> list[tuple[str, dict[str, Any]]]:
        return []


def body_of(exchange: Exchange, *path: str) -> Any:
    """The answer's member at ``path``, or None."""
    return field_of(exchange.json if isinstance(exchange.json, dict) else {}, *path)
