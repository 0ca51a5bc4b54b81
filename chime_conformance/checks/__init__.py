"""Named response oracles: what a correct endpoint's answer must look like.

Each check is a small function ``(ctx, exchange, expectation) -> bool``
registered with :func:`check` under its own name in :data:`CHECKS`, as
schemathesis' checks are. It returns True when it applied and the exchange
keeps the contract, False when it does not apply to this exchange (e.g. a
schema check on an error answer), and raises :class:`CheckFailure` when the
contract is broken, with a message that names the spec fact and says
"Received: … Documented: …".

Lenient by default: where docs/contract.md marks a behaviour *unverified* against the
real service, the listed alternatives pass unless ``ctx.strict`` is set.
Nothing here knows about pytest.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from chime_conformance.contract import spec
from chime_conformance.wire.exchange import PRESIGNED_SIGNINGS, Exchange, Signing

__all__ = [
    "CHECKS",
    "REGISTRY",
    "RULE_IDS",
    "Check",
    "CheckContext",
    "CheckFailure",
    "CheckResult",
    "DeclaredCheck",
    "Expectation",
    "UnknownCheck",
    "check",
    "declare",
    "declared",
    "error_type",
    "run_checks",
]

Resource = Literal["present", "absent"]

# Plausible time: nothing in these APIs predates 2015 (the identity API is
# from 2021); an epoch-seconds value above this is really milliseconds.
EARLIEST_PLAUSIBLE = datetime.datetime(2015, 1, 1, tzinfo=datetime.UTC).timestamp()
MILLISECONDS_THRESHOLD = 1e11  # year 5138 in seconds, 1973 in milliseconds
DEFAULT_CLOCK_SKEW = 300.0  # seconds; SigV4 itself tolerates 5 minutes

# botocore's ChimeArn, used if the spec document does not (yet) define one.
FALLBACK_CHIME_ARN = (
    r"^arn:[a-z0-9-\.]{1,63}:[a-z0-9-\.]{0,63}:[a-z0-9-\.]{0,63}:[a-z0-9-\.]{0,63}:[^/].{0,1023}$"
)
# Response members holding Chime ARNs, and the resource kinds each may name.
ARN_KINDS: Mapping[str, frozenset[str]] = {
    "AppInstanceArn": frozenset({"app-instance"}),
    "AppInstanceUserArn": frozenset({"user"}),
    "AppInstanceBotArn": frozenset({"bot"}),
    "AppInstanceAdminArn": frozenset({"user", "bot"}),
    "Arn": frozenset({"user", "bot"}),  # Identity: a user or a bot
}
# Not here: an endpoint's ResourceArn names the Amazon Pinpoint application it
# delivers through (arn:aws:mobiletargeting:…), and a bot's LexBotAliasArn a
# Lex alias; neither is a Chime resource.
_ARN = re.compile(
    r"^arn:(?P<partition>[^:]+):(?P<service>[^:]*):(?P<region>[^:]*):(?P<account>[^:]*):"
    r"(?P<resource>.+)$",
    re.DOTALL,
)
_RESOURCE = re.compile(
    r"^app-instance/(?P<instance>[^/]+)(?:/(?P<child>user|bot)/(?P<child_id>[^/]+))?$",
    re.DOTALL,
)

# The gateway's authentication errors, exactly (docs/contract.md `auth`, --strict).
STRICT_AUTH_ERRORS: Mapping[Signing, str] = {
    Signing.UNSIGNED: "MissingAuthenticationTokenException",
    Signing.TAMPERED: "InvalidSignatureException",
    Signing.UNKNOWN_KEY: "UnrecognizedClientException",
    Signing.OTHER_REGION: "InvalidSignatureException",
    Signing.OTHER_SERVICE: "InvalidSignatureException",
    Signing.STALE_DATE: "InvalidSignatureException",
}
AUTHENTICATION_ERRORS = frozenset(
    {
        *STRICT_AUTH_ERRORS.values(),
        "IncompleteSignatureException",
        "SignatureDoesNotMatchException",
        "ExpiredTokenException",
    }
)
# Lenient alternatives for a missing resource (docs/contract.md: *unverified*).
MISSING_RESOURCE_ALTERNATIVES: Mapping[int, str] = {
    404: "NotFoundException",
    403: "ForbiddenException",
    400: "BadRequestException",
}


def missing_resource_answers(strict: bool) -> Mapping[int, str]:
    """The answers that report a missing resource, by status: 404
    NotFoundException, and unless ``strict`` the unverified alternatives too.
    The one place the suite's layers (oracles, scenarios, state machines,
    schemathesis) read this fact from."""
    return {404: "NotFoundException"} if strict else MISSING_RESOURCE_ALTERNATIVES


def missing_resource_statuses(strict: bool) -> frozenset[int]:
    """The statuses of :func:`missing_resource_answers`."""
    return frozenset(missing_resource_answers(strict))


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
        return ", ".join(f"{v.member} {v.rule}" for v in self.violations) or "none"


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


# --------------------------------------------------------------------------
# The registry: every check the suite can report, declared once
#
# A name in a record, a column of the page or a fault's expectation comes from
# here: the per-exchange oracles below (``@check``), the checks that compare
# several answers (scenarios, state machines), schemathesis' checks and the
# differential comparison. Code refers to a check by its declaration (an
# object), never by a string literal, so a typo fails at import.

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


def _docstring_rule(function: Callable[..., Any]) -> str | None:
    lines = [line.strip() for line in (function.__doc__ or "").strip().splitlines()]
    if lines and lines[-1].startswith("Rule:"):
        return lines[-1].removeprefix("Rule:").strip()
    return None


def _docstring_summary(function: Callable[..., Any]) -> str:
    text = (function.__doc__ or "").strip().split("\n\n", 1)[0]
    lines = [line.strip() for line in text.splitlines() if not line.strip().startswith("Rule:")]
    return " ".join(lines)


def check(function: Check | None = None, *, rule: str | None = None) -> Any:
    """Register an oracle under its name (``@check`` or ``@check(rule=…)``);
    its failures carry that name. The rule id comes from ``rule=``, else the
    docstring's last line ``Rule: <rule-id>``; the description is the
    docstring's first paragraph."""
    if function is None:
        return functools.partial(check, rule=rule)
    name = function.__name__
    if name in CHECKS:
        raise ValueError(f"a check named {name!r} is already registered")
    rule = rule or _docstring_rule(function)
    if rule is None:
        raise ValueError(f"check {name!r} names no contract rule (rule= or 'Rule: <id>')")
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


