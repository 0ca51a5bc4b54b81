"""The constraint catalogue lists what the spec constrains, once each."""

from __future__ import annotations

import math

import pytest

from chime_conformance.contract import constraints as catalogue
from chime_conformance.contract import spec

OPERATIONS = spec.operations()
ARN_PATTERN = (
    r"^arn:[a-z0-9-\.]{1,63}:[a-z0-9-\.]{0,63}:[a-z0-9-\.]{0,63}:[a-z0-9-\.]{0,63}:[^/].{0,1023}$"
)


def _op(name: str) -> spec.Operation:
    return spec.operation(name)  # a lost operation is a KeyError: these tests fail


def _ids(name: str, keyword: str) -> list[str]:
    return [c.id for c in catalogue.constraints(_op(name)) if c.keyword == keyword]


def test_create_app_instance_has_five_max_lengths() -> None:
    assert _ids("CreateAppInstance", "maxLength") == [
        "CreateAppInstance:Name:maxLength",
        "CreateAppInstance:Metadata:maxLength",
        "CreateAppInstance:ClientRequestToken:maxLength",
        "CreateAppInstance:Tags[].Key:maxLength",
        "CreateAppInstance:Tags[].Value:maxLength",
    ]


def test_nested_members_and_list_items_have_paths() -> None:
    ids = {c.id for c in catalogue.constraints(_op("CreateAppInstanceBot"))}
    assert "CreateAppInstanceBot:Configuration.Lex.LexBotAliasArn:pattern" in ids
    assert "CreateAppInstanceBot:Configuration.Lex.InvokedBy.StandardMessages:enum" in ids
    assert "CreateAppInstanceBot:Tags:maxItems" in ids
    assert "CreateAppInstanceBot:Tags[].Key:required" in ids


def test_every_id_is_unique_and_finds_its_constraint() -> None:
    everything = catalogue.all_constraints()
    ids = [c.id for c in everything]
    assert len(ids) == len(set(ids))
    for c in everything:
        assert catalogue.constraint(c.id) == c


def test_vacuous_keywords_are_not_constraints() -> None:
    for c in catalogue.all_constraints():
        assert not (c.keyword == "pattern" and catalogue.is_vacuous_pattern(c.bound)), c.id
        assert not (c.keyword in ("minLength", "minItems") and c.bound == 0), c.id


def test_types_are_listed_only_on_request_and_only_where_the_wire_carries_them() -> None:
    op = _op("ListAppInstanceUsers")
    assert not [c for c in catalogue.constraints(op) if c.keyword == "type"]
    types = {c.member for c in catalogue.constraints(op, include_types=True) if c.keyword == "type"}
    assert types == {"MaxResults"}  # the ARN and NextToken are text on the query string


def test_rules_are_json_schema_keywords() -> None:
    for c in catalogue.all_constraints():
        assert c.keyword in catalogue.KEYWORDS


def test_arn_lengths_are_shadowed_by_the_arn_pattern() -> None:
    by_keyword = {c.keyword: c for c in catalogue.constraints(_op("DescribeAppInstance"))}
    assert by_keyword["maxLength"].shadowed_by == "pattern"
    assert by_keyword["minLength"].shadowed_by == "pattern"
    assert by_keyword["pattern"].probeable


def test_lex_alias_arn_max_length_can_be_broken_alone() -> None:
    c = catalogue.constraint("CreateAppInstanceBot:Configuration.Lex.LexBotAliasArn:maxLength")
    assert c.probeable and c.bound == 2048


def test_pattern_length_ranges() -> None:
    assert catalogue.pattern_length_range(ARN_PATTERN) == (10, 1284)
    assert catalogue.pattern_length_range(
        r"^[A-Za-z0-9]([A-Za-z0-9:\-_.@]{0,62}[A-Za-z0-9])?$"
    ) == (
        1,
        64,
    )
    assert catalogue.pattern_length_range(r"^.*\S.*$") == (1, math.inf)


def test_is_vacuous_pattern() -> None:
    assert catalogue.is_vacuous_pattern(".*")
    assert not catalogue.is_vacuous_pattern("^.*$")
    assert not catalogue.is_vacuous_pattern(r"^[-_a-zA-Z0-9]*$")
    assert not catalogue.is_vacuous_pattern(r".+@.+\..+")


def test_paths_split_and_lead_to_member_schemas() -> None:
    assert catalogue.split_path("Tags[].Key") == ["Tags", "[]", "Key"]
    assert catalogue.split_path("TagKeys[]") == ["TagKeys", "[]"]
    schema = catalogue.member_schema(_op("CreateAppInstance"), "Tags[].Key")
    assert schema["maxLength"] == 128


def test_unknown_id_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        catalogue.constraint("CreateAppInstance:Nope:maxLength")


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_every_required_member_is_listed(op: spec.Operation) -> None:
    listed = {c.member for c in catalogue.constraints(op) if c.keyword == "required"}
    assert set(op.input_schema.get("required", [])) <= listed
