"""The strategies make what they say: valid requests pass the spec's own
validation, and every invalid one breaks exactly the constraint it names.

Parametrized over whatever operations the spec layer lists. Example counts
are small per case (there are some 600 probes) and never exceed the active
Hypothesis profile's ``max_examples`` (the ``ci`` profile keeps them at 8).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from chime_conformance import strategies
from chime_conformance.contract import constraints as catalogue
from chime_conformance.contract import spec
from chime_conformance.strategies import INSIDE, REQUEST_FAULT_KINDS, Probe

OPERATIONS = spec.operations()
PROBES = [probe for op in OPERATIONS for probe in strategies.probes(op)]


def _fault_applies(op: spec.Operation, fault: str) -> bool:
    try:
        strategies.fault_targets(op, fault)
    except InvalidArgument:
        return False
    return True


FAULT_CASES = [
    (op, fault) for op in OPERATIONS for fault in REQUEST_FAULT_KINDS if _fault_applies(op, fault)
]


def _examples(wanted: int) -> Any:
    """Settings for ``wanted`` examples, fewer if the active profile says so."""
    return settings(
        max_examples=min(wanted, settings().max_examples),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def _path(member: str) -> str:
    """A violation's member (``Tags.3.Key``) as a catalogue path (``Tags[].Key``)."""
    return re.sub(r"\.\d+(?=\.|$)", "[]", member)


def _assert_breaks_exactly(op: spec.Operation, members: dict[str, Any], c: Any) -> None:
    found = [(_path(v.member), v.keyword) for v in spec.violations_of(op, members)]
    assert found == [(c.member, c.keyword)], f"{c.id}: expected only that, got {found}"


# --------------------------------------------------------------------------
# Valid and invalid requests of every operation


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_valid_requests_keep_every_constraint(op: spec.Operation) -> None:
    @_examples(25)
    @given(strategies.requests_for(op))
    def check(request: strategies.Request) -> None:
        assert request.valid and request.operation is op
        assert spec.violations_of(op, request.members) == []

    check()


@pytest.mark.parametrize("probe", PROBES, ids=lambda probe: probe.id)
def test_probe_sits_on_its_side_of_the_bound(probe: Probe) -> None:
    op = spec.operation(probe.constraint.operation)

    @_examples(3)
    @given(strategies.probe_requests(probe))
    def check(request: strategies.Request) -> None:
        assert request.constraint == probe.constraint
        if probe.side == INSIDE:
            assert request.valid
            assert spec.violations_of(op, request.members) == []
        else:
            _assert_breaks_exactly(op, request.members, probe.constraint)

    check()


@pytest.mark.parametrize(
    ("op", "fault"), FAULT_CASES, ids=[f"{op.name}-{fault}" for op, fault in FAULT_CASES]
)
def test_fault_requests_break_one_constraint_for_the_intended_reason(
    op: spec.Operation, fault: str
) -> None:
    @_examples(6)
    @given(strategies.requests_for(op, fault=fault))
    def check(request: strategies.Request) -> None:
        assert request.fault == fault and not request.valid
        assert request.constraint is not None
        assert request.constraint.keyword == strategies._internal.requests.FAULT_KEYWORDS[fault]
        _assert_breaks_exactly(op, request.members, request.constraint)

    check()


def test_probes_reach_both_sides_of_each_breakable_constraint() -> None:
    for op in OPERATIONS:
        breakable = [c for c in catalogue.constraints(op) if c.probeable]
        assert len(strategies.probes(op)) == 2 * len(breakable)


# --------------------------------------------------------------------------
# Boundary details


def _create_app_instance() -> spec.Operation:
    return spec.operation("CreateAppInstance")  # lost from the spec: a KeyError, not a skip


def test_astral_characters_count_as_one_character_each() -> None:
    op = _create_app_instance()
    valid = {"Name": "\U0001f600" * 256, "ClientRequestToken": "token-1"}
    assert spec.violations_of(op, valid) == []
    too_long = dict(valid, Name="\U0001f600" * 257)
    assert [(v.member, v.keyword) for v in spec.violations_of(op, too_long)] == [
        ("Name", "maxLength")
    ]


def test_names_include_astral_characters() -> None:
    found = find(
        strategies.resource_names(),
        lambda s: any(ord(c) > 0xFFFF for c in s),
        settings=settings(database=None),
    )
    assert any(ord(c) > 0xFFFF for c in found)


