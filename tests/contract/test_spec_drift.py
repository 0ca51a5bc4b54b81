"""Both spec files agree with botocore's service models, fact by fact.

The comparison lives in tests/support/spec_drift.py; deliberate disagreements are
reviewed in tests/support/spec_deviations.yaml. A failure lists every disagreement of
the operation, one line each: ``operation  place  fact  spec=…  botocore=…``.
"""

from __future__ import annotations

import copy

import pytest

from chime_conformance.contract.spec import ACCOUNTS, APIS, load_document
from tests.support import spec_drift
from tests.support.spec_drift import ABSENT, anchored_forms, drift_check, load_deviations

CHECKS = {api: drift_check(api) for api in APIS}


def operation_cases() -> list[object]:
    return [
        pytest.param(api, name, id=f"{api}-{name}")
        for api, check in CHECKS.items()
        for name in check.operation_names()
    ]


@pytest.mark.parametrize(("api", "operation"), operation_cases())
def test_operation_agrees_with_botocore(api: str, operation: str) -> None:
    differences = CHECKS[api].differences(operation)
    if differences:
        lines = "\n".join(difference.line() for difference in differences)
        pytest.fail(
            f"{len(differences)} difference(s) between spec/{api}.openapi.yaml and botocore "
            f"(fix the spec, or review an entry into tests/support/spec_deviations.yaml):\n{lines}",
            pytrace=False,
        )


@pytest.mark.parametrize("api", APIS)
def test_every_deviation_still_excuses_a_difference(api: str) -> None:
    stale = CHECKS[api].stale_deviations()
    if stale:
        lines = "\n".join(deviation.describe() for deviation in stale)
        pytest.fail(
            f"deviations that no longer match any difference in {api} (remove them):\n{lines}",
            pytrace=False,
        )


def test_deviation_entries_are_well_formed() -> None:
    deviations = load_deviations()  # raises, naming the entry, on unknown keys or no reason
    assert deviations, "spec_deviations.yaml lists no deviation at all"


def test_a_changed_constraint_is_named_on_every_operation_that_uses_it() -> None:
    document = copy.deepcopy(load_document(ACCOUNTS))
    document["components"]["schemas"]["AccountName"]["maxLength"] = 99
    lines = {d.line() for d in CHECKS[ACCOUNTS].with_document(document).all_differences()}
    assert lines == {
        "CreateAccount  body.Name  maxLength  spec=99  botocore=100",
        "ListAccounts  query.name  maxLength  spec=99  botocore=100",
        "UpdateAccount  body.Name  maxLength  spec=99  botocore=100",
    }


def test_an_operation_missing_from_the_spec_is_one_line() -> None:
    document = copy.deepcopy(load_document(ACCOUNTS))
    del document["paths"]["/accounts/{accountId}"]["delete"]
    lines = [
        d.line() for d in CHECKS[ACCOUNTS].with_document(document).differences("DeleteAccount")
    ]
    assert lines == ["DeleteAccount  operation  exists  spec=absent  botocore=true"]


def test_a_wrong_wire_name_and_an_extra_status_are_named() -> None:
    document = copy.deepcopy(load_document(ACCOUNTS))
    operation = document["paths"]["/accounts"]["get"]
    operation["parameters"][3]["name"] = "maxResults"
    operation["responses"]["409"] = {"$ref": "#/components/responses/Error400"}
    lines = {d.line() for d in CHECKS[ACCOUNTS].with_document(document).differences("ListAccounts")}
    assert lines == {
        "ListAccounts  query.max-results  exists  spec=absent  botocore=true",
        "ListAccounts  query.maxResults  exists  spec=true  botocore=absent",
        "ListAccounts  responses.409  documented  spec=true  botocore=absent",
    }


def test_a_demanded_deviation_value_is_enforced() -> None:
    document = copy.deepcopy(load_document(ACCOUNTS))
    document["components"]["schemas"]["Error"]["required"] = ["Message"]
    lines = [d.line() for d in CHECKS[ACCOUNTS].with_document(document).differences("GetAccount")]
    assert (
        "GetAccount  responses.404.body.Code  required  spec=false  botocore=false  deviation=true"
        in lines
    )


@pytest.mark.parametrize(
    ("botocore", "spec_forms"),
    [
        (".*", {".*"}),
        ("[-_a-zA-Z0-9]*", {"^[-_a-zA-Z0-9]*$", "^(?:[-_a-zA-Z0-9]*)$"}),
        ("^([A-Za-z]_?)+$", {"^([A-Za-z]_?)+$"}),
    ],
)
def test_patterns_are_compared_by_the_anchoring_rule(botocore: str, spec_forms: set[str]) -> None:
    assert anchored_forms(botocore) == spec_forms


def test_bool_and_int_facts_do_not_agree() -> None:
    assert not spec_drift.facts_agree("required", True, 1)
    assert not spec_drift.facts_agree("minLength", ABSENT, 0)


def _error_responses(document: dict[str, object]) -> list[tuple[str, str, dict[str, object]]]:
    """``(operationId, status, resolved body schema)`` of every error response."""
    found = []
    for name, (_, method, path_item) in spec_drift.spec_operations(document).items():
        for status, raw in path_item[method]["responses"].items():
            if str(status).startswith("2"):
                continue
            response = spec_drift.resolve(document, raw)
            schema = response["content"]["application/json"]["schema"]
            found.append((name, str(status), spec_drift.flatten_schema(document, schema)))
    return found


@pytest.mark.parametrize("api", APIS)
def test_every_error_code_is_botocores_error_code_enum(api: str) -> None:
    """docs/contract.md, error-code-enum: the Code of every error response of
    every operation is exactly botocore's ErrorCode enum (order included)."""
    document = load_document(api)
    enum = list(spec_drift.botocore_model(api)["shapes"]["ErrorCode"]["enum"])
    responses = _error_responses(document)
    assert responses, f"{api}: no error responses found"
    wrong = [
        f"{name} {status}: {code.get('enum')}"
        for name, status, schema in responses
        if (code := spec_drift.flatten_schema(document, schema["properties"]["Code"])).get("enum")
        != enum
    ]
    assert not wrong, f"Code is not botocore's ErrorCode enum {enum} in:\n" + "\n".join(wrong)


def test_an_error_code_outside_the_enum_is_a_difference() -> None:
    document = copy.deepcopy(load_document(ACCOUNTS))
    document["components"]["schemas"]["ErrorCode"]["enum"].append("UnprocessableEntity")
    lines = [d.line() for d in CHECKS[ACCOUNTS].with_document(document).differences("GetAccount")]
    assert any(line.startswith("GetAccount  responses.404.body.Code  enum") for line in lines), (
        lines
    )
