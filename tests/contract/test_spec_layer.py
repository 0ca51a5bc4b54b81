"""chime_conformance.contract.spec: wire parsing, validation and ECMA pattern semantics."""

from __future__ import annotations

import json

import pytest

from chime_conformance.contract import spec

NAME_CLASS = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u0084\u0086-\u009F\uD800-\uDFFF\uFFFE\uFFFF]*$"


def make_operation(**overrides):
    """A small operation shaped like CreateAppInstanceUser, independent of spec/."""
    fields = dict(
        api=spec.IDENTITY,
        name="ExampleOperation",
        method="POST",
        path="/things/{thingArn}",
        query_literals={},
        success_status=201,
        family="Things",
        parameters=(
            spec.Parameter(
                "thingArn", "ThingArn", "path", True, {"type": "string", "pattern": "^arn:[a-z]+$"}
            ),
            spec.Parameter(
                "max-results",
                "MaxResults",
                "query",
                False,
                {"type": "integer", "minimum": 1, "maximum": 50},
            ),
        ),
        body_schema={
            "type": "object",
            "required": ["Name"],
            "properties": {
                "Name": {"type": "string", "minLength": 1, "maxLength": 4, "pattern": NAME_CLASS},
                "Tags": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 2,
                    "items": {
                        "type": "object",
                        "required": ["Key"],
                        "properties": {"Key": {"type": "string"}},
                    },
                },
                "Mode": {"type": "string", "enum": ["ALL", "NONE"]},
            },
        },
        body_required=True,
        response_schema=None,
        errors=("BadRequestException",),
        documented_statuses=(201, 400),
        spec_path_key="/things/{thingArn}",
    )
    fields.update(overrides)
    return spec.Operation(**fields)


def parse(body, *, path="arn:abc", query=None, content_type="application/json"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return spec.parse_request(make_operation(), {"thingArn": path}, query or {}, raw, content_type)


def rules(violations):
    return [(v.member, v.keyword) for v in violations]


def test_a_valid_request_becomes_members_with_typed_query_values():
    members, problems = parse({"Name": "abc", "Unknown": 1}, query={"max-results": ["7"]})
    assert problems == []
    assert members == {"Name": "abc", "ThingArn": "arn:abc", "MaxResults": 7}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, [("Name", "required")]),
        ({"Name": ""}, [("Name", "minLength")]),
        ({"Name": "abcde"}, [("Name", "maxLength")]),
        ({"Name": None}, [("Name", "type")]),
        ({"Name": 5}, [("Name", "type")]),
        ({"Name": "a\x01"}, [("Name", "pattern")]),
        ({"Name": "a", "Mode": "all"}, [("Mode", "enum")]),
        ({"Name": "a", "Tags": []}, [("Tags", "minItems")]),
        ({"Name": "a", "Tags": [{}]}, [("Tags.0.Key", "required")]),
    ],
)
def test_each_broken_constraint_is_named_by_member_and_rule(body, expected):
    assert rules(parse(body)[1]) == expected


@pytest.mark.parametrize("body", [b"\x0c", b"\x0b", b" \x0c\n", b" \t\r\n"])
def test_a_body_of_whitespace_is_not_json_and_not_an_empty_body(body):
    # found by schemathesis' negative data: "\x0c" and " \t\n\r" were read as no body
    assert rules(parse(body)[1]) == [("(body)", "json")]


def test_an_absent_body_has_no_members():
    assert rules(parse(b"")[1]) == [("Name", "required")]


def test_path_and_query_values_are_validated_too():
    _, problems = parse({"Name": "a"}, path="ARN:x", query={"max-results": ["51"]})
    assert rules(problems) == [("MaxResults", "maximum"), ("ThingArn", "pattern")]


@pytest.mark.parametrize("value", [["x"], ["1.5"], [""], ["1", "2"]])
def test_a_query_value_that_is_not_one_integer_is_refused(value):
    _, problems = parse({"Name": "a"}, query={"max-results": value})
    assert len(problems) == 1 and problems[0].member in ("MaxResults", "max-results")


