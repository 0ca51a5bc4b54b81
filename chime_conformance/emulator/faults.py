"""Deliberate contract breaks: the proof that a suite catches what it claims to.

A :class:`Fault` breaks exactly one documented fact of the contract (DESIGN.md's
table, or the spec) by wrapping one seam of one emulator, never by editing the
rule it breaks: an operation's handler (``EmulatorApp.identity_handlers`` /
``accounts_handlers``), one backend rule (``EmulatorBackend.wrap_rule``), or the
front door (``EmulatorApp.validate`` / ``dispatch`` / ``answer``, the SigV4
verifier, the page tokens). Each fault names the checks expected to catch it
and the slice of the conformance suite that exercises it, so
``tests/test_mutation.py`` can run that slice against the faulty emulator and
demand a failure from one of those checks.

Faults are off unless asked for twice: ``EmulatorConfig(faults=(...),
allow_faults=True)`` in-process, ``chime-emulator --fault NAME --allow-faults``
(or :data:`ALLOW_FAULTS_ENV`) on the command line. A faulty emulator logs a
banner and stamps every answer with :data:`FAULTS_HEADER`.
"""

from __future__ import annotations

import copy
import functools
import http
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from chime_conformance import spec
from chime_conformance.emulator.exceptions import (
    BadRequestException,
    ChimeError,
    ConflictException,
    NotFoundException,
    ResourceLimitExceededException,
    UnprocessableEntityException,
)
from chime_conformance.emulator.models import (
    AccountsBackend,
    AppInstanceAdmin,
    IdentityBackend,
    epoch_seconds,
)
from chime_conformance.emulator.pagination import Page

if TYPE_CHECKING:
    from chime_conformance.emulator.app import Answer, EmulatorApp, Exchange

__all__ = [
    "ALLOW_FAULTS_ENV",
    "CATEGORIES",
    "FAULTS",
    "FAULTS_HEADER",
    "Fault",
    "FaultError",
    "FaultsNotAllowed",
    "UnknownFault",
    "fault_table",
    "install_faults",
]

logger = logging.getLogger("chime_conformance.emulator")

FAULTS_HEADER = "x-chime-emulator-faults"
# The command line's second key, for harnesses that cannot add a flag.
ALLOW_FAULTS_ENV = "CHIME_EMULATOR_ALLOW_CONTRACT_BREAKING_FAULTS"

CATEGORIES = (
    "validation",
    "status codes",
    "error shape",
    "response shape",
    "ARN format",
    "read-after-write",
    "delete and cascade",
    "pagination",
    "idempotency",
    "tags",
    "settings",
    "admins",
    "endpoints",
    "auth",
    "accounts",
    "robustness",
)

# The conformance suite's files, as pytest arguments from the checkout's root.
REQUESTS = "conformance/test_requests.py"
LIFECYCLE = "conformance/test_lifecycle.py"
MISSING = "conformance/test_missing_resources.py"
EDGES = "conformance/test_contract_edges.py"


class FaultError(ValueError):
    """A fault was asked for wrongly: unknown, or without consent."""


class UnknownFault(FaultError):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"unknown fault {name!r}; the known faults are: {', '.join(sorted(FAULTS))}"
        )


class FaultsNotAllowed(FaultError):
    def __init__(self, names: Sequence[str]) -> None:
        super().__init__(
            f"refusing to break the contract on purpose (faults {', '.join(names)}) without "
            "consent: pass --allow-faults (or set "
            f"{ALLOW_FAULTS_ENV}=1), or EmulatorConfig(allow_faults=True) in-process"
        )


@dataclass(frozen=True)
class Fault:
    """One deliberate break of one contract fact."""

    name: str
    category: str
    breaks: str  # the documented fact it breaks, in one sentence
    caught_by: tuple[str, ...]  # check names, any of which must report it
    tests: tuple[str, ...]  # pytest arguments: the suite's files or node ids
    keyword: str | None  # a -k expression narrowing ``tests``, or None
    install: Callable[[EmulatorApp], None]

    def pytest_args(self) -> list[str]:
        """The arguments that select the slice of the suite exercising this fault."""
        return [*self.tests, *(["-k", self.keyword] if self.keyword else [])]


FAULTS: dict[str, Fault] = {}


def fault(
    name: str,
    *,
    category: str,
    breaks: str,
    caught_by: Iterable[str],
    tests: Iterable[str],
    keyword: str | None = None,
) -> Callable[[Callable[[EmulatorApp], None]], Callable[[EmulatorApp], None]]:
    """Register the decorated installer as fault ``name``."""
    if category not in CATEGORIES:
        raise ValueError(f"fault {name!r}: unknown category {category!r}")

    def register(install: Callable[[EmulatorApp], None]) -> Callable[[EmulatorApp], None]:
        if name in FAULTS:
            raise ValueError(f"a fault named {name!r} is already registered")
        FAULTS[name] = Fault(
            name, category, breaks, tuple(caught_by), tuple(tests), keyword, install
        )
        return install

    return register


def install_faults(app: EmulatorApp, names: Sequence[str], *, allowed: bool) -> tuple[str, ...]:
    """Install the named faults on ``app``; the names, in order.

    Unknown names are an :class:`UnknownFault` even with consent; any fault
    without consent is :class:`FaultsNotAllowed`."""
    if not names:
        return ()
    for name in names:
        if name not in FAULTS:
            raise UnknownFault(name)
    if len(set(names)) != len(names):
        raise FaultError(f"a fault is named twice in {', '.join(names)}")
    if not allowed:
        raise FaultsNotAllowed(names)
    for name in names:
        FAULTS[name].install(app)
    logger.warning(
        "\n%s\nchime-emulator: FAULTS INJECTED (%s). This emulator breaks the contract on "
        "purpose; every answer carries %s.\n%s",
        "!" * 78,
        ", ".join(names),
        FAULTS_HEADER,
        "!" * 78,
    )
    return tuple(names)


def fault_table() -> str:
    """Every fault, one line each: name, category, the fact it breaks."""
    width = max(len(name) for name in FAULTS)
    return "\n".join(
        f"{f.name:<{width}}  [{f.category}] {f.breaks}"
        for f in sorted(FAULTS.values(), key=lambda f: (CATEGORIES.index(f.category), f.name))
    )


# --------------------------------------------------------------------------
# Seams: how a fault wraps one rule of one emulator

Handler = Callable[[Any, dict[str, Any]], Any]
Violations = list[spec.Violation]


def _wrap_handler(app: EmulatorApp, operation: str, wrapper: Callable[[Handler], Handler]) -> None:
    api = spec.operation(operation).api
    table: dict[str, Any] = app.accounts_handlers if api == spec.ACCOUNTS else app.identity_handlers
    table[operation] = wrapper(table[operation])


