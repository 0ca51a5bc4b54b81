"""Schemathesis wired into the suite: the one transport, the ledger, the checks.

schemathesis generates the requests (positive and negative, from both spec
files) and judges the answers with its own checks; this module supplies what
it cannot know: how to send to the target (through the suite's client, which
signs, retries and writes the ledger as for every request), which statuses the contract allows where the
checks' defaults are looser or stricter than docs/contract.md, which generated
inputs are not what they claim to be, what each call created (for the ledger)
and how a failure reads (operation, check, reproducers). It knows nothing of
pytest: the test modules are the thin adapters.
"""

from __future__ import annotations

import http
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
import requests.adapters
import requests.utils
import schemathesis
import urllib3
from requests.structures import CaseInsensitiveDict
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi import checks as openapi_checks

from chime_conformance import checks as registry
from chime_conformance.contract import resources, spec
from chime_conformance.run.ledger import Ledger
from chime_conformance.run.recorder import Recorder
from chime_conformance.run.results import FAIL, PASS
from chime_conformance.wire.client import GENERATED_HEADERS, ChimeClient, Exchange

__all__ = [
    "CHECKS",
    "STATEFUL_CHECKS",
    "ClientTarget",
    "ContractChecks",
    "load_schema",
    "schemathesis_config",
    "signed_state_machine",
]

# The checks this suite runs, in the order their failures are reported.
# `response_headers_conformance` applies where the spec documents headers:
# every error response requires `x-amzn-ErrorType` (botocore maps errors by it).
CHECKS: tuple[Callable[..., Any], ...] = (
    not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.negative_data_rejection,
    openapi_checks.positive_data_acceptance,
)

# Each check's declaration in the registry (a KeyError here, at import, names
# a schemathesis check the registry does not declare).
DECLARED: Mapping[str, registry.DeclaredCheck] = {
    check.__name__: registry.REGISTRY[check.__name__]
    for check in (
        *CHECKS,
        openapi_checks.use_after_free,
        openapi_checks.ensure_resource_availability,
    )
}

# In a linked scenario, also: a deleted resource must stay gone
# (use_after_free) and a created one must be there for the next call
# (ensure_resource_availability) — lost writes, in docs/contract.md's words.
STATEFUL_CHECKS = (
    *CHECKS,
    openapi_checks.use_after_free,
    openapi_checks.ensure_resource_availability,
)

# docs/contract.md, "validation": any broken constraint of the spec is a 400
# BadRequestException. schemathesis' default also accepts 401/403/404/405/
# 406/409/415/422/428/429/5xx, which would let "invalid ARN → 404" pass.
NEGATIVE_STATUSES = ("400",)
# A valid request may still be refused for the state it meets: 404 for an
# absent resource (schemathesis' ARNs almost never name an existing one) and
# 409 for a taken one (CreateAppInstanceUser with a used AppInstanceUserId, a
# ClientRequestToken reused with other parameters). Everything else is a
# rejection of valid data: 400 above all, and 401/403 (we always sign
# correctly), which schemathesis' default would accept.
POSITIVE_STATUSES = ("2xx", "404", "409")
# docs/contract.md, "missing or deleted resource": the real service is *unverified*
# to answer 404; without --strict the suite also accepts 403 and 400 there.
# Only for operations that address an existing resource: for the others
# (CreateAppInstance, ListAppInstances, CreateAccount, ListAccounts) a valid
# request has no resource to miss, so 400/403 stay failures even then.
MISSING_RESOURCE_ALTERNATIVES = registry.missing_resource_statuses(strict=False) - {404}
# Members whose value names an existing resource (docs/contract.md's addressable kinds).
RESOURCE_MEMBERS = frozenset(resources.naming_members())


def addresses_resource(op: spec.Operation) -> bool:
    """Whether ``op`` has an input member naming an existing resource."""
    members = {p.member for p in op.parameters} | set(op.body_members)
    return bool(members & RESOURCE_MEMBERS)


def schemathesis_config() -> SchemathesisConfig:
    """schemathesis' configuration: modes, phases, the checks' statuses."""
    return SchemathesisConfig.from_dict(
        {
            "generation": {
                "mode": "all",  # positive and negative
                # The spec's one security scheme is SigV4 in `Authorization`;
                # generating (or negating) that header as an API key means
                # nothing: every request is signed at send time instead.
                "with-security-parameters": False,
            },
            "checks": {
                "negative_data_rejection": {"expected-statuses": list(NEGATIVE_STATUSES)},
                "positive_data_acceptance": {"expected-statuses": list(POSITIVE_STATUSES)},
            },
            "phases": {
                # Other methods on our paths (PATCH /app-instances…) are outside
                # the contract: docs/contract.md says nothing about 405, and the checks
                # we run skip such cases anyway. Not sending them saves time.
                "coverage": {"unexpected-methods": []},
                # Only the spec's own links (from a Create to what uses its
                # result). Links schemathesis infers from List answers
                # (ListAccounts → GetAccount) feed on resources other tests
                # create and delete meanwhile, so a replayed scenario draws
                # differently and Hypothesis reports a flaky strategy.
                "stateful": {"inference": {"algorithms": []}},
            },
        }
    )