@pytest.mark.parametrize(
    ("body", "content_type", "keyword"),
    [
        (b"{not json", "application/json", "json"),
        (b"\xff\xfe{}", "application/json", "json"),
        (b"[1, 2]", "application/json", "type"),
        (b'{"Name": NaN}', "application/json", "json"),
        (b'{"Name": "a"}', "text/xml", "contentType"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", "json"),
        (
            json.dumps(
                {
                    "Name": "a",
                    "Tags": [
                        [
                            [
                                [
                                    [
                                        [
                                            [
                                                [
                                                    [
                                                        [
                                                            [
                                                                [
                                                                    [
                                                                        [
                                                                            [
                                                                                [
                                                                                    [
                                                                                        [
                                                                                            [
                                                                                                [
                                                                                                    [
                                                                                                        [
                                                                                                            [
                                                                                                                [
                                                                                                                    [
                                                                                                                        [
                                                                                                                            [
                                                                                                                                [
                                                                                                                                    [
                                                                                                                                        [
                                                                                                                                            [
                                                                                                                                                [
                                                                                                                                                    [
                                                                                                                                                        [
                                                                                                                                                            [
                                                                                                                                                                [
                                                                                                                                                                    [
                                                                                                                                                                        [
                                                                                                                                                                            [
                                                                                                                                                                                [
                                                                                                                                                                                    [
                                                                                                                                                                                        [
                                                                                                                                                                                            [
                                                                                                                                                                                                [
                                                                                                                                                                                                    [
                                                                                                                                                                                                        [
                                                                                                                                                                                                            [
                                                                                                                                                                                                                [
                                                                                                                                                                                                                    [
                                                                                                                                                                                                                        [
                                                                                                                                                                                                                            [
                                                                                                                                                                                                                                [
                                                                                                                                                                                                                                    [
                                                                                                                                                                                                                                        [
                                                                                                                                                                                                                                            [
                                                                                                                                                                                                                                                [
                                                                                                                                                                                                                                                    [
                                                                                                                                                                                                                                                        [
                                                                                                                                                                                                                                                            [
                                                                                                                                                                                                                                                                [
                                                                                                                                                                                                                                                                    [
                                                                                                                                                                                                                                                                        [
                                                                                                                                                                                                                                                                            [
                                                                                                                                                                                                                                                                                [
                                                                                                                                                                                                                                                                                    [
                                                                                                                                                                                                                                                                                        [
                                                                                                                                                                                                                                                                                            [
                                                                                                                                                                                                                                                                                                [
                                                                                                                                                                                                                                                                                                    [
                                                                                                                                                                                                                                                                                                        [
                                                                                                                                                                                                                                                                                                            []
                                                                                                                                                                                                                                                                                                        ]
                                                                                                                                                                                                                                                                                                    ]
                                                                                                                                                                                                                                                                                                ]
                                                                                                                                                                                                                                                                                            ]
                                                                                                                                                                                                                                                                                        ]
                                                                                                                                                                                                                                                                                    ]
                                                                                                                                                                                                                                                                                ]
                                                                                                                                                                                                                                                                            ]
                                                                                                                                                                                                                                                                        ]
                                                                                                                                                                                                                                                                    ]
                                                                                                                                                                                                                                                                ]
                                                                                                                                                                                                                                                            ]
                                                                                                                                                                                                                                                        ]
                                                                                                                                                                                                                                                    ]
                                                                                                                                                                                                                                                ]
                                                                                                                                                                                                                                            ]
                                                                                                                                                                                                                                        ]
                                                                                                                                                                                                                                    ]
                                                                                                                                                                                                                                ]
                                                                                                                                                                                                                            ]
                                                                                                                                                                                                                        ]
                                                                                                                                                                                                                    ]
                                                                                                                                                                                                                ]
                                                                                                                                                                                                            ]
                                                                                                                                                                                                        ]
                                                                                                                                                                                                    ]
                                                                                                                                                                                                ]
                                                                                                                                                                                            ]
                                                                                                                                                                                        ]
                                                                                                                                                                                    ]
                                                                                                                                                                                ]
                                                                                                                                                                            ]
                                                                                                                                                                        ]
                                                                                                                                                                    ]
                                                                                                                                                                ]
                                                                                                                                                            ]
                                                                                                                                                        ]
                                                                                                                                                    ]
                                                                                                                                                ]
                                                                                                                                            ]
                                                                                                                                        ]
                                                                                                                                    ]
                                                                                                                                ]
                                                                                                                            ]
                                                                                                                        ]
                                                                                                                    ]
                                                                                                                ]
                                                                                                            ]
                                                                                                        ]
                                                                                                    ]
                                                                                                ]
                                                                                            ]
                                                                                        ]
                                                                                    ]
                                                                                ]
                                                                            ]
                                                                        ]
                                                                    ]
                                                                ]
                                                            ]
                                                        ]
                                                    ]
                                                ]
                                            ]
                                        ]
                                    ]
                                ]
                            ]
                        ]
                    ],
                }
            ).encode(),
            "application/json",
            "depth",
        ),
    ],
)
def test_unreadable_bodies_are_violations_not_exceptions(body, content_type, keyword):
    _, problems = parse(body, content_type=content_type)
    assert [p.keyword for p in problems] == [keyword]


def test_the_message_names_member_and_rule_as_aws_does():
    _, problems = parse({"Name": "abcde"})
    assert spec.format_violations(problems) == (
        "1 validation error detected: Value at 'Name' failed to satisfy constraint: "
        "Member must have length less than or equal to 4"
    )


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        (r"^[a-z]+$", "abc\n", False),  # Python's $ would accept the newline
        (r"^\d{2}$", "\u0661\u0662", False),  # Arabic-Indic digits are not ECMA \d
        (r"^\d{2}$", "12", True),
        (r"^.*\S.*$", "\u00a0\u2003", False),  # ECMA \s covers these
        (r"^.*\S.*$", "\x1c", True),  # Python's \s includes \x1c, ECMA's does not
        (r"^[\s]+$", "\ufeff", True),
        (r".*", "any\nthing", True),  # a search: the empty match suffices
        (r"^.*\S.*$", "a\rb", False),  # ECMA's . excludes \r, \u2028, \u2029
        (r"^a.b$", "a\u2028b", False),
        (r"^a[.]b$", "a.b", True),
        (r"^a\.b$", "a.b", True),
        (NAME_CLASS, "emoji \U0001f600 ok", True),
        (NAME_CLASS, "bell \x07", False),
        (r"^a\$b$", "a$b", True),
        (r"^[$]$", "$", True),
    ],
)
def test_patterns_have_ecma_semantics(pattern, value, matches):
    assert spec.pattern_matches(pattern, value) is matches


def test_operations_split_query_literals_from_the_path_key():
    assert spec._split_path_key("/tags?operation=tag-resource") == (
        "/tags",
        {"operation": "tag-resource"},
    )


def test_input_schema_joins_parameters_and_body_members():
    schema = make_operation().input_schema
    assert set(schema["properties"]) == {"ThingArn", "MaxResults", "Name", "Tags", "Mode"}
    assert schema["required"] == ["ThingArn", "Name"]
    assert make_operation().location_of("MaxResults") == ("query", "max-results")
    assert make_operation().location_of("Name") == ("body", "Name")


def test_every_spec_operation_loads_with_one_success_status():
    for op in spec.operations():
        assert 200 <= op.success_status < 300
        assert op.name == spec.operation(op.name).name


def test_an_empty_path_label_is_a_missing_member():
    _, problems = parse({"Name": "a"}, path="")
    assert rules(problems) == [("ThingArn", "required")]