# --------------------------------------------------------------------------
# Reading an answer


def error_type(exchange: Exchange) -> str | None:
    """The exception named by ``x-amzn-ErrorType`` (AWS may append ``:<url>``)."""
    value = exchange.response.header("x-amzn-ErrorType")
    return value.split(":", 1)[0].strip() if value else None


def _received(exchange: Exchange) -> str:
    """The answer in a few words: status, exception, and the server's message."""
    parts = [str(exchange.status)]
    name = error_type(exchange)
    if name:
        parts.append(name)
    message = _message_of(exchange.json)
    if message:
        parts.append(f"({_short(message)})")
    if exchange.retries:
        parts.append(f"after {len(exchange.retries)} retries")
    return " ".join(parts)


def _message_of(body: Any) -> str | None:
    if not isinstance(body, Mapping):
        return None
    message = body.get("Message", body.get("message"))
    return message if isinstance(message, str) else None


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_success(exchange: Exchange) -> bool:
    return 200 <= exchange.status < 300


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, str, Any, Mapping[str, Any]]]:
    """Every ``(path, key, value, containing object)`` in a JSON document."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}/{key}"
            yield where, str(key), item, value
            yield from _walk(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}/{index}")


def _fail(ctx: CheckContext, fact: str, received: str, documented: str) -> CheckFailure:
    return CheckFailure(
        operation=ctx.operation.name, spec_fact=fact, received=received, documented=documented
    )


# --------------------------------------------------------------------------
# Status codes and shapes


@check(rule="success-codes")
def status_code_matches_spec(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """A 2xx is the operation's one success status; any other status is documented."""
    op, status = ctx.operation, exchange.status
    if _is_success(exchange):
        if status != op.success_status:
            raise _fail(
                ctx,
                f"success status (spec responses: {op.success_status})",
                _received(exchange),
                str(op.success_status),
            )
        return True
    allowed = _allowed_error_statuses(ctx, exchange, exp)
    if status not in allowed:
        documented = sorted(s for s in op.documented_statuses if s >= 300)
        raise _fail(
            ctx,
            f"error statuses (spec responses: {', '.join(map(str, documented))})",
            _received(exchange),
            ", ".join(map(str, sorted(allowed))),
        )
    return True