# Query parameters whose valid values only the service can make: a NextToken
# is valid when the service issued it, and docs/contract.md requires a forged one to
# be refused with 400. The spec types it as free text (`.*`, up to 2048), so
# schemathesis' positive cases carry invented tokens that must be refused.
def _issued_token_parameters() -> frozenset[tuple[str, str]]:
    return frozenset(
        (op.name, p.wire_name)
        for op in spec.operations()
        for p in op.query_parameters
        if p.member == "NextToken"
    )


ISSUED_TOKEN_PARAMETERS = _issued_token_parameters()


def operation_name(case: schemathesis.Case) -> str:
    """The AWS operation name (the spec's operationId) of ``case``."""
    return str(case.operation.definition.raw["operationId"])


def _without_invented_tokens(context: Any, case: schemathesis.Case) -> schemathesis.Case:
    # Positive cases only: a negative case's token may be the invalid part
    # (over 2048 characters), and a 400 is what it must get anyway.
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or not isinstance(case.query, dict):
        return case
    name = operation_name(case)
    for key in list(case.query):
        if (name, key) in ISSUED_TOKEN_PARAMETERS:
            del case.query[key]
    return case


# --------------------------------------------------------------------------
# Patterns, as schemathesis must read them
#
# The spec's patterns mean what ECMA-262 says (spec/README.md). schemathesis
# generates from them with Python's `re` and validates with Rust's regex
# (jsonschema_rs), which differ from ECMA where our patterns use `.` (ECMA
# excludes \r, \u2028 and \u2029 too), `\S`, `\s`, `\d`, `\w` (ECMA's
# sets are ASCII or a fixed list) — e.g. an ARN ending in "\r" would be
# generated as *valid*, and rightly refused. And Rust's regex refuses the
# surrogate range `\uD800-\uDFFF` of ResourceName's class, so schemathesis
# drops the whole pattern: it sent Names with C0/C1 controls as valid data.
# schemathesis therefore gets each pattern spelled out with ECMA's sets, which
# all three engines read alike, and without the surrogate range: it generates
# UTF-8 text, which cannot hold a lone surrogate, so nothing is lost (the
# suite's own strategies send lone surrogates).
_SURROGATES = "\\uD800-\\uDFFF"


def portable_pattern(pattern: str) -> str:
    """``pattern`` (ECMA-262) spelled so that Python's ``re`` and Rust's regex
    give it ECMA's meaning (explicit sets; Rust's ``$`` already ends the text),
    lone surrogates left out."""
    return spec.ecma_source(pattern, end="$").replace(_SURROGATES, "")


