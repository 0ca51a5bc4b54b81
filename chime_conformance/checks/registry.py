"""The machinery of the checks: what a check receives and raises, and the one
registry every check name comes from.

A check is a small function ``(ctx, exchange, expectation) -> bool``
registered with :func:`check` under its own name in :data:`CHECKS`, as
schemathesis' checks are. It returns True when it applied and the exchange
keeps the contract, False when it does not apply to this exchange (e.g. a
schema check on an error answer), and raises :class:`CheckFailure` when the
contract is broken, with a message that names the spec fact and says
"Received: … Documented: …".

A name in a record, a column of the page or a fault's expectation comes from
:data:`REGISTRY`: the per-exchange oracles (``@check``), the checks that
compare several answers (scenarios, state machines), schemathesis' checks and
the differential comparison (:func:`declare`). Code refers to a check by its
declaration (an object), never by a string literal, so a typo fails at import.

The check bodies live beside this module, one module per rule family of
docs/contract.md; nothing here knows about pytest.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from chime_conformance.contract import spec
from chime_conformance.wire.exchange import Exchange

# "another-account": it exists, in an AWS account other than the caller's
Resource = Literal["present", "absent", "another-account"]

DEFAULT_CLOCK_SKEW = 300.0  # seconds; SigV4 itself tolerates 5 minutes


# --------------------------------------------------------------------------
# Inputs and outputs of a check


@dataclass(frozen=True)
class CheckContext:
    """What a check knows besides the exchange: the operation as the spec
    documents it, the run's settings, and the members that were sent."""

    operation: spec.Operation
    strict: bool = False
    account_id: str | None = None  # None: not known, ARNs' accounts are not compared
    region: str = "us-east-1"
    members: Mapping[str, Any] = field(default_factory=dict)
    clock_skew: float = DEFAULT_CLOCK_SKEW
    clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class Expectation:
    """What the request was meant to provoke: the constraints its input breaks
    (none: valid input) and whether the resource it names exists."""

    violations: tuple[spec.Violation, ...] = ()
    resource: Resource | None = None  # None: not known or not applicable

    @property
    def input_is_valid(self) -> bool:
        return not self.violations

    @classmethod
    def valid_input(cls, *, resource: Resource | None = None) -> Expectation:
        return cls((), resource)

    @classmethod
    def invalid_input(cls, *violations: spec.Violation) -> Expectation:
        if not violations:
            raise ValueError("invalid_input() needs at least one violated constraint")
        return cls(tuple(violations), None)

    @classmethod
    def from_members(
        cls, op: spec.Operation, members: Mapping[str, Any], *, resource: Resource | None = None
    ) -> Expectation:
        """The expectation the spec implies for ``members``."""
        violations = tuple(spec.violations_of(op, members))
        return cls(violations, None if violations else resource)

    def describe_violations(self) -> str:
        return ", ".join(f"{v.member} {v.keyword}" for v in self.violations) or "none"


class CheckFailure(AssertionError):
    """A broken contract: which check, which spec fact, what was received."""

    def __init__(self, *, operation: str, spec_fact: str, received: str, documented: str) -> None:
        self.check = ""  # set by the registry wrapper
        self.operation = operation
        self.spec_fact = spec_fact
        self.received = received
        self.documented = documented
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return (
            f"{self.operation}: {self.spec_fact}\n"
            f"Received: {self.received}\n"
            f"Documented: {self.documented}"
        )

    def __str__(self) -> str:
        prefix = f"[{self.check}] " if self.check else ""
        return prefix + self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # keyword-only __init__: pickle (multiprocessing, caches) needs help
        fields = {
            "operation": self.operation,
            "spec_fact": self.spec_fact,
            "received": self.received,
            "documented": self.documented,
        }
        return _rebuild_failure, (self.check, fields)


def _rebuild_failure(check_name: str, fields: dict[str, str]) -> CheckFailure:
    failure = CheckFailure(**fields)
    failure.check = check_name
    return failure


def fail(ctx: CheckContext, fact: str, received: str, documented: str) -> CheckFailure:
    """The failure of ``ctx``'s operation to keep ``fact``."""
    return CheckFailure(
        operation=ctx.operation.name, spec_fact=fact, received=received, documented=documented
    )


# --------------------------------------------------------------------------
# The registry: every check the suite can report, declared once