@_examples(50)
@given(strategies.user_names())
def test_user_names_are_one_line_with_a_visible_character(name: str) -> None:
    assert 1 <= len(name) <= 100
    assert not any(c in name for c in "\n\r\u2028\u2029\u0085")
    # ECMA's \S, as the spec means it: U+001C..U+001F are whitespace to
    # Python's str.strip, not to ECMA-262 (nor to Java)
    assert spec.ecma_regex(r"\S").search(name)


@_examples(50)
@given(
    strategies.app_instance_user_arns(
        app_instance_arn="arn:aws:chime:us-east-1:123456789012:app-instance/abc"
    )
)
def test_user_arns_live_under_the_given_app_instance(arn: str) -> None:
    prefix = "arn:aws:chime:us-east-1:123456789012:app-instance/abc/user/"
    assert arn.startswith(prefix)
    assert spec.pattern_matches(strategies._internal.kinds.USER_ID_PATTERN, arn[len(prefix) :])


@_examples(50)
@given(st.one_of(strategies.app_instance_arns(), strategies.app_instance_bot_arns()))
def test_arns_have_the_resource_structure(arn: str) -> None:
    uuid = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    shape = rf"arn:aws:chime:[a-z]{{2}}-[a-z]+-[0-9]:[0-9]{{12}}:app-instance/{uuid}(/bot/{uuid})?"
    assert re.fullmatch(shape, arn)


@_examples(50)
@given(strategies.enum_near_misses(("ALL", "NONE")))
def test_enum_near_misses_are_never_allowed(value: str) -> None:
    assert isinstance(value, str) and value not in ("ALL", "NONE")


@_examples(30)
@given(strategies.tag_lists(min_size=50, max_size=50))
def test_tag_lists_do_not_repeat_keys(tags: list[dict[str, str]]) -> None:
    assert len({tag["Key"] for tag in tags}) == 50


@_examples(30)
@given(strategies.strings_of_length(r"^([A-Za-z]_?)+$", 101))
def test_strings_of_length_hit_the_length_exactly(value: str) -> None:
    assert len(value) == 101 and re.fullmatch(r"([A-Za-z]_?)+", value)


def test_pinned_members_are_kept_unless_the_fault_targets_them() -> None:
    op = _create_app_instance()
    pinned = {"Name": "pinned name"}

    @_examples(20)
    @given(
        strategies.requests_for(op, pinned=pinned),
        strategies.requests_for(op, fault="too_long", pinned=pinned),
    )
    def check(valid: strategies.Request, faulty: strategies.Request) -> None:
        assert valid.members["Name"] == "pinned name"
        assert faulty.constraint is not None
        if faulty.constraint.member != "Name":
            assert faulty.members["Name"] == "pinned name"

    check()


# --------------------------------------------------------------------------
# Bad arguments fail at once


BAD_CALLS = {
    "unknown fault": lambda: strategies.requests_for(OPERATIONS[0], fault="too_loud"),
    "unknown operation": lambda: strategies.requests_for("CreateNothing"),
    "operation of the wrong type": lambda: strategies.requests_for(42),  # type: ignore[arg-type]
    "fault the operation cannot have": lambda: strategies.requests_for(
        "CreateAccount", fault="below_minimum"
    ),
    "pinned unknown member": lambda: strategies.requests_for("CreateAccount", pinned={"Nome": "x"}),
    "pinned invalid value": lambda: strategies.requests_for(
        "CreateAccount", pinned={"Name": "   "}
    ),
    "pinned strategy": lambda: strategies.requests_for(
        "CreateAccount", pinned={"Name": st.just("x")}
    ),
    "pinned not a mapping": lambda: strategies.requests_for(
        "CreateAccount", pinned=[("Name", "x")]
    ),  # type: ignore[arg-type]
    "probe of the wrong type": lambda: strategies.probe_requests("CreateAccount:Name:maxLength"),  # type: ignore[arg-type]
    "schema not a mapping": lambda: strategies.values_for("string"),  # type: ignore[arg-type]
    "untyped schema": lambda: strategies.values_for({"minLength": 1}),
    "impossible string sizes": lambda: strategies.strings_matching("^[a-z]{3}$", min_size=4),
    "negative size": lambda: strategies.strings_matching("^a*$", min_size=-1),
    "length the pattern cannot have": lambda: strategies.strings_of_length("^[a-z]{3}$", 4),
    "name longer than the spec allows": lambda: strategies.resource_names(max_size=257),
    "user name sizes reversed": lambda: strategies.user_names(min_size=5, max_size=4),
    "tag list of 51": lambda: strategies.tag_lists(max_size=51),
    "region not a region": lambda: strategies.app_instance_arns(region="US East"),
    "account not 12 digits": lambda: strategies.lex_bot_alias_arns(account="1234"),
    "parent not an AppInstance ARN": lambda: strategies.app_instance_bot_arns(
        app_instance_arn="arn:aws:s3:::b"
    ),
    "max_results of zero": lambda: strategies.max_results(maximum=0),
    "empty enum": lambda: strategies.enum_near_misses(()),
}