def _with_portable_patterns(node: Any) -> Any:
    if isinstance(node, list):
        return [_with_portable_patterns(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: portable_pattern(value)
        if key == "pattern" and isinstance(value, str)
        else _with_portable_patterns(value)
        for key, value in node.items()
    }


def load_schema(api: str) -> Any:
    """The spec of ``api`` as a schemathesis schema, configured for the suite."""
    document = _with_portable_patterns(spec.load_document(api))
    schema = schemathesis.openapi.from_dict(document, config=schemathesis_config())
    schema.location = spec.spec_path(api).as_uri()
    schema.hook("map_case")(_without_invented_tokens)
    return schema


# --------------------------------------------------------------------------
# Calls


def members_of(case: schemathesis.Case) -> dict[str, Any]:
    """The AWS input members of ``case`` (path, query and body), by member name,
    as the ledger and the reproducers name them."""
    op = spec.operation(operation_name(case))
    by_wire = {(p.location, p.wire_name): p.member for p in op.parameters}
    members: dict[str, Any] = {}
    for location, values in (("path", case.path_parameters), ("query", case.query)):
        for wire_name, value in (values or {}).items():
            member = by_wire.get((location, wire_name))
            if member is not None:
                # schemathesis keeps path labels percent-encoded, as sent
                members[member] = (
                    unquote(value) if location == "path" and isinstance(value, str) else value
                )
    if isinstance(case.body, Mapping):
        members.update({k: v for k, v in case.body.items() if k in op.body_members})
    return members


class ClientTarget:
    """Where schemathesis' cases go: through the suite's one transport, the
    :class:`ChimeClient`, so each is signed, retried, throttled, broken off
    and written in the ledger exactly as every other request of the run.

    schemathesis still builds each request itself (``case.call``: its hooks,
    its encoding of path, query and body); only the sending is handed over,
    by a requests transport adapter. Tests call from one thread per process."""

    def __init__(self, client: ChimeClient) -> None:
        self.client = client

    def base_url(self, case: schemathesis.Case) -> str:
        op = spec.operation(operation_name(case))
        return self.client.accounts_url if op.api == spec.ACCOUNTS else self.client.target_url

    def call(self, case: schemathesis.Case) -> schemathesis.Response:
        """Send ``case`` through the client. :class:`TargetThrottled` if the
        target still says "try later" when the client's retries run out."""
        session = requests.Session()
        through = _ThroughClient(self.client, operation_name(case), members_of(case))
        session.mount("http://", through)
        session.mount("https://", through)
        with session:
            response: schemathesis.Response = case.call(
                base_url=self.base_url(case), session=session
            )
        return response

    def reproduce(self, case: schemathesis.Case, response: schemathesis.Response) -> Exchange:
        """The exchange the client recorded for ``response``, for signed reproducers."""
        request = response.request
        if not isinstance(request, _SentThroughClient):
            raise TypeError(f"{operation_name(case)}: the answer was not sent by {self!r}")
        return request.exchange


class _SentThroughClient(requests.PreparedRequest):
    """The request as the client sent it (secrets redacted), with its exchange."""

    def __init__(self, exchange: Exchange) -> None:
        super().__init__()
        self.exchange = exchange
        self.method = exchange.request.method
        self.url = exchange.request.url
        self.headers = CaseInsensitiveDict(exchange.request.headers)
        self.body = exchange.request.body


class _ThroughClient(requests.adapters.BaseAdapter):
    """requests' transport adapter for one case: what schemathesis prepared
    goes out through ``client.send``, and the client's exchange comes back as
    the requests response schemathesis expects."""

    def __init__(self, client: ChimeClient, operation: str, members: Mapping[str, Any]) -> None:
        super().__init__()
        self.client, self.operation, self.members = client, operation, members

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        # The client's own timeouts, TLS settings and proxies apply, not requests' arguments.
        url = urlsplit(str(request.url))
        body = request.body.encode() if isinstance(request.body, str) else request.body
        exchange = self.client.send(
            str(request.method),
            request.path_url,
            body=body,
            headers={k: v for k, v in request.headers.items() if k.lower() not in _SET_BY_CLIENT},
            base_url=f"{url.scheme}://{url.netloc}",
            operation=self.operation,
            members=self.members,
        )
        return _requests_response(exchange)

    def close(self) -> None:
        pass  # the client's sessions are the client's to close


# What the client's session and signer set themselves; schemathesis' values
# would only be sent twice (its User-Agent stays: SigV4 does not sign it).
_SET_BY_CLIENT = GENERATED_HEADERS - {"user-agent"}


def _requests_response(exchange: Exchange) -> requests.Response:
    answer = exchange.response
    response = requests.Response()
    response.status_code = answer.status
    response.headers = CaseInsensitiveDict(answer.headers)
    response._content = answer.body
    response.reason = _reason(answer.status)
    response.encoding = requests.utils.get_encoding_from_headers(response.headers)
    response.url = exchange.request.url
    response.request = _SentThroughClient(exchange)
    # schemathesis reads the headers (and the HTTP version) off the raw answer
    response.raw = urllib3.HTTPResponse(
        body=b"",
        headers=urllib3.HTTPHeaderDict(dict(answer.headers)),
        status=answer.status,
        version=11,
        reason=response.reason,
        preload_content=False,
    )
    return response


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def signed_state_machine(
    schema: Any,
    checks: ContractChecks,
    *,
    delete: Callable[[str, dict[str, str]], int] | None = None,
) -> Any:
    """schemathesis' state machine over ``schema``'s links, each step sent by
    ``checks.target`` and judged by ``checks`` (with the scenario's history).

    With ``delete(operation, members) -> status``, each scenario deletes what
    it created when it ends, so every scenario meets the target as the first
    did. Hypothesis replays scenarios and insists that a replay draws as the
    original did; a link from ListAccounts to a resource a previous scenario
    left behind (or deleted) breaks that ("Inconsistent data generation")."""
    base = schema.as_state_machine()

    class SignedStateMachine(base):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            super().setup()
            self.created = Ledger()

        def call(self, case: schemathesis.Case, **kwargs: Any) -> schemathesis.Response:
            response = checks.target.call(case)
            self.created.observe(
                operation_name(case), members_of(case), response.status_code, _json(response)
            )
            return response

        def validate_response(
            self,
            response: schemathesis.Response,
            case: schemathesis.Case,
            *args: Any,
            **kwargs: Any,
        ) -> None:
            __tracebackhide__ = True
            checks.check(case, response, recorder=self.recorder)

        def teardown(self) -> None:
            if delete is not None:
                self.created.clean_up(delete)  # leftovers stay in the session's ledger
            super().teardown()

    SignedStateMachine.__name__ = SignedStateMachine.__qualname__ = f"Signed{base.__name__}"
    return SignedStateMachine


def _json(response: schemathesis.Response) -> Any:
    try:
        return response.json()
    except Exception:  # an empty or non-JSON body: the checks report it
        return None


# --------------------------------------------------------------------------
# Checks


def current_test_id() -> str:
    """The running pytest node id ("" outside pytest). Read from the
    environment because Hypothesis tests cannot take function-scoped fixtures."""
    return os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]


