"""Named response oracles: what a correct endpoint's answer must look like.

This module only re-exports. The machinery (what a check receives and raises,
the registry every check name comes from) is in ``checks.registry``; the
checks themselves are in one module per rule family of docs/contract.md:

- ``status``: success-codes, no-server-error
- ``errors``: error-shape, error-code-enum
- ``schema``: response-schema, content-type
- ``inputs``: validation, missing-resource
- ``arns``: arns
- ``timestamps``: timestamps
- ``auth``: auth, sigv4-canonical-uri, session-token, presigned
- ``pagination``: pagination, list-consistency
- ``lifecycle``: read-after-write, answer-is-current, delete-is-final, cascade,
  idempotency, duplicates, admins, tags, settings, user-expiration
- ``reference``: reference-agreement
- ``tenants``: tenant-isolation
- ``protocol``: request-id
- ``isolation``: isolation
- ``overlap``: concurrency

``promises`` is the catalogue of the promises shared by a class of operations
(pagination on every List, request ids on every answer…), which of these rules
they are sentences of, and which operations the spec puts in each class.

A per-exchange oracle is reached by its name through :data:`CHECKS`; a check
that compares several answers (scenarios, state machines), schemathesis' and
the differential one by its declaration, re-exported here.

How to add a check: write it in the family module of its contract rule (an
oracle with ``@check(rule=…)``, any other with ``declare(…)``; a new rule is
first a row of docs/contract.md and an id of ``RULE_IDS``), re-export a
declaration below, name it in the rule's row of docs/contract.md, give an
oracle a good and a bad case in tests/checks/test_checks.py, and prove it can
fail: an emulator fault (``chime_conformance/emulator/faults/``) that the
fault catalogue (tests/support/fault_catalogue.py) says it catches.

Lenient by default: where docs/contract.md marks a behaviour *unverified* against the
real service, the listed alternatives pass unless ``ctx.strict`` is set.
Nothing here knows about pytest.
"""

from chime_conformance.checks.answers import error_type
from chime_conformance.checks.arns import ARN_KINDS
from chime_conformance.checks.auth import AUTHENTICATION_ERRORS, STRICT_AUTH_ERRORS
from chime_conformance.checks.errors import (
    CONTRACT_ERROR_CODES,
    RESPONSE_HEADERS_CONFORMANCE,
    error_code_values,
)
from chime_conformance.checks.inputs import (
    MISSING_RESOURCE_ALTERNATIVES,
    NEGATIVE_DATA_REJECTION,
    POSITIVE_DATA_ACCEPTANCE,
    missing_resource_answers,
    missing_resource_statuses,
)
from chime_conformance.checks.isolation import READS_ARE_ISOLATED
from chime_conformance.checks.lifecycle import (
    ADMINS,
    ANSWER_IS_CURRENT,
    CASCADE,
    DELETE_IS_FINAL,
    DUPLICATE_REJECTED,
    ENSURE_RESOURCE_AVAILABILITY,
    IDEMPOTENCY,
    READ_AFTER_WRITE,
    SETTINGS_READ_BACK,
    TAG_LIMIT,
    TAGS_READ_BACK,
    USE_AFTER_FREE,
    USER_EXPIRATION,
)
from chime_conformance.checks.overlap import CONCURRENT_OUTCOMES
from chime_conformance.checks.pagination import DELETED_NOT_LISTED, LIST_MATCHES_MODEL, PAGINATION
from chime_conformance.checks.protocol import REQUEST_ID_HEADER
from chime_conformance.checks.reference import AGREES_WITH_REFERENCE
from chime_conformance.checks.registry import (
    CHECKS,
    DEFAULT_CLOCK_SKEW,
    DIFFERENTIAL,
    KINDS,
    ORACLE,
    REGISTRY,
    RULE_IDS,
    SCENARIO,
    SCHEMATHESIS,
    Check,
    CheckContext,
    CheckFailure,
    CheckResult,
    DeclaredCheck,
    Expectation,
    Resource,
    UnknownCheck,
    check,
    declare,
    declared,
    run_checks,
)
from chime_conformance.checks.schema import (
    CONTENT_TYPE_CONFORMANCE,
    RESPONSE_SCHEMA_CONFORMANCE,
)
from chime_conformance.checks.status import STATUS_CODE_CONFORMANCE
from chime_conformance.checks.tenants import (
    OTHER_ACCOUNT_ANSWERS,
    OTHER_ACCOUNT_UNSEEN,
    other_account_answers,
)
from chime_conformance.checks.timestamps import TIMESTAMPS_MONOTONIC

__all__ = [
    "ADMINS",
    "AGREES_WITH_REFERENCE",
    "ANSWER_IS_CURRENT",
    "ARN_KINDS",
    "AUTHENTICATION_ERRORS",
    "CASCADE",
    "CHECKS",
    "CONCURRENT_OUTCOMES",
    "CONTENT_TYPE_CONFORMANCE",
    "CONTRACT_ERROR_CODES",
    "DEFAULT_CLOCK_SKEW",
    "DELETED_NOT_LISTED",
    "DELETE_IS_FINAL",
    "DIFFERENTIAL",
    "DUPLICATE_REJECTED",
    "ENSURE_RESOURCE_AVAILABILITY",
    "IDEMPOTENCY",
    "KINDS",
    "LIST_MATCHES_MODEL",
    "MISSING_RESOURCE_ALTERNATIVES",
    "NEGATIVE_DATA_REJECTION",
    "ORACLE",
    "OTHER_ACCOUNT_ANSWERS",
    "OTHER_ACCOUNT_UNSEEN",
    "PAGINATION",
    "POSITIVE_DATA_ACCEPTANCE",
    "READS_ARE_ISOLATED",
    "READ_AFTER_WRITE",
    "REGISTRY",
    "REQUEST_ID_HEADER",
    "RESPONSE_HEADERS_CONFORMANCE",
    "RESPONSE_SCHEMA_CONFORMANCE",
    "RULE_IDS",
    "SCENARIO",
    "SCHEMATHESIS",
    "SETTINGS_READ_BACK",
    "STATUS_CODE_CONFORMANCE",
    "STRICT_AUTH_ERRORS",
    "TAGS_READ_BACK",
    "TAG_LIMIT",
    "TIMESTAMPS_MONOTONIC",
    "USER_EXPIRATION",
    "USE_AFTER_FREE",
    "Check",
    "CheckContext",
    "CheckFailure",
    "CheckResult",
    "DeclaredCheck",
    "Expectation",
    "Resource",
    "UnknownCheck",
    "check",
    "declare",
    "declared",
    "error_code_values",
    "error_type",
    "missing_resource_answers",
    "missing_resource_statuses",
    "other_account_answers",
    "run_checks",
]
