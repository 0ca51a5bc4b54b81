"""The promise catalogue (chime_conformance/checks/promises.py) is read off the spec
and covers every operation of each class; its derivations say what the
contract says; the report's promise × operation table reads records honestly."""

from __future__ import annotations

import botocore.loaders
import pytest

from chime_conformance import checks
from chime_conformance.checks import promises
from chime_conformance.contract import spec
from chime_conformance.reporting import promise_table
from chime_conformance.run.results import FAIL, PASS, CheckRecord


def _botocore_ops_with_idempotency_token() -> set[str]:
    model = botocore.loaders.Loader().load_service_model("chime-sdk-identity", "service-2")
    shapes = model["shapes"]
    found = set()
    for name, operation in model["operations"].items():
        members = shapes[operation["input"]["shape"]]["members"] if "input" in operation else {}
        if any(member.get("idempotencyToken") for member in members.values()):
            found.add(name)
    return found


def test_the_token_class_is_exactly_botocores_idempotency_tokens() -> None:
    assert set(promises.token_operations()) == _botocore_ops_with_idempotency_token()


def test_the_list_class_is_every_operation_with_a_next_token() -> None:
    assert set(promises.lists()) == {
        op.name
        for op in spec.operations()
        if op.name.startswith("List") and op.name != "ListTagsForResource"
    }


@pytest.mark.parametrize("write", promises.writes())
def test_every_writable_member_of_every_write_has_a_read_back_route(write: str) -> None:
    read_back = promises.read_back(write)
    assert not read_back.unrouted, f"{write}: no route for {read_back.unrouted}"
    assert spec.operation(read_back.read).method == "GET"


# The reads the derivation must find (a pin: a change to it is seen and reviewed).
READS = {
    "CreateAppInstance": "DescribeAppInstance",
    "UpdateAppInstance": "DescribeAppInstance",
    "CreateAppInstanceUser": "DescribeAppInstanceUser",
    "UpdateAppInstanceUser": "DescribeAppInstanceUser",
    "RegisterAppInstanceUserEndpoint": "DescribeAppInstanceUserEndpoint",
    "UpdateAppInstanceUserEndpoint": "DescribeAppInstanceUserEndpoint",
    "CreateAppInstanceBot": "DescribeAppInstanceBot",
    "UpdateAppInstanceBot": "DescribeAppInstanceBot",
    "CreateAppInstanceAdmin": "DescribeAppInstanceAdmin",
    "PutAppInstanceRetentionSettings": "GetAppInstanceRetentionSettings",
    "PutAppInstanceUserExpirationSettings": "DescribeAppInstanceUser",
    "CreateAccount": "GetAccount",
    "UpdateAccount": "GetAccount",
}


def test_each_write_reads_back_through_the_read_of_its_own_target() -> None:
    assert {w: promises.read_back(w).read for w in promises.writes()} == READS


def test_the_routes_of_members_that_are_not_in_the_record() -> None:
    routes = promises.read_back("CreateAppInstanceUser").routes
    assert routes["Tags"] == promises.Route("tags")
    assert routes["AppInstanceArn"] == promises.Route("listed", listing="ListAppInstanceUsers")
    assert routes["AppInstanceUserId"] == promises.Route("identifier")
    admin = promises.read_back("CreateAppInstanceAdmin").routes["AppInstanceAdminArn"]
    assert admin == promises.Route("record", ("AppInstanceAdmin", "Admin", "Arn"))


def test_a_write_answer_is_compared_where_it_carries_the_resource() -> None:
    assert promises.answer_paths("UpdateAccount") == ((("Account",), ("Account",)),)
    assert (("ExpirationSettings",), ("AppInstanceUser", "ExpirationSettings")) in (
        promises.answer_paths("PutAppInstanceUserExpirationSettings")
    )


@pytest.mark.parametrize("listing", promises.lists())
def test_every_list_knows_its_kind(listing: str) -> None:
    kind = promises.listed(listing)
    create, delete = spec.operation(kind.create), spec.operation(kind.delete)
    assert create.success_status == 201 and delete.method == "DELETE"
    assert create.family == delete.family == spec.operation(listing).family


def test_every_promise_names_a_contract_rule_and_declared_checks() -> None:
    ids = [p.id for p in promises.PROMISES]
    assert len(ids) == len(set(ids))
    for promise in promises.PROMISES:
        assert promise.rule in checks.RULE_IDS, promise.id
        assert promise.checks and all(c.name in checks.REGISTRY for c in promise.checks)
        assert promise.operations(), f"{promise.id} applies to no operation"
    with pytest.raises(KeyError, match="request-id"):
        promises.promise("no-such-promise")


def test_every_promise_test_the_catalogue_names_exists() -> None:
    sources = "".join(
        (spec.spec_path(spec.IDENTITY).parents[1] / "conformance" / name).read_text()
        for name in ("test_promises.py", "test_concurrency.py", "test_tenants.py")
    )
    for promise in promises.PROMISES:
        for test in promise.tests:
            assert f"def {test}(" in sources, f"{promise.id}: no test {test}"


# -- the table ---------------------------------------------------------------


def _record(test: str, operation: str, check: str, outcome: str = PASS) -> CheckRecord:
    return CheckRecord(
        f"conformance/test_promises.py::{test}[{operation}]", operation, check, outcome
    )


def _cell(table: dict, promise: str, operation: str) -> dict:
    return next(
        c for c in table["cells"] if c["promise"] == promise and c["operation"] == operation
    )


def test_a_cell_is_checked_only_by_a_record_of_a_test_that_applies_the_promise() -> None:
    records = [
        _record("test_every_list_pages_to_the_end", "ListAppInstanceBots", "pagination"),
        # pagination recorded by another test does not show the promise
        CheckRecord("conformance/test_lifecycle.py::x", "ListAppInstanceUsers", "pagination", PASS),
    ]
    table = promise_table.promise_table(records)
    assert _cell(table, "pagination", "ListAppInstanceBots") == {
        "promise": "pagination",
        "operation": "ListAppInstanceBots",
        "state": "checked",
        "outcome": "pass",
    }
    assert _cell(table, "pagination", "ListAppInstanceUsers")["state"] == "not_reached"
    assert _cell(table, "pagination", "DescribeAppInstance")["state"] == "not_applicable"
    assert ("pagination", "ListAppInstanceUsers") in promise_table.unreached(table)


def test_a_failure_among_passes_makes_the_cell_broken() -> None:
    test = "test_every_token_replays_to_one_resource"
    records = [
        _record(test, "CreateAppInstance", "idempotency", PASS),
        _record(test, "CreateAppInstance", "idempotency", FAIL),
        _record(test, "CreateAppInstance", "idempotency", PASS),
    ]
    cell = _cell(promise_table.promise_table(records), "idempotency", "CreateAppInstance")
    assert cell["outcome"] == "fail"


def test_an_oracle_promise_is_checked_by_any_test() -> None:
    records = [
        CheckRecord("conformance/test_requests.py::t", "GetAccount", "request_id_present", PASS)
    ]
    table = promise_table.promise_table(records)
    assert _cell(table, "request-id", "GetAccount")["state"] == "checked"
    assert _cell(table, "request-id", "CreateAccount")["state"] == "not_reached"


def test_the_table_has_one_cell_per_promise_and_operation_in_order() -> None:
    table = promise_table.promise_table([])
    width = len(table["operations"])
    assert len(table["cells"]) == len(promises.PROMISES) * width
    for index, cell in enumerate(table["cells"]):
        assert cell["promise"] == table["promises"][index // width]["id"]
        assert cell["operation"] == table["operations"][index % width]