@dataclass(frozen=True)
class ContractChecks:
    """Runs :data:`CHECKS` on a call, one at a time, so each failure is
    recorded and reported under the check that found it."""

    target: ClientTarget
    strict: bool = False  # --strict: no unverified alternatives (docs/contract.md)
    recorder: Recorder | None = None
    checks: tuple[Callable[..., Any], ...] = CHECKS

    def call_and_check(self, case: schemathesis.Case) -> schemathesis.Response:
        """Send ``case``, then :meth:`check` the answer."""
        __tracebackhide__ = True
        response = self.target.call(case)
        self.check(case, response)
        return response

    def check(
        self, case: schemathesis.Case, response: schemathesis.Response, *, recorder: Any = None
    ) -> None:
        """Raise one :class:`FailureGroup` naming the operation, each failed
        check and the reproducers, if any check fails. ``recorder`` (a stateful
        scenario's) lets the checks that look back at earlier steps do so."""
        __tracebackhide__ = True
        try:  # all at once first: the common case, and each call has a cost
            case.validate_response(
                response,
                checks=list(self.checks),
                transport_kwargs={"base_url": self.target.base_url(case)},
                recorder=recorder,
            )
        except FailureGroup:
            pass
        else:
            self._record(case, response, {})
            return
        failed: dict[str, FailureGroup] = {}
        for check in self.checks:  # again one by one, to name each failed check
            try:
                case.validate_response(
                    response,
                    checks=[check],
                    transport_kwargs={"base_url": self.target.base_url(case)},
                    recorder=recorder,
                )
            except FailureGroup as group:
                if not self._unverified_alternative(check, case, response):
                    failed[check.__name__] = group
        self._record(case, response, failed)
        if failed:
            raise self._failure(case, response, failed)

    def _unverified_alternative(
        self, check: Callable[..., Any], case: schemathesis.Case, response: schemathesis.Response
    ) -> bool:
        # A valid request that names a resource may meet "missing" as 400 or
        # 403 on a real service (docs/contract.md, unverified); --strict refuses it.
        return (
            not self.strict
            and check is openapi_checks.positive_data_acceptance
            and response.status_code in MISSING_RESOURCE_ALTERNATIVES
            and addresses_resource(spec.operation(operation_name(case)))
        )

    def _record(
        self,
        case: schemathesis.Case,
        response: schemathesis.Response,
        failed: Mapping[str, FailureGroup],
    ) -> None:
        if self.recorder is None:
            return
        test_id, name = current_test_id(), operation_name(case)
        exchange = self.target.reproduce(case, response) if failed else None
        for check in self.checks:
            group = failed.get(check.__name__)
            declared = DECLARED[check.__name__]
            if group is None:
                self.recorder.record(declared, PASS, test_id=test_id, operation=name)
                continue
            self.recorder.record(
                declared,
                FAIL,
                test_id=test_id,
                operation=name,
                exchange=exchange,
                message=_failure_text(group.exceptions),
                spec_fact=f"schemathesis {check.__name__} on {case.operation.label}",
            )

    def _failure(
        self,
        case: schemathesis.Case,
        response: schemathesis.Response,
        failed: Mapping[str, FailureGroup],
    ) -> FailureGroup:
        name = operation_name(case)
        exchange = self.target.reproduce(case, response)
        mode = case.meta.generation.mode.value if case.meta is not None else "explicit"
        lines = [
            f"{name} ({case.operation.label}, {mode} data) failed "
            f"{len(failed)} check(s): {', '.join(failed)}",
            "",
        ]
        for check, group in failed.items():
            lines.append(f"== {check} ==")
            lines.append(str(group.message).strip())  # schemathesis' report and curl
            lines.append("")
        lines.append("Reproduce, signed with your AWS credentials (curl ≥ 7.75):")
        lines.append("")
        lines.append(exchange.as_curl())
        lines.append("")
        lines.append("or, signed by botocore exactly as the suite signs:")
        lines.append("")
        lines.append(exchange.as_python())
        exceptions: list[Failure] = [f for group in failed.values() for f in group.exceptions]
        return FailureGroup(exceptions, "\n".join(lines))


def _failure_text(failures: Iterable[Failure]) -> str:
    return "\n".join(f"{f.title}: {f.message}".strip() for f in failures)