# The contract's rule ids (docs/contract.md); a sub-id ("pagination.max-results")
# names a rule under one of them.
RULE_IDS = frozenset(
    {
        "success-codes",
        "error-shape",
        "error-code-enum",
        "validation",
        "missing-resource",
        "duplicates",
        "idempotency",
        "timestamps",
        "arns",
        "pagination",
        "auth",
        "session-token",
        "presigned",
        "sigv4-canonical-uri",
        "cascade",
        "admins",
        "tags",
        "settings",
        "user-expiration",
        "response-schema",
        "read-after-write",
        "delete-is-final",
        "list-consistency",
        "content-type",
        "no-server-error",
        "reference-agreement",
        "tenant-isolation",
        "request-id",
        "isolation",
        "answer-is-current",
        "concurrency",
    }
)
ORACLE, SCENARIO, SCHEMATHESIS, DIFFERENTIAL = "oracle", "scenario", "schemathesis", "differential"
KINDS = (ORACLE, SCENARIO, SCHEMATHESIS, DIFFERENTIAL)


class UnknownCheck(KeyError):
    """A check name nobody declared: a typo, or a check added without a declaration."""

    def __str__(self) -> str:
        return f"no check named {self.args[0]!r} is declared in chime_conformance.checks"


@dataclass(frozen=True)
class DeclaredCheck:
    """A check the suite can report: its name, the contract rule it checks
    (an id of docs/contract.md), what it asserts in one line, and who runs it
    (``oracle``: per exchange, below; ``scenario``: a comparison of several
    answers; ``schemathesis``; ``differential``)."""

    name: str
    rule: str
    description: str
    kind: str

    def __str__(self) -> str:
        return self.name

    def to_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "rule": self.rule,
            "description": self.description,
            "kind": self.kind,
        }


REGISTRY: dict[str, DeclaredCheck] = {}


def declare(name: str, *, rule: str, description: str, kind: str = SCENARIO) -> DeclaredCheck:
    """Declare a check once; a second declaration of ``name``, an unknown rule
    id or kind, or a description that is not one line is refused at import."""
    if name in REGISTRY:
        raise ValueError(f"a check named {name!r} is already declared")
    if rule.split(".", 1)[0] not in RULE_IDS:
        raise ValueError(f"check {name!r}: {rule!r} is not a contract rule id ({sorted(RULE_IDS)})")
    if kind not in KINDS:
        raise ValueError(f"check {name!r}: kind must be one of {KINDS}, got {kind!r}")
    if not description.strip() or "\n" in description.strip():
        raise ValueError(f"check {name!r}: the description must be one non-empty line")
    declared_check = DeclaredCheck(name, rule, description.strip(), kind)
    REGISTRY[name] = declared_check
    return declared_check


def declared(name: str | DeclaredCheck) -> DeclaredCheck:
    """The declaration of ``name``; :class:`UnknownCheck` if there is none."""
    if isinstance(name, DeclaredCheck):
        return name
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownCheck(name) from None


Check = Callable[[CheckContext, Exchange, Expectation], bool]
CHECKS: dict[str, Check] = {}


def _docstring_summary(function: Callable[..., Any]) -> str:
    text = (function.__doc__ or "").strip().split("\n\n", 1)[0]
    return " ".join(line.strip() for line in text.splitlines())


def check(function: Check | None = None, /, *, rule: str | None = None) -> Callable[[Check], Check]:
    """Register an oracle under its name for the contract rule ``rule`` (an id
    of docs/contract.md): ``@check(rule="arns")``. Its description is the
    docstring's first paragraph; its failures carry its name. A bare
    ``@check``, with no rule, is refused at import."""
    if function is not None or rule is None:
        culprit = getattr(function, "__name__", "an oracle")
        raise TypeError(
            f'{culprit}: an oracle names its contract rule, as @check(rule="<rule id>")'
        )
    return functools.partial(_register, rule=rule)


def _register(function: Check, *, rule: str) -> Check:
    name = function.__name__
    if name in CHECKS:
        raise ValueError(f"a check named {name!r} is already registered")
    declare(name, rule=rule, description=_docstring_summary(function), kind=ORACLE)

    @functools.wraps(function)
    def named(ctx: CheckContext, exchange: Exchange, expectation: Expectation) -> bool:
        try:
            return function(ctx, exchange, expectation)
        except CheckFailure as failure:
            failure.check = name
            raise

    CHECKS[name] = named
    return named


@dataclass(frozen=True)
class CheckResult:
    """One check applied to one exchange: did it apply, and did it fail."""

    check: str
    applied: bool
    failure: CheckFailure | None = None

    @property
    def passed(self) -> bool:
        return self.failure is None


def run_checks(
    ctx: CheckContext,
    exchange: Exchange,
    expectation: Expectation,
    names: tuple[str, ...] | None = None,
) -> list[CheckResult]:
    """Apply every registered check (or the named ones) and collect the outcomes."""
    results = []
    for name in names if names is not None else tuple(CHECKS):
        try:
            applied = CHECKS[name](ctx, exchange, expectation)
        except CheckFailure as failure:
            results.append(CheckResult(name, True, failure))
        else:
            results.append(CheckResult(name, applied))
    return results