def _wrap_rule(
    app: EmulatorApp, kind: type, rule: str, wrapper: Callable[[Any, Callable[..., Any]], Any]
) -> None:
    app.backend.wrap_rule(kind, rule, wrapper)


def _wrap_answers(app: EmulatorApp, transform: Callable[[Exchange, Answer], Answer]) -> None:
    """Rewrite the API's answers (not the emulator's own /_emulator/ endpoints)."""
    from chime_conformance.emulator.app import ADMIN_PREFIX

    original = app.answer

    def answer(exchange: Exchange) -> Answer:
        result = original(exchange)
        if exchange.raw_path.startswith(ADMIN_PREFIX):
            return result
        return transform(exchange, result)

    app.answer = answer  # type: ignore[method-assign]


def _wrap_validation(
    app: EmulatorApp, transform: Callable[[spec.Operation, dict[str, Any], Violations], Violations]
) -> None:
    original = app.validate

    def validate(operation: spec.Operation, *request: Any) -> tuple[dict[str, Any], Violations]:
        members, violations = original(operation, *request)
        return members, transform(operation, members, violations)

    app.validate = validate  # type: ignore[method-assign,assignment]


def _wrap_dispatch(
    app: EmulatorApp, wrapper: Callable[[Callable[[spec.Operation, dict[str, Any]], Any]], Any]
) -> None:
    app.dispatch = wrapper(app.dispatch)  # type: ignore[method-assign]


def _json_answer(answer: Answer, document: Any, **headers: str) -> Answer:
    kept = tuple((k, v) for k, v in answer.headers if k.lower() not in {h.lower() for h in headers})
    return replace(
        answer, body=json.dumps(document).encode(), headers=kept + tuple(headers.items())
    )


def _body(answer: Answer) -> Any:
    try:
        return json.loads(answer.body) if answer.body else None
    except ValueError:
        return None


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# --------------------------------------------------------------------------
# Validation: a kind of constraint accepted when broken, or refused on its bound


def _accept_when_only(app: EmulatorApp, rule: str) -> None:
    """Requests whose only broken constraints are of kind ``rule`` are served;
    if the handler cannot cope with the value, the request is still answered
    with success (the validator let it through: the client sees it accepted)."""
    waived = threading.local()

    def transform(op: spec.Operation, members: dict[str, Any], found: Violations) -> Violations:
        waived.active = bool(found) and all(v.rule == rule for v in found)
        return [] if waived.active else found

    def dispatcher(original: Callable[[spec.Operation, dict[str, Any]], Any]) -> Any:
        def dispatch(op: spec.Operation, members: dict[str, Any]) -> Any:
            try:
                return original(op, members)
            except ChimeError:
                raise
            except Exception:
                if getattr(waived, "active", False):
                    return None
                raise

        return dispatch

    _wrap_validation(app, transform)
    _wrap_dispatch(app, dispatcher)


def _tightened(schema: Any, keyword: str, step: int) -> Any:
    """``schema`` with every ``keyword`` bound moved by ``step``."""
    if isinstance(schema, Mapping):
        moved = {k: _tightened(v, keyword, step) for k, v in schema.items()}
        if isinstance(moved.get(keyword), int) and not isinstance(moved[keyword], bool):
            moved[keyword] += step
        return moved
    if isinstance(schema, list):
        return [_tightened(item, keyword, step) for item in schema]
    return schema


def _refuse_on_bound(app: EmulatorApp, keyword: str, step: int) -> None:
    """Valid requests with a value exactly on a ``keyword`` bound are refused
    (an exclusive comparison where the spec's bound is inclusive)."""

    @functools.cache
    def validator(operation: str) -> Any:
        schema = copy.deepcopy(spec.operation(operation).input_schema)
        return spec.validator(_tightened(schema, keyword, step))

    def transform(op: spec.Operation, members: dict[str, Any], found: Violations) -> Violations:
        if found:
            return found
        errors = [e for e in validator(op.name).iter_errors(members) if e.validator == keyword]
        return [
            spec.Violation(
                ".".join(map(str, e.absolute_path)) or "(request)",
                keyword,
                f"Value at '{'.'.join(map(str, e.absolute_path))}' failed to satisfy "
                f"constraint: {keyword} {e.validator_value}",
            )
            for e in errors
        ]

    _wrap_validation(app, transform)


_VALIDATION_SLICES = {
    # rule: (the one-fault strategy's name, a probe id fragment), narrowed to
    # operations whose handler takes the value in stride
    "maxLength": ("CreateAppInstance-too_long", "CreateAppInstance:Metadata:maxLength:outside"),
    "minLength": ("CreateAppInstance-too_short", "CreateAppInstance:Name:minLength:outside"),
    "pattern": (
        "CreateAppInstance-pattern",
        "CreateAppInstance:ClientRequestToken:pattern:outside",
    ),
    "enum": (
        "UpdateAppInstanceUserEndpoint-enum",
        "UpdateAppInstanceUserEndpoint:AllowMessages:enum:outside",
    ),
    "maximum": ("ListAppInstances-above_maximum", "ListAppInstances:MaxResults:maximum:outside"),
    "minimum": ("ListAppInstances-below_minimum", "ListAppInstances:MaxResults:minimum:outside"),
    "maxItems": ("UntagResource-too_many_items", "UntagResource:TagKeys:maxItems:outside"),
    "required": ("CreateAppInstance-missing_required", "CreateAppInstance:Name:required:outside"),
    "type": ("UpdateAppInstance-wrong_type", "ListAppInstances-wrong_type"),
}


def _register_unenforced(rule: str, name: str, sentence: str) -> None:
    strategy, probe = _VALIDATION_SLICES[rule]
    fault(
        name,
        category="validation",
        breaks=f"A value that breaks its {rule} constraint is refused with 400 BadRequestException "
        f"(DESIGN.md validation); here {sentence} is accepted.",
        caught_by=("invalid_input_rejected",),
        tests=(REQUESTS,),
        keyword=f"{strategy} or {probe}",
    )(lambda app: _accept_when_only(app, rule))


_register_unenforced("maxLength", "max_length_unenforced", "a string one character too long")
_register_unenforced("minLength", "min_length_unenforced", "a string one character too short")
_register_unenforced("pattern", "pattern_unenforced", "a string outside its pattern")
_register_unenforced("enum", "enum_unenforced", "a value outside its enum")
_register_unenforced("maximum", "maximum_unenforced", "a number above its maximum")
_register_unenforced("minimum", "minimum_unenforced", "a number below its minimum")
_register_unenforced("maxItems", "max_items_unenforced", "a list one item too long")
_register_unenforced("required", "required_unenforced", "a request missing a required member")
_register_unenforced("type", "type_unenforced", "a value of the wrong JSON type")