@pytest.mark.parametrize("call", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_bad_arguments_raise_invalid_argument_at_once(call: Any) -> None:
    if "CreateAccount" in repr(call.__code__.co_consts):
        # without it every such call is refused for naming no operation: right error, wrong reason
        assert _has("CreateAccount"), "CreateAccount is no longer in the spec"
    with pytest.raises(InvalidArgument):
        call()


def _has(name: str) -> bool:
    return any(op.name == name for op in OPERATIONS)


def test_a_shadowed_constraint_has_no_outside_values() -> None:
    shadowed = [c for op in OPERATIONS for c in catalogue.constraints(op) if not c.probeable]
    assert shadowed, "the spec has no shadowed constraint: nothing to test"
    c = shadowed[0]
    with pytest.raises(InvalidArgument, match="shadowed"):
        strategies.values_outside(spec.operation(c.operation), c)


def test_public_names_are_exported_and_documented() -> None:
    for name in strategies.__all__:
        thing = getattr(strategies, name)
        if callable(thing) and not isinstance(thing, type):
            assert thing.__doc__, f"strategies.{name} has no docstring"


def test_regex_classes_become_code_point_intervals_without_surrogates() -> None:
    from re import _parser as sre  # type: ignore[attr-defined]

    from chime_conformance.strategies._internal.patterns import class_intervals

    def intervals(pattern: str) -> list[tuple[int, int]]:
        return class_intervals(sre.parse(pattern)[0][1])

    assert intervals("[a-c0b-d]") == [(0x30, 0x30), (0x61, 0x64)]
    assert intervals("[^ab]") == [(0, 0x60), (0x63, 0xD7FF), (0xE000, 0x10FFFF)]
    assert intervals("[\ud000-\ue000]") == [(0xD000, 0xD7FF), (0xE000, 0xE000)]


def _spec_patterns(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return own + [p for value in node.values() for p in _spec_patterns(value)]
    if isinstance(node, list):
        return [p for item in node for p in _spec_patterns(item)]
    return []


def test_item_widths_add_up_as_sre_measures_a_sequence() -> None:
    """The cached per-item widths give what sre's ``getwidth`` gives for every
    sequence a draw walks (whole patterns, repeated bodies, branches, groups)."""
    from re import _constants as sre_c  # type: ignore[attr-defined]
    from re import _parser as sre  # type: ignore[attr-defined]

    from chime_conformance.strategies._internal import patterns

    def sequences(items: list[Any]) -> Any:
        yield items
        for op, arg in items:
            if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
                yield from sequences(list(arg[2]))
                yield list(arg[2]) * 40  # a repetition drawn as a sequence
            elif op is sre_c.SUBPATTERN:
                yield from sequences(list(arg[-1]))
            elif op is sre_c.BRANCH:
                for alternative in arg[1]:
                    yield from sequences(list(alternative))

    hand_written = [r"[0-9a-f]{32}", r"[a-z][a-z0-9.]{0,20}[a-z0-9]@example\.(com|org)"]
    patterns_seen = {
        *hand_written,
        *(p for api in spec.APIS for p in _spec_patterns(spec.load_document(api))),
    }
    assert len(patterns_seen) > 10
    for pattern in patterns_seen:
        for items in sequences(list(patterns._parsed(pattern))):
            low, high = sre.SubPattern(sre.State(), items).getwidth()
            assert patterns._width(items) == (low, min(high, sre.MAXREPEAT)), pattern
