"""The resource catalogue agrees with the spec, and the tables derived from it
say what the hand-written tables said before."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chime_conformance import strategies
from chime_conformance.contract import resources, spec
from chime_conformance.run import ledger

KINDS = list(resources.KINDS.values())
IDS = [k.name for k in KINDS]
ARN = "arn:aws:chime:us-east-1:123456789012:app-instance/5bd8ce3d-0e4c-4b9b-8c1a-2c4f1a2b3c4d"


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_a_kind_names_operations_of_the_spec(kind: resources.Kind) -> None:
    for operation in (kind.create, kind.describe, kind.list, kind.delete):
        spec.operation(operation)  # a KeyError names the one the spec lacks


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_describe_and_delete_take_the_same_address(kind: resources.Kind) -> None:
    required = spec.operation(kind.describe).input_schema["required"]
    assert sorted(required) == list(kind.address)
    assert kind.member in kind.address


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_a_list_is_asked_with_the_parents_address(kind: resources.Kind) -> None:
    parent = resources.kind(kind.parent).address if kind.parent else ()
    assert sorted(spec.operation(kind.list).input_schema["required"]) == list(parent)


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_a_list_item_holds_the_identifier_where_the_catalogue_says(kind: resources.Kind) -> None:
    answer = spec.operation(kind.list).response_schema or {}
    schema = answer["properties"][kind.items_member]["items"]
    for step in kind.identifier_path:
        schema = schema["properties"][step]
    assert schema["type"] == "string"


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_the_create_links_to_the_delete_where_the_answer_holds_the_address(
    kind: resources.Kind,
) -> None:
    answer_schema = spec.operation(kind.create).response_schema or {}
    for path in kind.issued_paths:
        schema = answer_schema
        for step in path:
            schema = schema["properties"][step]
        assert schema["type"] == "string"
    assert kind.issued_paths or kind.arn_of  # an admin's address is all in its request


def test_parents_come_before_their_children() -> None:
    seen: set[str] = set()
    for kind in KINDS:
        assert kind.parent is None or kind.parent in seen, kind.name
        assert set(kind.arn_of) <= seen, kind.name
        seen.add(kind.name)


def test_every_create_the_spec_links_to_a_delete_is_a_catalogued_kind() -> None:
    # a kind the spec gains is caught here until it is catalogued
    catalogued = {(k.create, k.delete) for k in KINDS}
    for op in spec.operations():
        raw = spec.load_document(op.api)["paths"][op.spec_path_key][op.method.lower()]
        links = raw["responses"][str(op.success_status)].get("links", {})
        for link in links.values():
            target = link["operationId"]
            if target.startswith(("Delete", "Deregister")) and op.name.startswith(
                ("Create", "Register")
            ):
                assert (op.name, target) in catalogued


def test_a_created_address_is_read_from_the_answer_and_the_request() -> None:
    user = ARN + "/user/u1"
    endpoint = resources.kind("endpoint")
    assert endpoint.created_address(
        {"AppInstanceUserArn": user}, {"AppInstanceUserArn": "other", "EndpointId": "e1"}
    ) == {"AppInstanceUserArn": user, "EndpointId": "e1"}
    account = resources.kind("account")
    assert account.created_address({}, {"Account": {"AccountId": "a1"}}) == {"AccountId": "a1"}
    assert account.created_address({}, {"Account": "malformed"}) is None


def test_the_clean_up_deletes_what_lives_in_or_names_a_resource_first() -> None:
    order = resources.clean_up_order
    assert order("endpoint") < order("user") < order("app-instance")
    assert order("admin") < order("user") and order("admin") < order("bot")
    assert order("bot") < order("app-instance")


def test_the_derived_tables_say_what_the_hand_written_ones_said() -> None:
    assert resources.arn_members() == {
        "AppInstanceArn": frozenset({"app-instance"}),
        "AppInstanceUserArn": frozenset({"user"}),
        "AppInstanceBotArn": frozenset({"bot"}),
        "AppInstanceAdminArn": frozenset({"user", "bot"}),
        "Arn": frozenset({"user", "bot"}),  # Identity: a user or a bot
    }
    assert set(resources.naming_members()) == {
        "AppInstanceArn",
        "AppInstanceUserArn",
        "AppInstanceBotArn",
        "AppInstanceAdminArn",
        "EndpointId",
        "ResourceARN",
        "AccountId",
    }
    assert resources.naming_members()["ResourceARN"] == ("app-instance", "user", "bot")
    assert {
        "CreateAppInstance",
        "CreateAppInstanceUser",
        "CreateAppInstanceBot",
        "CreateAppInstanceAdmin",
        "RegisterAppInstanceUserEndpoint",
        "CreateAccount",
    } == ledger.CREATE_OPERATIONS
    assert {kind: deleter for kind, (deleter, _) in ledger.DELETERS.items()} == {
        "endpoint": "DeregisterAppInstanceUserEndpoint",
        "admin": "DeleteAppInstanceAdmin",
        "bot": "DeleteAppInstanceBot",
        "user": "DeleteAppInstanceUser",
        "app-instance": "DeleteAppInstance",
        "account": "DeleteAccount",
    }
    assert [resources.kind(k).title for k in IDS] == [
        "AppInstance",
        "AppInstanceUser",
        "AppInstanceBot",
        "AppInstanceAdmin",
        "AppInstanceUserEndpoint",
        "Account",
    ]


def test_the_ledger_records_an_admin_by_the_members_it_was_created_with() -> None:
    admin = ledger.created_resource(
        "CreateAppInstanceAdmin",
        {"AppInstanceArn": ARN, "AppInstanceAdminArn": ARN + "/user/u1"},
        {"AppInstanceAdmin": {"Arn": ARN + "/user/u1"}, "AppInstanceArn": ARN},
    )
    assert admin == ledger.Resource(
        "admin", (("AppInstanceAdminArn", ARN + "/user/u1"), ("AppInstanceArn", ARN))
    )
    assert ledger.created_resource("CreateAppInstanceUser", {}, {"Unexpected": 1}) is None
    assert ledger.created_resource("DescribeAppInstance", {}, {"AppInstanceArn": ARN}) is None


ARN_KINDS = [k for k in KINDS if k.arn]


@pytest.mark.parametrize("kind", ARN_KINDS, ids=[k.name for k in ARN_KINDS])
@settings(max_examples=20, database=None)
@given(data=st.data())
def test_arns_of_a_kind_have_its_shape_and_the_specs_pattern(
    kind: resources.Kind, data: st.DataObject
) -> None:
    arn = data.draw(strategies.arns_of(kind.name))
    shape = re.escape(kind.resource_shape)
    shape = shape.replace(re.escape("{id}"), "[0-9a-f-]{36}")
    shape = shape.replace(re.escape("{AppInstanceUserId}"), "[^/]+")
    assert re.fullmatch(r"arn:aws:chime:[a-z0-9-]+:[0-9]{12}:" + shape, arn, re.DOTALL), arn
    pattern = spec.load_document(spec.IDENTITY)["components"]["schemas"]["ChimeArn"]["pattern"]
    assert spec.pattern_matches(pattern, arn)


def test_a_kind_without_an_arn_is_refused_by_arns_of() -> None:
    from hypothesis.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="endpoint has no ARN"):
        strategies.arns_of("endpoint")
    with pytest.raises(InvalidArgument, match="not one of"):
        strategies.arns_of("channel")