@fault(
    "max_length_exclusive",
    category="validation",
    breaks="A string exactly maxLength long is valid (the spec's bounds are inclusive); "
    "here it is refused with 400.",
    caught_by=("valid_input_accepted",),
    tests=(REQUESTS,),
    keyword="CreateAppInstance:Name:maxLength:inside or CreateAppInstance:Metadata:maxLength:inside",
)
def _max_length_exclusive(app: EmulatorApp) -> None:
    _refuse_on_bound(app, "maxLength", -1)


@fault(
    "min_length_exclusive",
    category="validation",
    breaks="A string exactly minLength long is valid (the spec's bounds are inclusive); "
    "here it is refused with 400.",
    caught_by=("valid_input_accepted",),
    tests=(REQUESTS,),
    keyword="CreateAppInstance:ClientRequestToken:minLength:inside",
)
def _min_length_exclusive(app: EmulatorApp) -> None:
    _refuse_on_bound(app, "minLength", +1)


@fault(
    "maximum_exclusive",
    category="validation",
    breaks="MaxResults equal to its maximum (50; accounts 200) is valid (DESIGN.md pagination); "
    "here it is refused with 400.",
    caught_by=("valid_input_accepted",),
    tests=(REQUESTS,),
    keyword="ListAppInstances:MaxResults:maximum:inside or ListAccounts:MaxResults:maximum:inside",
)
def _maximum_exclusive(app: EmulatorApp) -> None:
    _refuse_on_bound(app, "maximum", -1)


@fault(
    "non_ascii_refused",
    category="validation",
    breaks="A Name of any Unicode letters matches its pattern (the spec's patterns are "
    "Unicode-aware); here a non-ASCII character makes it a 400.",
    caught_by=("valid_input_accepted",),
    tests=(LIFECYCLE,),
    keyword="test_an_app_instance_reads_back_as_created_and_as_updated",
)
def _non_ascii_refused(app: EmulatorApp) -> None:
    def transform(op: spec.Operation, members: dict[str, Any], found: Violations) -> Violations:
        name = members.get("Name")
        if found or not isinstance(name, str) or name.isascii():
            return found
        return [spec.Violation("Name", "pattern", "Value at 'Name' must be ASCII")]

    _wrap_validation(app, transform)


# --------------------------------------------------------------------------
# Status codes


@fault(
    "create_answers_200",
    category="status codes",
    breaks="Create* (and CreateAppInstanceAdmin, RegisterAppInstanceUserEndpoint, CreateAccount) "
    "succeed with 201 (DESIGN.md success codes); here with 200.",
    caught_by=("status_code_matches_spec",),
    tests=(REQUESTS,),
    keyword="test_a_valid_request_is_accepted and (CreateAppInstance] or CreateAccount])",
)
def _create_answers_200(app: EmulatorApp) -> None:
    _wrap_answers(app, lambda exchange, a: replace(a, status=200) if a.status == 201 else a)


@fault(
    "delete_answers_200",
    category="status codes",
    breaks="Delete*, Deregister*, TagResource and UntagResource succeed with 204 and no body "
    "(DESIGN.md success codes); here with 200 and {}.",
    caught_by=("status_code_matches_spec",),
    tests=(REQUESTS,),
    keyword="test_a_valid_request_is_accepted and (DeleteAppInstanceUser or TagResource)",
)
def _delete_answers_200(app: EmulatorApp) -> None:
    from chime_conformance.emulator.app import Answer

    _wrap_answers(app, lambda exchange, a: Answer.json(200, {}) if a.status == 204 else a)


