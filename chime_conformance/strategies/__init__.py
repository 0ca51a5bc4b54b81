"""Hypothesis strategies for the Chime SDK Identity and Chime accounts APIs.

Valid values for every kind of field of the spec, values that break exactly
one constraint at its boundary, and whole requests (valid, with one fault, or
probing one side of one constraint). Everything is derived from the spec's
schemas (``chime_conformance.contract.spec``) and measured against the constraint
catalogue (``chime_conformance.contract.constraints``); hand-written knowledge is kept
to what a schema cannot say (ARN structure, realistic values).

This module only re-exports; the work lives in ``strategies._internal``.
"""

from chime_conformance.contract.constraints import INSIDE, OUTSIDE, Constraint
from chime_conformance.strategies._internal.boundaries import (
    enum_near_misses,
    near_misses,
    values_inside,
    values_outside,
    wrong_types,
)
from chime_conformance.strategies._internal.kinds import (
    account_ids,
    account_numbers,
    app_instance_admin_arns,
    app_instance_arns,
    app_instance_bot_arns,
    app_instance_user_arns,
    app_instance_user_ids,
    arns_of,
    client_request_tokens,
    device_tokens,
    email_addresses,
    endpoint_ids,
    endpoint_resource_arns,
    lex_bot_alias_arns,
    lex_intent_names,
    lex_locale_ids,
    max_results,
    metadata,
    regions,
    resource_identifiers,
    resource_names,
    tag_key_lists,
    tag_keys,
    tag_lists,
    tag_values,
    taggable_arns,
    tags,
    user_names,
    uuids,
)
from chime_conformance.strategies._internal.patterns import strings_matching, strings_of_length
from chime_conformance.strategies._internal.requests import (
    REQUEST_FAULT_KINDS,
    Probe,
    Request,
    fault_targets,
    probe_requests,
    probes,
    requests_for,
)
from chime_conformance.strategies._internal.shapes import (
    bot_configurations,
    endpoint_attributes,
    expiration_settings,
    invalid_app_instance_arns,
    invalid_user_ids,
    lex_configurations,
    retention_settings,
)
from chime_conformance.strategies._internal.values import values_for

__all__ = [
    "INSIDE",
    "OUTSIDE",
    "REQUEST_FAULT_KINDS",
    "Constraint",
    "Probe",
    "Request",
    "account_ids",
    "account_numbers",
    "app_instance_admin_arns",
    "app_instance_arns",
    "app_instance_bot_arns",
    "app_instance_user_arns",
    "app_instance_user_ids",
    "arns_of",
    "bot_configurations",
    "client_request_tokens",
    "device_tokens",
    "email_addresses",
    "endpoint_attributes",
    "endpoint_ids",
    "endpoint_resource_arns",
    "enum_near_misses",
    "expiration_settings",
    "fault_targets",
    "invalid_app_instance_arns",
    "invalid_user_ids",
    "lex_bot_alias_arns",
    "lex_configurations",
    "lex_intent_names",
    "lex_locale_ids",
    "max_results",
    "metadata",
    "near_misses",
    "probe_requests",
    "probes",
    "regions",
    "requests_for",
    "resource_identifiers",
    "resource_names",
    "retention_settings",
    "strings_matching",
    "strings_of_length",
    "tag_key_lists",
    "tag_keys",
    "tag_lists",
    "tag_values",
    "taggable_arns",
    "tags",
    "user_names",
    "uuids",
    "values_for",
    "values_inside",
    "values_outside",
    "wrong_types",
]