def _allowed_error_statuses(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> set[int]:
    allowed = {s for s in ctx.operation.documented_statuses if s >= 300}
    if exchange.signing is not Signing.SIGNED:
        allowed |= {401, 403}  # the gateway's, for every operation
    if exp.resource == "absent" and exp.input_is_valid:
        allowed |= missing_resource_statuses(ctx.strict)
    return allowed


@check(rule="response-schema")
def response_matches_schema(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """The success answer's body validates against the operation's response schema."""
    schema = ctx.operation.response_schema
    # another 2xx is status_code_matches_spec's to report, against another schema
    if exchange.status != ctx.operation.success_status or schema is None:
        return False
    fact = f"success response body (spec components/schemas/{ctx.operation.name}Response)"
    body = exchange.json
    if body is None:
        raw = _short(exchange.response.body.decode("utf-8", "replace")) or "an empty body"
        raise _fail(ctx, fact, f"a body that is not JSON: {raw}", "a JSON object")
    errors = _schema_errors(schema, body)
    if errors:
        raise _fail(
            ctx,
            fact,
            "; ".join(f"{_json_pointer(e)}: {_short(e.message)}" for e in errors[:3]),
            "; ".join(f"{_json_pointer(e)}: {_schema_rule(e)}" for e in errors[:3]),
        )
    return True


def _schema_errors(schema: Mapping[str, Any], body: Any) -> list[Any]:
    """jsonschema's errors of ``body`` against ``schema``, by path.

    A body already found valid against the same schema is not walked again:
    the state machines' list walks read the same pages over and over, and a
    page of 50 items costs about a millisecond to walk. Its canonical JSON
    tells bodies apart exactly as validation does (key order aside, which
    validation ignores; ``1``, ``1.0`` and ``true`` stay apart), so the verdict
    is the same; an invalid body is walked every time, for its errors."""
    validator = _validator_of(schema)
    canonical = json.dumps([id(validator), body], sort_keys=True).encode()
    key = hashlib.sha256(canonical).digest()
    if key in _VALID_BODIES:
        return []
    errors = sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        if len(_VALID_BODIES) >= _VALID_BODIES_KEPT:
            _VALID_BODIES.clear()
        _VALID_BODIES.add(key)
    return errors


_VALID_BODIES: set[bytes] = set()
_VALID_BODIES_KEPT = 100_000  # digests of 32 bytes: a few MB at most
# one validator per response schema, kept with its schema (so neither id is reused)
_VALIDATORS: dict[int, tuple[Mapping[str, Any], Any]] = {}


def _validator_of(schema: Mapping[str, Any]) -> Any:
    kept = _VALIDATORS.get(id(schema))
    if kept is None or kept[0] is not schema:
        kept = (schema, spec.validator(schema))
        _VALIDATORS[id(schema)] = kept
    return kept[1]


def _json_pointer(error: Any) -> str:
    return "/" + "/".join(str(part) for part in error.absolute_path)


def _schema_rule(error: Any) -> str:
    return f"{error.validator} {_short(repr(error.validator_value), 100)}"


@check(rule="content-type")
def content_type_is_json(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """A non-empty body is JSON and says so in Content-Type."""
    if not exchange.response.body.strip():
        return False
    allowed = ("application/json",) if ctx.strict else spec.JSON_CONTENT_TYPES
    content_type = exchange.response.header("Content-Type") or ""
    media_type = content_type.split(";")[0].strip().lower()
    fact = "response media type (spec content: application/json)"
    if media_type not in allowed:
        raise _fail(ctx, fact, f"Content-Type: {content_type or '(none)'}", " or ".join(allowed))
    if exchange.json is None:
        body = _short(exchange.response.body.decode("utf-8", "replace"))
        raise _fail(ctx, fact, f"a body that does not parse as JSON: {body}", "a JSON document")
    return True


@check(rule="error-shape")
def error_shape_is_aws(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """An error names its exception in ``x-amzn-ErrorType``, consistent with the
    status, and carries ``{"Code": "…", "Message": "…"}`` (Code's value: error_code_enum)."""
    if exchange.status < 400:
        return False
    fact = f"error shape (spec components/responses/Error{exchange.status}; docs/contract.md error-shape)"
    name = _checked_error_name(ctx, exchange, fact)
    body = exchange.json
    if not isinstance(body, Mapping):
        received = _short(exchange.response.body.decode("utf-8", "replace")) or "an empty body"
        raise _fail(ctx, fact, f"body {received}", '{"Code": "…", "Message": "…"}')
    _check_error_message(ctx, body, fact)
    _check_error_code(ctx, body, name, fact)
    return True


def _checked_error_name(ctx: CheckContext, exchange: Exchange, fact: str) -> str:
    name = error_type(exchange)
    if not name:
        raise _fail(
            ctx,
            fact,
            f"{exchange.status} without x-amzn-ErrorType",
            "x-amzn-ErrorType: <Name>Exception",
        )
    known_status = spec.ERROR_STATUS.get(name)
    if known_status is None and (ctx.strict or not name.endswith("Exception")):
        documented = ", ".join(sorted(spec.ERROR_STATUS))
        raise _fail(ctx, fact, f"x-amzn-ErrorType: {name}", f"one of {documented}")
    if known_status is not None and known_status != exchange.status:
        raise _fail(
            ctx,
            fact,
            f"{exchange.status} with x-amzn-ErrorType: {name}",
            f"{name} is {known_status}",
        )
    return name


def _check_error_message(ctx: CheckContext, body: Mapping[str, Any], fact: str) -> None:
    keys = ("Message",) if ctx.strict else ("Message", "message")
    if not any(isinstance(body.get(key), str) for key in keys):
        raise _fail(ctx, fact, f"body members {sorted(body)}", "Message: a string")


def _check_error_code(ctx: CheckContext, body: Mapping[str, Any], name: str, fact: str) -> None:
    """Code is there (strict) and a string; its value is error_code_enum's."""
    code = body.get("Code")
    if code is None and not ctx.strict:
        return  # botocore names the error from the header alone
    if not isinstance(code, str):
        raise _fail(
            ctx, fact, f"Code {code!r} with x-amzn-ErrorType: {name}", "Code: an ErrorCode string"
        )


# --------------------------------------------------------------------------
# Values in successful answers


@check(rule="arns")
def arns_match_pattern(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """Every returned Chime ARN matches ChimeArn, names this account and region,
    and the kind of resource its member is about."""
    if not _is_success(exchange):
        return False
    arns = [(path, key, value) for path, key, value, _ in _walk(exchange.json) if key in ARN_KINDS]
    for path, key, value in arns:
        _check_arn(ctx, path, key, value)
    return bool(arns)


def _chime_arn_pattern(api: str) -> str:
    schemas = spec.load_document(api).get("components", {}).get("schemas", {})
    pattern: str = schemas.get("ChimeArn", {}).get("pattern", FALLBACK_CHIME_ARN)
    return pattern


def _check_arn(ctx: CheckContext, path: str, key: str, value: Any) -> None:
    fact = f"{path} is a ChimeArn (spec components/schemas/ChimeArn; docs/contract.md arns)"
    pattern = _chime_arn_pattern(ctx.operation.api)
    if not isinstance(value, str) or not spec.pattern_matches(pattern, value):
        raise _fail(ctx, fact, repr(value), f"a string matching {pattern}")
    parts = _ARN.match(value)
    if parts is None:
        raise _fail(ctx, fact, repr(value), "arn:partition:service:region:account:resource")
    expected = {"service": "chime", "region": ctx.region, "account": ctx.account_id}
    for part, wanted in expected.items():
        if wanted is not None and parts[part] != wanted:
            raise _fail(ctx, fact, f"{value} ({part} {parts[part]!r})", f"{part} {wanted!r}")
    _check_arn_resource(ctx, fact, key, value, parts["resource"])


def _check_arn_resource(ctx: CheckContext, fact: str, key: str, arn: str, resource: str) -> None:
    kinds = ARN_KINDS[key]
    shape = " or ".join(sorted(_RESOURCE_SHAPES[k] for k in kinds))
    match = _RESOURCE.match(resource)
    kind = (match["child"] or "app-instance") if match else None
    if match is None or kind not in kinds:
        raise _fail(ctx, fact, arn, f"a {key} ending in {shape}")
    if ctx.strict and not _ids_are_uuids(match):
        raise _fail(ctx, fact, arn, "app-instance and bot ids are UUIDs")
    parent = ctx.members.get("AppInstanceArn")
    if kind != "app-instance" and isinstance(parent, str) and not arn.startswith(parent + "/"):
        raise _fail(ctx, fact, arn, f"a {kind} of the requested AppInstance {parent}")
    user_id = ctx.members.get("AppInstanceUserId")
    if key == "AppInstanceUserArn" and isinstance(user_id, str) and match["child_id"] != user_id:
        raise _fail(ctx, fact, arn, f"the ARN of the requested AppInstanceUserId {user_id!r}")


_RESOURCE_SHAPES = {
    "app-instance": "app-instance/{id}",
    "user": "app-instance/{id}/user/{AppInstanceUserId}",
    "bot": "app-instance/{id}/bot/{id}",
}


def _ids_are_uuids(match: re.Match[str]) -> bool:
    ids = [match["instance"]] + ([match["child_id"]] if match["child"] == "bot" else [])
    try:
        for value in ids:
            uuid.UUID(value)
    except ValueError:
        return False
    return True


@check(rule="timestamps")
def timestamps_are_plausible(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """Timestamps have the wire type of their API (identity: epoch seconds as
    numbers; accounts: ISO-8601 strings), lie between 2015 and now (plus the
    allowed skew), and an object is never updated before it was created."""
    if not _is_success(exchange):
        return False
    found = False
    for path, key, value, parent in _walk(exchange.json):
        if key.endswith("Timestamp"):
            found = True
            _check_timestamp(ctx, path, value)
            if key == "LastUpdatedTimestamp" and "CreatedTimestamp" in parent:
                _check_order(ctx, path, parent["CreatedTimestamp"], value)
    return found


def _timestamp_fact(ctx: CheckContext, path: str) -> tuple[str, str]:
    if ctx.operation.api == spec.ACCOUNTS:
        return f"{path} (spec x-aws-timestamp: iso8601)", "an ISO-8601 date-time string"
    return f"{path} (spec x-aws-timestamp: epoch-seconds)", "epoch seconds as a JSON number"


def _epoch_seconds(ctx: CheckContext, value: Any) -> float | None:
    """The value as epoch seconds, or None if it is not of the API's wire type."""
    if ctx.operation.api == spec.ACCOUNTS:
        if not isinstance(value, str):
            return None
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            return None
        if moment.tzinfo is None:
            if ctx.strict:
                return None
            moment = moment.replace(tzinfo=datetime.UTC)  # botocore reads it as UTC
        return moment.timestamp()
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _check_timestamp(ctx: CheckContext, path: str, value: Any) -> None:
    fact, wire_type = _timestamp_fact(ctx, path)
    seconds = _epoch_seconds(ctx, value)
    if seconds is None:
        raise _fail(ctx, fact, repr(value), wire_type)
    latest = ctx.clock() + ctx.clock_skew
    if seconds > MILLISECONDS_THRESHOLD:
        raise _fail(ctx, fact, f"{value!r} (epoch milliseconds?)", wire_type)
    if not EARLIEST_PLAUSIBLE <= seconds <= latest:
        raise _fail(
            ctx,
            fact,
            f"{value!r} ({_iso(seconds)})",
            f"a time between {_iso(EARLIEST_PLAUSIBLE)} and now + {ctx.clock_skew:g} s "
            f"({_iso(latest)})",
        )


def _iso(seconds: float) -> str:
    try:
        return datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return "out of range"


def _check_order(ctx: CheckContext, path: str, created: Any, updated: Any) -> None:
    created_at, updated_at = _epoch_seconds(ctx, created), _epoch_seconds(ctx, updated)
    if created_at is None or updated_at is None:
        return  # reported by _check_timestamp
    if updated_at < created_at:
        raise _fail(
            ctx,
            f"{path} (docs/contract.md timestamps: CreatedTimestamp ≤ LastUpdatedTimestamp)",
            f"LastUpdatedTimestamp {updated!r} before CreatedTimestamp {created!r}",
            "CreatedTimestamp ≤ LastUpdatedTimestamp",
        )


# --------------------------------------------------------------------------
# What the request was meant to provoke


@check(rule="validation")
def invalid_input_rejected(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """Input that breaks a constraint is refused with 400 BadRequestException,
    never accepted and never a server error."""
    if exp.input_is_valid:
        return False
    name = error_type(exchange)
    fact = (
        f"invalid input ({exp.describe_violations()}) is refused "
        "(docs/contract.md validation: 400 BadRequestException)"
    )
    if exchange.status == 400 and (name == "BadRequestException" or not ctx.strict):
        return True
    if not ctx.strict and exchange.status in (403, 404) and _violates_path(ctx, exp):
        return True  # an unroutable path may be refused before validation
    raise _fail(ctx, fact, _received(exchange), "400 BadRequestException")


def _violates_path(ctx: CheckContext, exp: Expectation) -> bool:
    for violation in exp.violations:
        try:
            location, _ = ctx.operation.location_of(violation.member.split(".")[0])
        except KeyError:
            continue  # "(body)" and the like
        if location == "path":
            return True
    return False


@check(rule="validation")
def valid_input_accepted(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """Input that keeps every constraint is not refused as invalid (nor, when
    the resource exists, as missing)."""
    if not exp.input_is_valid or exp.resource == "absent":
        return False
    name = error_type(exchange)
    rejected_as_invalid = exchange.status == 422 or (
        exchange.status == 400 and name != "ResourceLimitExceededException"
    )
    missing = exp.resource == "present" and exchange.status == 404
    if rejected_as_invalid or missing:
        raise _fail(
            ctx,
            f"valid input is accepted (spec: the members satisfy every constraint of "
            f"{ctx.operation.name}'s input)",
            _received(exchange),
            f"{ctx.operation.success_status}",
        )
    return True


@check(rule="no-server-error")
def not_a_server_error(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """No input makes the server fail."""
    if exchange.status >= 500:
        raise _fail(
            ctx,
            "no server error for any input (docs/contract.md validation: never 5xx)",
            _received(exchange),
            f"{ctx.operation.success_status} or a 4xx",
        )
    return True


@check(rule="auth")
def auth_enforced(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """A request that is unsigned or signed wrongly is refused with 401/403 and
    the error shape (strict: 403 and the exact exception of docs/contract.md)."""
    if exchange.signing not in STRICT_AUTH_ERRORS:  # signed, or a signing with its own rule
        return False
    name = error_type(exchange)
    strict_name = STRICT_AUTH_ERRORS[exchange.signing]
    fact = f"a request with {exchange.signing.value} is refused (docs/contract.md auth)"
    if ctx.strict:
        refused = exchange.status == 403 and name == strict_name
        documented = f"403 {strict_name}"
    else:
        refused = (
            exchange.status in (401, 403) and bool(name) and _message_of(exchange.json) is not None
        )
        documented = "401 or 403 with x-amzn-ErrorType and a Message"
    if not refused:
        raise _fail(ctx, fact, _received(exchange), documented)
    return True


@check(rule="sigv4-canonical-uri")
def signed_request_authenticated(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """A request signed as botocore signs it is not refused as unauthenticated."""
    if exchange.signing is not Signing.SIGNED:
        return False
    name = error_type(exchange)
    if name in AUTHENTICATION_ERRORS:
        raise _fail(
            ctx,
            "a correctly signed request is authenticated (docs/contract.md sigv4-canonical-uri)",
            _received(exchange),
            "no authentication error for botocore's SigV4 signature",
        )
    return True


@check(rule="missing-resource")
def missing_resource_reported(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """A request about a resource that does not exist gets 404 NotFoundException
    (lenient: also 403 Forbidden or 400 BadRequest)."""
    if exp.resource != "absent" or not exp.input_is_valid:
        return False
    name = error_type(exchange)
    allowed = missing_resource_answers(ctx.strict)
    expected_name = allowed.get(exchange.status)
    # lenient: an answer without x-amzn-ErrorType is error_shape_is_aws's to report
    wrong_name = name != expected_name and (ctx.strict or name is not None)
    if expected_name is None or wrong_name:
        raise _fail(
            ctx,
            "a missing resource is reported (docs/contract.md missing-resource)",
            _received(exchange),
            " or ".join(f"{status} {exception}" for status, exception in allowed.items()),
        )
    return True


# --------------------------------------------------------------------------
# Error codes (docs/contract.md, error-code-enum)

# The Code each modeled exception carries (botocore's ErrorCode enum); the
# ones with a *unverified* alternative list it second, accepted unless strict.
CONTRACT_ERROR_CODES: Mapping[str, tuple[str, ...]] = {
    "BadRequestException": ("BadRequest",),
    "ConflictException": ("Conflict",),
    "ForbiddenException": ("Forbidden",),
    "AccessDeniedException": ("AccessDenied",),
    "NotFoundException": ("NotFound",),
    "ResourceLimitExceededException": ("ResourceLimitExceeded",),
    "UnauthorizedClientException": ("Unauthorized",),
    "UnprocessableEntityException": ("Unprocessable",),
    "ThrottledClientException": ("Throttled", "Throttling"),
    "ServiceFailureException": ("ServiceFailure",),
    "ServiceUnavailableException": ("ServiceUnavailable",),
}


def error_code_values(api: str) -> tuple[str, ...]:
    """botocore's ErrorCode enum, as the spec's ``ErrorCode`` schema states it."""
    schemas = spec.load_document(api).get("components", {}).get("schemas", {})
    return tuple(schemas.get("ErrorCode", {}).get("enum", ()))


@check
def error_code_enum(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """A modeled error's Code is a value of the ErrorCode enum (strict: the value
    the contract gives its exception, e.g. 401 Unauthorized, 429 Throttled).
    The signing layer's errors are not modeled and keep their own shape.

    Rule: error-code-enum"""
    name = error_type(exchange)
    body = exchange.json
    if exchange.status < 400 or name in AUTHENTICATION_ERRORS or not isinstance(body, Mapping):
        return False
    code = body.get("Code")
    if code is None:  # a missing Code is error_shape_is_aws's to report
        return False
    fact = "error Code (spec components/schemas/ErrorCode; docs/contract.md error-code-enum)"
    enum = error_code_values(ctx.operation.api)
    if code not in enum:
        raise _fail(
            ctx, fact, f"Code {code!r} with x-amzn-ErrorType: {name}", f"one of {', '.join(enum)}"
        )
    expected = CONTRACT_ERROR_CODES.get(name or "")
    if ctx.strict and expected is not None and code != expected[0]:
        raise _fail(
            ctx,
            fact,
            f"Code {code!r} with x-amzn-ErrorType: {name}",
            f"Code {expected[0]!r} for {name}",
        )
    return True


# --------------------------------------------------------------------------
# Session tokens and presigned requests (docs/contract.md, session-token, presigned)


def _refused(exchange: Exchange) -> bool:
    """401/403 with the error shape: how any signing layer refuses a request."""
    return (
        exchange.status in (401, 403)
        and bool(error_type(exchange))
        and _message_of(exchange.json) is not None
    )


@check
def session_token_verified(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """A request signed with a session token the target never issued is refused
    (strict: 403 UnrecognizedClientException, as AWS answers "The security token
    included in the request is invalid").

    Rule: session-token"""
    if exchange.signing is not Signing.BOGUS_SESSION_TOKEN:
        return False
    fact = "a bogus X-Amz-Security-Token is refused (docs/contract.md session-token)"
    if ctx.strict:
        refused = exchange.status == 403 and error_type(exchange) == "UnrecognizedClientException"
        documented = "403 UnrecognizedClientException"
    else:
        refused = _refused(exchange)
        documented = "401 or 403 with x-amzn-ErrorType and a Message"
    if not refused:
        raise _fail(ctx, fact, _received(exchange), documented)
    return True


@check
def presigned_request_verified(ctx: CheckContext, exchange: Exchange, exp: Expectation) -> bool:
    """SigV4 in the query string is a signature: a presigned request is served
    until X-Amz-Expires runs out, and refused (401/403) after.

    Rule: presigned"""
    if exchange.signing not in PRESIGNED_SIGNINGS:
        return False
    if exchange.signing is Signing.PRESIGNED:
        name = error_type(exchange)
        if exchange.status in (401, 403) or name in AUTHENTICATION_ERRORS:
            raise _fail(
                ctx,
                "a presigned request is authenticated until it expires "
                "(docs/contract.md presigned)",
                _received(exchange),
                "no authentication error for botocore's SigV4QueryAuth signature",
            )
        return True
    if not _refused(exchange) or (ctx.strict and exchange.status != 403):
        raise _fail(
            ctx,
            "an expired presigned request is refused (docs/contract.md presigned)",
            _received(exchange),
            "403 with x-amzn-ErrorType and a Message" if ctx.strict else "401 or 403",
        )
    return True


# --------------------------------------------------------------------------
# Checks that compare several answers (conformance/scenario.py, the state
# machines): declared here, recorded through chime_conformance.run.recorder.

READ_AFTER_WRITE = declare(
    "read_after_write",
    rule="read-after-write",
    description="What a write stored reads back as written, field by field.",
)
SETTINGS_READ_BACK = declare(
    "settings_read_back",
    rule="settings",
    description="Retention and expiration settings read back as they were put.",
)
TAGS_READ_BACK = declare(
    "tags_read_back",
    rule="tags",
    description="ListTagsForResource shows exactly the tags added and not removed.",
)
TAG_LIMIT = declare(
    "tag_limit",
    rule="tags",
    description="A resource never holds more than 50 tags; one more is refused with a 4xx.",
)
DELETE_IS_FINAL = declare(
    "delete_is_final",
    rule="delete-is-final",
    description="A deleted resource stays unreadable, and updating or deleting it again fails.",
)
CASCADE = declare(
    "cascade",
    rule="cascade",
    description="Deleting an AppInstance (or user) deletes its users, bots, admins and endpoints.",
)
IDEMPOTENCY = declare(
    "idempotency",
    rule="idempotency",
    description="A ClientRequestToken repeated with the same input returns the same resource.",
)
DUPLICATE_REJECTED = declare(
    "duplicate_rejected",
    rule="duplicates",
    description="Creating a resource whose id is taken is refused (409 ConflictException).",
)
ADMINS = declare(
    "admins",
    rule="admins",
    description="Only a user or bot of the same AppInstance can be its admin, once.",
)
PAGINATION = declare(
    "pagination",
    rule="pagination",
    description="Pages hold at most MaxResults items; NextToken visits every item once, then ends.",
)
LIST_MATCHES_MODEL = declare(
    "list_matches_model",
    rule="list-consistency",
    description="A List walked through every NextToken shows what was created and not deleted.",
)
USER_EXPIRATION = declare(
    "user_expiration",
    rule="user-expiration",
    description="A user past CreatedTimestamp + ExpirationDays is deleted within 6 hours; others stay.",
)
TIMESTAMPS_MONOTONIC = declare(
    "timestamps_monotonic",
    rule="timestamps",
    description="CreatedTimestamp never changes; LastUpdatedTimestamp never moves back.",
)

# --------------------------------------------------------------------------
# schemathesis' checks, by the names schemathesis gives them (its
# not_a_server_error is the oracle of the same name and rule, declared above).
# conformance/_schemathesis_harness.py looks each of its checks up here.

STATUS_CODE_CONFORMANCE = declare(
    "status_code_conformance",
    rule="success-codes",
    description="schemathesis: the status is one the operation documents.",
    kind=SCHEMATHESIS,
)
CONTENT_TYPE_CONFORMANCE = declare(
    "content_type_conformance",
    rule="content-type",
    description="schemathesis: the Content-Type is one the operation documents.",
    kind=SCHEMATHESIS,
)
RESPONSE_HEADERS_CONFORMANCE = declare(
    "response_headers_conformance",
    rule="error-shape",
    description="schemathesis: documented response headers (x-amzn-ErrorType) are present.",
    kind=SCHEMATHESIS,
)
RESPONSE_SCHEMA_CONFORMANCE = declare(
    "response_schema_conformance",
    rule="response-schema",
    description="schemathesis: the body validates against the documented response schema.",
    kind=SCHEMATHESIS,
)
NEGATIVE_DATA_REJECTION = declare(
    "negative_data_rejection",
    rule="validation",
    description="schemathesis: input that breaks the schema is refused with 400.",
    kind=SCHEMATHESIS,
)
POSITIVE_DATA_ACCEPTANCE = declare(
    "positive_data_acceptance",
    rule="validation",
    description="schemathesis: input that keeps the schema is accepted (or 404/409 for the state).",
    kind=SCHEMATHESIS,
)
USE_AFTER_FREE = declare(
    "use_after_free",
    rule="delete-is-final",
    description="schemathesis (linked calls): a deleted resource is not found afterwards.",
    kind=SCHEMATHESIS,
)
ENSURE_RESOURCE_AVAILABILITY = declare(
    "ensure_resource_availability",
    rule="read-after-write",
    description="schemathesis (linked calls): a created resource is there for the next call.",
    kind=SCHEMATHESIS,
)

# --------------------------------------------------------------------------
# The differential comparison (--reference-url), chime_conformance.run.differential

AGREES_WITH_REFERENCE = declare(
    "agrees_with_reference",
    rule="reference-agreement",
    description="The target answers as the reference: same status, error type and shape.",
    kind=DIFFERENTIAL,
)
