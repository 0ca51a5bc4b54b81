"""``spec.is_valid_input`` (the valid-request fast path of ``violations_of``) agrees
with jsonschema's judgement of the whole input object, for every operation."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chime_conformance import strategies
from chime_conformance.contract import spec

OPERATIONS = [op for api in spec.APIS for op in spec.operations(api)]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 300),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.sampled_from(["AppInstance", "ADMIN", "Team", "Active", "ENABLED", "x" * 2000]),
    st.sampled_from(
        [
            "arn:aws:chime:us-east-1:123456789012:app-instance/1a2b3c4d-1a2b-1a2b-1a2b-1a2b3c4d5e6f",
            "arn:aws:chime:us-east-1:123456789012:app-instance/1a2b/user/u1",
            "12345678-1234-1234-1234-123456789012",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["Key", "Value", "Name", "Type"]), inner, max_size=3)
    ),
    max_leaves=6,
)


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_the_fast_path_judges_as_jsonschema(op: spec.Operation, data: Any) -> None:
    names = [*sorted(op.input_schema["properties"]), "NotAMember"]
    members = data.draw(st.dictionaries(st.sampled_from(names), values, max_size=len(names)))
    assert op.member_validators is not None  # every operation takes the fast path
    expected = op.input_validator.is_valid(members)
    assert spec.is_valid_input(op, members) == expected
    assert (spec.violations_of(op, members) == []) == expected


def _members_and_schemas(op: spec.Operation, members: dict[str, Any]) -> list[tuple[Any, Any]]:
    """(value, schema) of each top-level member of ``members`` that ``op`` declares."""
    properties = op.input_schema["properties"]
    return [(value, properties[name]) for name, value in members.items() if name in properties]


@pytest.mark.parametrize(
    "op", [op for op in OPERATIONS if strategies.probes(op)], ids=lambda op: op.name
)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_compiled_string_members_judge_every_bound_as_jsonschema(
    op: spec.Operation, data: Any
) -> None:
    """Each side of each constraint (one step inside, one step past), and valid
    requests: the compiled string check answers as jsonschema's validator."""
    probe = data.draw(st.sampled_from(strategies.probes(op)))
    request = data.draw(strategies.probe_requests(probe) | strategies.requests_for(op))
    for value, schema in _members_and_schemas(op, request.members):
        member = spec.StringMember.of(schema)
        if member is not None:
            assert member.is_valid(value) == spec.validator(schema).is_valid(value), (value, schema)


def test_only_plain_string_schemas_are_compiled() -> None:
    assert spec.StringMember.of({"type": "string", "maxLength": 3, "description": "d"})
    assert spec.StringMember.of({"type": "string", "enum": ["A", "B"]})
    assert spec.StringMember.of({"type": "string", "format": "date-time"}) is None
    assert spec.StringMember.of({"type": "string", "enum": ["A", 1]}) is None
    assert spec.StringMember.of({"type": "integer", "maximum": 3}) is None
    member = spec.StringMember.of({"type": "string", "minLength": 2, "pattern": "^[a-z]*$"})
    assert member is not None
    assert [member.is_valid(v) for v in ("ab", "a", "AB", 12, None)] == [True] * 1 + [False] * 4