@fault(
    "duplicate_user_answers_400",
    category="status codes",
    breaks="CreateAppInstanceUser with a taken AppInstanceUserId is a 409 ConflictException "
    "(DESIGN.md duplicates); here a 400 BadRequestException.",
    caught_by=("duplicate_rejected",),
    tests=(LIFECYCLE,),
    keyword="test_a_taken_user_id_conflicts",
)
def _duplicate_user_answers_400(app: EmulatorApp) -> None:
    def wrapper(backend: IdentityBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        def create(*args: Any) -> Any:
            try:
                return original(*args)
            except ConflictException as error:
                raise BadRequestException(error.message) from None

        return create

    _wrap_rule(app, IdentityBackend, "create_app_instance_user", wrapper)


@fault(
    "missing_resource_answers_200",
    category="status codes",
    breaks="A request about a missing or deleted resource is a 404 NotFoundException "
    "(DESIGN.md missing resource); here it succeeds with an empty answer.",
    caught_by=("missing_resource_reported",),
    tests=(MISSING,),
    keyword="DescribeAppInstance- or GetAccount-",
)
def _missing_resource_answers_200(app: EmulatorApp) -> None:
    def wrapper(original: Callable[[spec.Operation, dict[str, Any]], Any]) -> Any:
        def dispatch(op: spec.Operation, members: dict[str, Any]) -> Any:
            try:
                return original(op, members)
            except NotFoundException:
                return None

        return dispatch

    _wrap_dispatch(app, wrapper)


# --------------------------------------------------------------------------
# Error shape

ERROR_SLICE = {"tests": (MISSING,), "keyword": "DescribeAppInstance- or DescribeAppInstanceUser-"}


def _error_answers(app: EmulatorApp, transform: Callable[[Answer], Answer]) -> None:
    _wrap_answers(app, lambda exchange, a: transform(a) if a.status >= 400 else a)


@fault(
    "error_type_header_missing",
    category="error shape",
    breaks="An error answer names its exception in x-amzn-ErrorType (DESIGN.md error shape: "
    "botocore maps errors by it); here the header is missing.",
    caught_by=("error_shape_is_aws",),
    **ERROR_SLICE,  # type: ignore[arg-type]
)
def _error_type_header_missing(app: EmulatorApp) -> None:
    _error_answers(
        app,
        lambda a: replace(
            a, headers=tuple((k, v) for k, v in a.headers if k.lower() != "x-amzn-errortype")
        ),
    )


@fault(
    "error_code_is_http_phrase",
    category="error shape",
    breaks='An error body\'s Code is the exception name without "Exception" (DESIGN.md error '
    'shape); here it is the HTTP reason phrase ("Not Found").',
    caught_by=("error_shape_is_aws",),
    **ERROR_SLICE,  # type: ignore[arg-type]
)
def _error_code_is_http_phrase(app: EmulatorApp) -> None:
    def transform(a: Answer) -> Answer:
        body = _body(a) or {}
        return _json_answer(a, {**body, "Code": http.HTTPStatus(a.status).phrase})

    _error_answers(app, transform)


@fault(
    "error_message_missing",
    category="error shape",
    breaks='An error body is {"Code": …, "Message": …} (DESIGN.md error shape); here it has '
    "no Message.",
    caught_by=("error_shape_is_aws",),
    **ERROR_SLICE,  # type: ignore[arg-type]
)
def _error_message_missing(app: EmulatorApp) -> None:
    def transform(a: Answer) -> Answer:
        body = _body(a) or {}
        return _json_answer(a, {k: v for k, v in body.items() if k.lower() != "message"})

    _error_answers(app, transform)


@fault(
    "errors_all_named_bad_request",
    category="error shape",
    breaks="x-amzn-ErrorType names the exception of the status (404 NotFoundException, 409 "
    "ConflictException …; DESIGN.md error shape); here every error says BadRequestException.",
    caught_by=("error_shape_is_aws", "missing_resource_reported"),
    **ERROR_SLICE,  # type: ignore[arg-type]
)
def _errors_all_named_bad_request(app: EmulatorApp) -> None:
    def transform(a: Answer) -> Answer:
        body = _body(a) or {}
        named = _json_answer(a, {**body, "Code": "BadRequest"})
        return replace(
            named,
            headers=tuple(
                (k, "BadRequestException" if k.lower() == "x-amzn-errortype" else v)
                for k, v in named.headers
            ),
        )

    _error_answers(app, transform)


@fault(
    "error_body_not_json",
    category="error shape",
    breaks="An error answer is JSON and says so in Content-Type (DESIGN.md error shape); here "
    "it is an HTML page.",
    caught_by=("error_shape_is_aws", "content_type_is_json"),
    **ERROR_SLICE,  # type: ignore[arg-type]
)
def _error_body_not_json(app: EmulatorApp) -> None:
    def transform(a: Answer) -> Answer:
        phrase = http.HTTPStatus(a.status).phrase
        headers = tuple((k, v) for k, v in a.headers if k.lower() != "content-type")
        page = f"<html><body><h1>{a.status} {phrase}</h1></body></html>".encode()
        return replace(a, body=page, headers=(*headers, ("Content-Type", "text/html")))

    _error_answers(app, transform)


# --------------------------------------------------------------------------
# Response shape and types

DESCRIBES = {
    "DescribeAppInstance": "AppInstance",
    "DescribeAppInstanceUser": "AppInstanceUser",
    "DescribeAppInstanceBot": "AppInstanceBot",
}
DESCRIBE_SLICE = (
    "test_a_valid_request_is_accepted and (DescribeAppInstance] or DescribeAppInstanceUser])"
)


def _wrap_describes(app: EmulatorApp, transform: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``transform`` to the described object of each Describe answer."""
    for operation, member in DESCRIBES.items():

        def wrapper(original: Handler, member: str = member) -> Handler:
            def handle(backend: Any, members: dict[str, Any]) -> Any:
                body = copy.deepcopy(original(backend, members))
                if isinstance(body, dict) and isinstance(body.get(member), dict):
                    transform(body[member])
                return body

            return handle

        _wrap_handler(app, operation, wrapper)


@fault(
    "null_for_absent_members",
    category="response shape",
    breaks="An absent optional member is left out of the answer (the response schema types "
    "Metadata as a string); here it is sent as null.",
    caught_by=("response_matches_schema",),
    tests=(REQUESTS,),
    keyword=DESCRIBE_SLICE,
)
def _null_for_absent_members(app: EmulatorApp) -> None:
    _wrap_describes(app, lambda described: described.setdefault("Metadata", None))


@fault(
    "timestamps_in_milliseconds",
    category="response shape",
    breaks="Identity timestamps are epoch seconds (DESIGN.md timestamps); here milliseconds.",
    caught_by=("timestamps_are_plausible",),
    tests=(REQUESTS,),
    keyword=DESCRIBE_SLICE,
)
def _timestamps_in_milliseconds(app: EmulatorApp) -> None:
    def transform(described: dict[str, Any]) -> None:
        for key, value in described.items():
            if key.endswith("Timestamp") and isinstance(value, int | float):
                described[key] = round(value * 1000)

    _wrap_describes(app, transform)


@fault(
    "success_content_type_text_plain",
    category="response shape",
    breaks="A JSON answer says Content-Type: application/json (spec content); here text/plain.",
    caught_by=("content_type_is_json",),
    tests=(REQUESTS,),
    keyword="test_a_valid_request_is_accepted and (DescribeAppInstance] or ListAppInstances])",
)
def _success_content_type_text_plain(app: EmulatorApp) -> None:
    def transform(exchange: Exchange, a: Answer) -> Answer:
        if a.status >= 300 or not a.body:
            return a
        headers = tuple((k, v) for k, v in a.headers if k.lower() != "content-type")
        return replace(a, headers=(*headers, ("Content-Type", "text/plain")))

    _wrap_answers(app, transform)


ACCOUNT_ANSWERS = ("CreateAccount", "GetAccount", "UpdateAccount", "ListAccounts")


def _wrap_accounts(app: EmulatorApp, transform: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``transform`` to every Account of the accounts API's answers."""
    for operation in ACCOUNT_ANSWERS:

        def wrapper(original: Handler) -> Handler:
            def handle(backend: Any, members: dict[str, Any]) -> Any:
                body = copy.deepcopy(original(backend, members))
                for account in [body.get("Account"), *(body.get("Accounts") or [])]:
                    if isinstance(account, dict):
                        transform(account)
                return body

            return handle

        _wrap_handler(app, operation, wrapper)


@fault(
    "account_timestamps_as_epoch_numbers",
    category="response shape",
    breaks="Accounts timestamps are ISO-8601 strings (DESIGN.md timestamps); here epoch numbers.",
    caught_by=("timestamps_are_plausible", "response_matches_schema"),
    tests=(REQUESTS,),
    keyword="test_a_valid_request_is_accepted and (GetAccount or CreateAccount)",
)
def _account_timestamps_as_epoch_numbers(app: EmulatorApp) -> None:
    from datetime import datetime

    def transform(account: dict[str, Any]) -> None:
        stamp = account.get("CreatedTimestamp")
        if isinstance(stamp, str):
            moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            account["CreatedTimestamp"] = epoch_seconds(moment.timestamp())

    _wrap_accounts(app, transform)


# --------------------------------------------------------------------------
# ARN format


@fault(
    "arns_in_another_region",
    category="ARN format",
    breaks="Every returned ARN names the region the request was signed for (DESIGN.md ARNs); "
    "here the emulator mints them in another region.",
    caught_by=("arns_match_pattern",),
    tests=(REQUESTS,),
    keyword="test_a_valid_request_is_accepted and (CreateAppInstance] or DescribeAppInstance])",
)
def _arns_in_another_region(app: EmulatorApp) -> None:
    def wrapper(backend: IdentityBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        other = "eu-west-1" if backend.region != "eu-west-1" else "us-east-1"
        return lambda resource: f"arn:aws:chime:{other}:{backend.account_id}:{resource}"

    _wrap_rule(app, IdentityBackend, "_arn", wrapper)


@fault(
    "bot_arns_of_unknown_kind",
    category="ARN format",
    breaks="A bot's ARN is …:app-instance/{uuid}/bot/{uuid} (DESIGN.md ARNs); here …/bots/{uuid}.",
    caught_by=("arns_match_pattern",),
    tests=(REQUESTS,),
    keyword="test_a_valid_request_is_accepted and (CreateAppInstanceBot or DescribeAppInstanceBot)",
)
def _bot_arns_of_unknown_kind(app: EmulatorApp) -> None:
    def wrapper(backend: IdentityBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        def create(*args: Any) -> Any:
            bot = original(*args)
            if "/bot/" in bot.arn:  # re-key it under the wrong ARN, consistently
                old, bot.arn = bot.arn, bot.arn.replace("/bot/", "/bots/")
                backend.bots[bot.arn] = backend.bots.pop(old)
                for record in backend.idempotency.values():
                    if record.result == old:
                        record.result = bot.arn
            return bot

        return create

    _wrap_rule(app, IdentityBackend, "create_app_instance_bot", wrapper)


# --------------------------------------------------------------------------
# Read-after-write


@fault(
    "app_instance_update_lost",
    category="read-after-write",
    breaks="UpdateAppInstance then DescribeAppInstance returns the new Name and Metadata "
    "(read-after-write); here the update answers 200 and is lost.",
    caught_by=("read_after_write",),
    tests=(LIFECYCLE,),
    keyword="test_an_app_instance_reads_back_as_created_and_as_updated",
)
def _app_instance_update_lost(app: EmulatorApp) -> None:
    _wrap_rule(
        app,
        IdentityBackend,
        "update_app_instance",
        lambda backend, original: lambda arn, name, metadata: backend.app_instance(arn),
    )


@fault(
    "user_reads_are_stale",
    category="read-after-write",
    breaks="DescribeAppInstanceUser after an update returns the updated user (read-after-write); "
    "here it serves the first answer it gave for that user from a cache.",
    caught_by=("read_after_write", "settings_read_back"),
    tests=(LIFECYCLE,),
    keyword="test_a_user_reads_back_with_its_expiration_settings",
)
def _user_reads_are_stale(app: EmulatorApp) -> None:
    cache: dict[str, Any] = {}

    def wrapper(original: Handler) -> Handler:
        def handle(backend: Any, members: dict[str, Any]) -> Any:
            answer = original(backend, members)  # a missing user is still a 404
            return cache.setdefault(members["AppInstanceUserArn"], answer)

        return handle

    _wrap_handler(app, "DescribeAppInstanceUser", wrapper)


@fault(
    "bot_configuration_update_lost",
    category="read-after-write",
    breaks="UpdateAppInstanceBot with a Configuration stores it (read-after-write); here the "
    "bot keeps its old Configuration.",
    caught_by=("read_after_write",),
    tests=(LIFECYCLE,),
    keyword="test_a_bot_reads_back_with_its_configuration",
)
def _bot_configuration_update_lost(app: EmulatorApp) -> None:
    _wrap_rule(
        app,
        IdentityBackend,
        "update_app_instance_bot",
        lambda backend, original: (
            lambda arn, name, metadata, configuration: original(arn, name, metadata, None)
        ),
    )


# --------------------------------------------------------------------------
# Delete semantics and cascade

# Scenario.gone verifies the last answer (missing_resource_reported) before it
# records its own verdict, so that check is the one that fails first.
DELETE_CHECKS = ("delete_is_final", "missing_resource_reported")
CASCADE_CHECKS = ("cascade", "missing_resource_reported")


@fault(
    "deregistered_endpoint_lingers",
    category="delete and cascade",
    breaks="A deregistered endpoint is gone: describing it is a 404 (DESIGN.md missing "
    "resource); here DeregisterAppInstanceUserEndpoint answers 204 and keeps it.",
    caught_by=DELETE_CHECKS,
    tests=(LIFECYCLE,),
    keyword="test_an_endpoint_reads_back_as_registered_and_updated",
)
def _deregistered_endpoint_lingers(app: EmulatorApp) -> None:
    _wrap_rule(
        app,
        IdentityBackend,
        "deregister_endpoint",
        lambda backend, original: (
            lambda user_arn, endpoint_id: backend.endpoint(user_arn, endpoint_id) and None
        ),
    )


@fault(
    "deleted_account_lingers",
    category="delete and cascade",
    breaks="A deleted account is gone: GetAccount is a 404 (DESIGN.md missing resource); here "
    "DeleteAccount answers 204 and keeps it.",
    caught_by=DELETE_CHECKS,
    tests=(LIFECYCLE,),
    keyword="test_an_account_reads_back_as_created_and_updated",
)
def _deleted_account_lingers(app: EmulatorApp) -> None:
    _wrap_rule(
        app,
        AccountsBackend,
        "delete_account",
        lambda backend, original: lambda account_id: backend.account(account_id) and None,
    )


def _survivors(backend: IdentityBackend, arn: str, kind: str) -> dict[str, Any]:
    if kind == "users":
        return {k: u for k, u in backend.users.items() if u.app_instance_arn == arn}
    users = {u.arn for u in backend.users.values() if u.app_instance_arn == arn}
    return {k: e for k, e in backend.endpoints.items() if e.user_arn in users}


def _cascade_forgets(app: EmulatorApp, kind: str) -> None:
    """DeleteAppInstance deletes all it holds, then the ``kind`` records come back."""

    def wrapper(backend: IdentityBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        def delete(arn: str) -> None:
            kept = _survivors(backend, arn, kind)
            original(arn)
            getattr(backend, kind).update(kept)

        return delete

    _wrap_rule(app, IdentityBackend, "delete_app_instance", wrapper)


@fault(
    "cascade_keeps_users",
    category="delete and cascade",
    breaks="DeleteAppInstance removes its users (DESIGN.md cascade); here they stay readable.",
    caught_by=CASCADE_CHECKS,
    tests=(LIFECYCLE,),
    keyword="test_deleting_an_app_instance_removes_everything_in_it",
)
def _cascade_keeps_users(app: EmulatorApp) -> None:
    _cascade_forgets(app, "users")


@fault(
    "cascade_keeps_endpoints",
    category="delete and cascade",
    breaks="DeleteAppInstance removes its users' endpoints (DESIGN.md cascade); here the "
    "endpoints stay readable.",
    caught_by=CASCADE_CHECKS,
    tests=(LIFECYCLE,),
    keyword="test_deleting_an_app_instance_removes_everything_in_it",
)
def _cascade_keeps_endpoints(app: EmulatorApp) -> None:
    _cascade_forgets(app, "endpoints")


# --------------------------------------------------------------------------
# Pagination

PAGE_WALK = "test_listing_users_page_by_page_visits_each_exactly_once"


def _wrap_pages(app: EmulatorApp, wrapper: Callable[[Callable[..., Page[Any]]], Any]) -> None:
    tokens = app.backend.page_tokens
    tokens.page = wrapper(tokens.page)  # type: ignore[method-assign]


@fault(
    "pagination_skips_an_item",
    category="pagination",
    breaks="Following NextToken visits every item exactly once (DESIGN.md pagination); here "
    "each later page loses its first item.",
    caught_by=("pagination",),
    tests=(LIFECYCLE,),
    keyword=PAGE_WALK,
)
def _pagination_skips_an_item(app: EmulatorApp) -> None:
    def wrapper(original: Callable[..., Page[Any]]) -> Any:
        def page(listing: str, items: Any, max_results: int, next_token: str | None) -> Any:
            got = original(listing, items, max_results, next_token)
            return Page(got.items[1:], got.next_token) if next_token else got

        return page

    _wrap_pages(app, wrapper)


@fault(
    "pagination_repeats_an_item",
    category="pagination",
    breaks="Following NextToken visits every item exactly once (DESIGN.md pagination); here "
    "each later page starts again with the last item of the page before.",
    caught_by=("pagination",),
    tests=(LIFECYCLE,),
    keyword=PAGE_WALK,
)
def _pagination_repeats_an_item(app: EmulatorApp) -> None:
    tokens = app.backend.page_tokens
    position = tokens.position
    # positions are sequence numbers: one less takes in the item the token points after
    tokens.position = lambda listing, token: position(listing, token) - 1  # type: ignore[method-assign]


@fault(
    "pages_exceed_max_results",
    category="pagination",
    breaks="A page never holds more than MaxResults items (DESIGN.md pagination); here it "
    "holds one more.",
    caught_by=("pagination",),
    tests=(LIFECYCLE,),
    keyword=PAGE_WALK,
)
def _pages_exceed_max_results(app: EmulatorApp) -> None:
    _wrap_pages(
        app,
        lambda original: (
            lambda listing, items, max_results, token: original(
                listing, items, max_results + 1, token
            )
        ),
    )


@fault(
    "forged_next_token_accepted",
    category="pagination",
    breaks="A NextToken the service did not issue is a 400 (DESIGN.md pagination); here it "
    "is read as the start of the list.",
    caught_by=("pagination",),
    tests=(LIFECYCLE,),
    keyword="test_a_forged_next_token_is_refused",
)
def _forged_next_token_accepted(app: EmulatorApp) -> None:
    tokens = app.backend.page_tokens
    position = tokens.position

    def lenient(listing: str, token: str) -> int:
        try:
            return position(listing, token)
        except BadRequestException:
            return -1

    tokens.position = lenient  # type: ignore[method-assign]


@fault(
    "next_token_on_last_page",
    category="pagination",
    breaks="The last page carries no NextToken (DESIGN.md pagination); here it carries one, "
    "which leads to an empty page.",
    caught_by=("pagination",),
    tests=(EDGES,),
    keyword="last_page",
)
def _next_token_on_last_page(app: EmulatorApp) -> None:
    tokens = app.backend.page_tokens

    def wrapper(original: Callable[..., Page[Any]]) -> Any:
        def page(listing: str, items: Any, max_results: int, next_token: str | None) -> Any:
            got = original(listing, items, max_results, next_token)
            if got.next_token is None and got.items:
                return Page(got.items, tokens.issue(listing, got.items[-1].seq))
            return got

        return page

    _wrap_pages(app, wrapper)


# --------------------------------------------------------------------------
# Idempotency


@fault(
    "client_request_token_ignored",
    category="idempotency",
    breaks="The same ClientRequestToken with the same parameters returns the same resource "
    "(DESIGN.md idempotency); here every request creates a new one.",
    caught_by=("idempotency",),
    tests=(LIFECYCLE,),
    keyword="idempotent or replayed_create",
)
def _client_request_token_ignored(app: EmulatorApp) -> None:
    _wrap_rule(app, IdentityBackend, "_replay", lambda backend, original: lambda *args: None)


@fault(
    "token_reuse_with_other_parameters_replays",
    category="idempotency",
    breaks="The same ClientRequestToken with other parameters is a 409 ConflictException "
    "(DESIGN.md idempotency); here it returns the first request's resource.",
    caught_by=("idempotency",),
    tests=(LIFECYCLE,),
    keyword="replayed_create",
)
def _token_reuse_with_other_parameters_replays(app: EmulatorApp) -> None:
    def wrapper(backend: IdentityBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        def replay(operation: str, token: str, *rest: Any) -> Any:
            try:
                return original(operation, token, *rest)
            except ConflictException:
                return backend.idempotency[f"{operation} {token}"].result

        return replay

    _wrap_rule(app, IdentityBackend, "_replay", wrapper)


# --------------------------------------------------------------------------
# Tags

TAGS_SLICE = {"tests": (LIFECYCLE,), "keyword": "test_tags_are_stored_merged_and_removed"}
# test_tags_are_stored_merged_and_removed overwrites every key it had, so a
# replacing TagResource passes its read-backs (only its 50-tag limit notices)
MERGE_SLICE = {
    "tests": (LIFECYCLE, EDGES),
    "keyword": "test_tags_are_stored_merged_and_removed or keeps_the_other_tags",
}


@fault(
    "tag_resource_replaces_tags",
    category="tags",
    breaks="TagResource merges: other keys stay, the same key overwrites (DESIGN.md tags); "
    "here it replaces all tags.",
    # and the 50-tag limit test: its 50 new keys replace the old ones, no 51st
    caught_by=("tags_read_back", "tag_limit"),
    **MERGE_SLICE,  # type: ignore[arg-type]
)
def _tag_resource_replaces_tags(app: EmulatorApp) -> None:
    def wrapper(backend: IdentityBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        def tag(arn: str, tags: list[dict[str, str]]) -> None:
            backend.taggable(arn).tags.clear()
            original(arn, tags)

        return tag

    _wrap_rule(app, IdentityBackend, "tag_resource", wrapper)


@fault(
    "create_tags_dropped",
    category="tags",
    breaks="Tags given to CreateAppInstance are stored (DESIGN.md tags); here they are dropped.",
    caught_by=("tags_read_back",),
    **TAGS_SLICE,  # type: ignore[arg-type]
)
def _create_tags_dropped(app: EmulatorApp) -> None:
    _wrap_rule(
        app,
        IdentityBackend,
        "create_app_instance",
        lambda backend, original: (
            lambda name, metadata, token, tags: original(name, metadata, token, [])
        ),
    )


@fault(
    "untag_ignored",
    category="tags",
    breaks="UntagResource removes the keys (DESIGN.md tags); here it answers 204 and keeps them.",
    caught_by=("tags_read_back",),
    **TAGS_SLICE,  # type: ignore[arg-type]
)
def _untag_ignored(app: EmulatorApp) -> None:
    _wrap_rule(
        app,
        IdentityBackend,
        "untag_resource",
        lambda backend, original: lambda arn, keys: backend.taggable(arn) and None,
    )


@fault(
    "tag_limit_unenforced",
    category="tags",
    breaks="A resource holds at most 50 tags (DESIGN.md tags); here a 51st is accepted.",
    caught_by=("tag_limit",),
    **TAGS_SLICE,  # type: ignore[arg-type]
)
def _tag_limit_unenforced(app: EmulatorApp) -> None:
    def wrapper(backend: IdentityBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        def merge(tags: dict[str, str], new_tags: list[dict[str, str]]) -> None:
            try:
                original(tags, new_tags)
            except ResourceLimitExceededException:
                tags.update({tag["Key"]: tag["Value"] for tag in new_tags})

        return merge

    _wrap_rule(app, IdentityBackend, "_merge_tags", wrapper)


# --------------------------------------------------------------------------
# Settings


@fault(
    "retention_settings_not_stored",
    category="settings",
    breaks="GetAppInstanceRetentionSettings returns what was put (DESIGN.md settings); here "
    "the Put echoes the settings and forgets them.",
    caught_by=("settings_read_back",),
    tests=(LIFECYCLE,),
    keyword="test_retention_settings_read_back",
)
def _retention_settings_not_stored(app: EmulatorApp) -> None:
    def wrapper(original: Handler) -> Handler:
        def handle(backend: IdentityBackend, members: dict[str, Any]) -> Any:
            instance = backend.app_instance(members["AppInstanceArn"])
            before = instance.retention_settings, instance.retention_updated
            answer = original(backend, members)
            instance.retention_settings, instance.retention_updated = before
            return answer

        return handle

    _wrap_handler(app, "PutAppInstanceRetentionSettings", wrapper)


@fault(
    "expiration_settings_never_cleared",
    category="settings",
    breaks="PutAppInstanceUserExpirationSettings without ExpirationSettings clears them "
    "(DESIGN.md settings); here the old settings stay.",
    caught_by=("settings_read_back",),
    tests=(LIFECYCLE,),
    keyword="test_a_user_reads_back_with_its_expiration_settings",
)
def _expiration_settings_never_cleared(app: EmulatorApp) -> None:
    def wrapper(backend: IdentityBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        def put(arn: str, settings: dict[str, Any] | None) -> Any:
            return original(arn, settings or backend.user(arn).expiration_settings)

        return put

    _wrap_rule(app, IdentityBackend, "put_user_expiration_settings", wrapper)


# --------------------------------------------------------------------------
# Admins


@fault(
    "admin_of_another_app_instance_accepted",
    category="admins",
    breaks="Only users and bots of the same AppInstance can be promoted (DESIGN.md admins); "
    "here a user of another AppInstance is.",
    caught_by=("admins",),
    tests=(LIFECYCLE,),
    keyword="test_a_user_of_another_app_instance_cannot_be_promoted",
)
def _admin_of_another_app_instance_accepted(app: EmulatorApp) -> None:
    def wrapper(backend: IdentityBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        def promote(app_instance_arn: str, admin_arn: str) -> Any:
            try:
                return original(app_instance_arn, admin_arn)
            except BadRequestException:
                admin = AppInstanceAdmin(
                    admin_arn, app_instance_arn, backend._clock(), backend._seq()
                )
                backend.admins[admin_arn] = admin
                return admin

        return promote

    _wrap_rule(app, IdentityBackend, "create_app_instance_admin", wrapper)


@fault(
    "demotion_deletes_the_user",
    category="admins",
    breaks="DeleteAppInstanceAdmin demotes and keeps the user (DESIGN.md admins); here the "
    "user is deleted with the role.",
    # the user's Describe is verified (valid_input_accepted: a 404 for a user
    # that should exist) before the admins verdict is recorded
    caught_by=("admins", "valid_input_accepted"),
    tests=(LIFECYCLE,),
    keyword="test_demoting_an_admin_keeps_the_user",
)
def _demotion_deletes_the_user(app: EmulatorApp) -> None:
    def wrapper(backend: IdentityBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        def demote(app_instance_arn: str, admin_arn: str) -> None:
            original(app_instance_arn, admin_arn)
            if admin_arn in backend.users:
                backend.delete_app_instance_user(admin_arn)

        return demote

    _wrap_rule(app, IdentityBackend, "delete_app_instance_admin", wrapper)


# --------------------------------------------------------------------------
# Endpoints


@fault(
    "endpoint_found_under_any_user",
    category="endpoints",
    breaks="An endpoint is addressed by its user and its id: under another (or no) user it is "
    "a 404 (DESIGN.md missing resource); here the id alone finds it.",
    caught_by=("missing_resource_reported",),
    tests=(MISSING,),
    keyword="AppInstanceUserEndpoint-AppInstanceUserArn",
)
def _endpoint_found_under_any_user(app: EmulatorApp) -> None:
    def wrapper(backend: IdentityBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        def endpoint(user_arn: str, endpoint_id: str) -> Any:
            try:
                return original(user_arn, endpoint_id)
            except NotFoundException:
                if endpoint_id in backend.endpoints:
                    return backend.endpoints[endpoint_id]
                raise

        return endpoint

    _wrap_rule(app, IdentityBackend, "endpoint", wrapper)


@fault(
    "endpoint_update_lost",
    category="endpoints",
    breaks="UpdateAppInstanceUserEndpoint then Describe returns the new Name and AllowMessages "
    "(read-after-write); here the update answers 200 and is lost.",
    caught_by=("read_after_write",),
    tests=(LIFECYCLE,),
    keyword="test_an_endpoint_reads_back_as_registered_and_updated",
)
def _endpoint_update_lost(app: EmulatorApp) -> None:
    _wrap_rule(
        app,
        IdentityBackend,
        "update_endpoint",
        lambda backend, original: (
            lambda user_arn, endpoint_id, name, allow: backend.endpoint(user_arn, endpoint_id)
        ),
    )


# --------------------------------------------------------------------------
# Auth


def _auth_slice(signing: str) -> str:
    return (
        "test_a_request_not_signed_correctly_is_refused and "
        f"(CreateAppInstance-{signing} or ListAppInstances-{signing} or GetAccount-{signing})"
    )


@fault(
    "unsigned_requests_accepted",
    category="auth",
    breaks="An unsigned request is a 403 MissingAuthenticationTokenException (DESIGN.md auth); "
    "here it is served.",
    caught_by=("auth_enforced",),
    tests=(REQUESTS,),
    keyword=_auth_slice("unsigned"),
)
def _unsigned_requests_accepted(app: EmulatorApp) -> None:
    verify = app.verifier.verify
    app.verifier.verify = (  # type: ignore[method-assign]
        lambda request: verify(request) if request.headers.get("authorization") else "anonymous"
    )


@fault(
    "signatures_not_compared",
    category="auth",
    breaks="A request whose signature does not match is a 403 InvalidSignatureException "
    "(DESIGN.md auth); here any signature of a known key is accepted.",
    caught_by=("auth_enforced",),
    tests=(REQUESTS,),
    keyword=_auth_slice("bad-signature"),
)
def _signatures_not_compared(app: EmulatorApp) -> None:
    app.verifier._check_signature = lambda *args: None  # type: ignore[method-assign]


@fault(
    "any_region_accepted",
    category="auth",
    breaks="A request signed for another region is a 403 InvalidSignatureException (DESIGN.md "
    "auth); here a signature valid for any region is accepted.",
    caught_by=("auth_enforced",),
    tests=(REQUESTS,),
    keyword=_auth_slice("other-region"),
)
def _any_region_accepted(app: EmulatorApp) -> None:
    from chime_conformance.emulator.auth import AuthorizationHeader, SigV4Verifier

    served = app.verifier
    verify = served.verify

    def verify_in_any_region(request: Any) -> str:
        try:
            region = AuthorizationHeader.parse(request.headers["authorization"]).scope_region
        except (KeyError, ChimeError):
            return verify(request)
        verifier = SigV4Verifier(served._secrets, region, clock=served._clock)
        return verifier.verify(request)

    served.verify = verify_in_any_region  # type: ignore[method-assign]


@fault(
    "stale_signatures_accepted",
    category="auth",
    breaks="A request signed more than 15 minutes ago is a 403 InvalidSignatureException "
    "(DESIGN.md auth, SigV4); here it is served.",
    caught_by=("auth_enforced",),
    tests=(REQUESTS,),
    keyword=_auth_slice("stale-date"),
)
def _stale_signatures_accepted(app: EmulatorApp) -> None:
    app.verifier._check_freshness = lambda amz_date: None  # type: ignore[method-assign]


# --------------------------------------------------------------------------
# Accounts

ACCOUNT_LIFECYCLE = "test_an_account_reads_back_as_created_and_updated"


@fault(
    "account_status_missing",
    category="accounts",
    breaks="An Account carries AccountStatus, Active or Suspended (seed 003); here it is left out.",
    caught_by=("read_after_write",),
    tests=(LIFECYCLE,),
    keyword=ACCOUNT_LIFECYCLE,
)
def _account_status_missing(app: EmulatorApp) -> None:
    _wrap_accounts(app, lambda account: account.pop("AccountStatus", None))


@fault(
    "unknown_license_listed",
    category="accounts",
    breaks="SupportedLicenses lists only Basic, Plus, Pro and ProTrial (spec License enum); "
    "here it also lists Enterprise.",
    caught_by=("response_matches_schema",),
    tests=(REQUESTS,),
    keyword="test_a_valid_request_is_accepted and (GetAccount or CreateAccount)",
)
def _unknown_license_listed(app: EmulatorApp) -> None:
    _wrap_accounts(
        app, lambda account: account.setdefault("SupportedLicenses", []).append("Enterprise")
    )


@fault(
    "team_account_deletion_refused",
    category="accounts",
    breaks="DeleteAccount deletes a Team account (only an Active Enterprise account is a 422; "
    "emulator README); here every account is a 422.",
    caught_by=("valid_input_accepted",),
    tests=(LIFECYCLE,),
    keyword=ACCOUNT_LIFECYCLE,
)
def _team_account_deletion_refused(app: EmulatorApp) -> None:
    def wrapper(backend: AccountsBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        def delete(account_id: str) -> None:
            account = backend.account(account_id)
            raise UnprocessableEntityException(
                f"Account {account_id} ({account.account_type}) cannot be deleted."
            )

        return delete

    _wrap_rule(app, AccountsBackend, "delete_account", wrapper)


@fault(
    "default_license_update_lost",
    category="accounts",
    breaks="UpdateAccount with a DefaultLicense stores it (read-after-write); here the account "
    "keeps its old license.",
    caught_by=("read_after_write",),
    tests=(EDGES,),
    keyword="default_license",
)
def _default_license_update_lost(app: EmulatorApp) -> None:
    _wrap_rule(
        app,
        AccountsBackend,
        "update_account",
        lambda backend, original: (
            lambda account_id, name, license: original(account_id, name, None)
        ),
    )


# --------------------------------------------------------------------------
# Robustness


def _crash_when(
    app: EmulatorApp, crashes: Callable[[spec.Operation, dict[str, Any]], bool]
) -> None:
    def wrapper(original: Callable[[spec.Operation, dict[str, Any]], Any]) -> Any:
        def dispatch(op: spec.Operation, members: dict[str, Any]) -> Any:
            if crashes(op, members):
                raise RuntimeError(f"injected fault: {op.name} crashed on its input")
            return original(op, members)

        return dispatch

    _wrap_dispatch(app, wrapper)


@fault(
    "server_error_on_non_ascii",
    category="robustness",
    breaks="No input makes the server fail (DESIGN.md validation: never 5xx); here a "
    "non-ASCII character anywhere in the members is a 500.",
    caught_by=("not_a_server_error",),
    tests=(LIFECYCLE,),
    keyword="test_an_app_instance_reads_back_as_created_and_as_updated",
)
def _server_error_on_non_ascii(app: EmulatorApp) -> None:
    _crash_when(app, lambda op, members: not all(s.isascii() for s in _strings(members)))


@fault(
    "server_error_on_largest_page",
    category="robustness",
    breaks="No input makes the server fail (DESIGN.md validation: never 5xx); here MaxResults "
    "on its maximum is a 500.",
    caught_by=("not_a_server_error",),
    tests=(REQUESTS,),
    keyword="ListAppInstances:MaxResults:maximum:inside or ListAccounts:MaxResults:maximum:inside",
)
def _server_error_on_largest_page(app: EmulatorApp) -> None:
    def on_maximum(op: spec.Operation, members: dict[str, Any]) -> bool:
        bound = op.input_schema["properties"].get("MaxResults", {}).get("maximum")
        return bound is not None and members.get("MaxResults") == bound

    _crash_when(app, on_maximum)
