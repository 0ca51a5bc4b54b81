"""Every admin body either works or gets a 400 with a sentence: never a 5xx,
whatever the JSON (integers of hundreds of digits, floats out of range, deep
nesting, wrong types) or the bytes (not UTF-8, not JSON)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from chime_conformance.emulator.app import EmulatorApp, EmulatorConfig
from chime_conformance.emulator.expiration import LATEST_NOW
from chime_conformance.emulator.iam import OTHER_TEST_IDENTITY

HUGE = int("1" + "0" * 400)
ENDPOINTS = ("/_emulator/clock", "/_emulator/accounts", "/_emulator/reset")
NAMES = (
    "advance_seconds",
    "now",
    "reset",
    "app_instance_arn",
    "Name",
    "AccountType",
    "AccountStatus",
    "AwsAccountId",
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=False)
    | st.sampled_from(["Team", "EnterpriseLWA", "Active", "Suspended", "123456789012"])
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=8,
)
bodies = st.dictionaries(st.sampled_from(NAMES), json_values, max_size=3).map(json.dumps) | (
    json_values.map(json.dumps)
)


@pytest.fixture(scope="module")
def app() -> Client:
    return Client(EmulatorApp(EmulatorConfig()))


def post(client: Client, path: str, body: bytes | str) -> tuple[int, Any]:
    response = client.post(path, data=body, headers={"Content-Type": "application/json"})
    return response.status_code, json.loads(response.data)


def assert_works_or_says_why(status: int, answer: Any) -> None:
    assert status in (200, 201, 400), (status, answer)
    if status == 400:
        message = answer["Message"]
        assert message and "\n" not in message and "Traceback" not in message


@pytest.mark.parametrize("path", ENDPOINTS)
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
@example(body=json.dumps({"advance_seconds": HUGE}))
@example(body=json.dumps({"now": HUGE}))
@example(body=json.dumps({"now": -HUGE}))
@example(body=json.dumps({"advance_seconds": 1e308}))
@example(body=json.dumps({"app_instance_arn": HUGE, "advance_seconds": 1}))
@example(body=json.dumps({"app_instance_arn": "x", "now": HUGE}))
@example(body=json.dumps({"Name": HUGE}))
@example(body=json.dumps({"Name": "n", "AwsAccountId": HUGE}))
@example(body=json.dumps({"Name": "n", "AwsAccountId": [1]}))
@example(body=json.dumps({"Name": "n", "AwsAccountId": {"a": 1}}))
def test_an_admin_body_works_or_gets_a_400_with_a_sentence(
    app: Client, path: str, body: str
) -> None:
    assert_works_or_says_why(*post(app, path, body))


@pytest.mark.parametrize("path", ENDPOINTS[:2])
@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe not utf-8", b'{"now": 1', b"[" * 100 + b"]" * 100, b"NaN", b'{"now": NaN}'],
)
def test_admin_bytes_that_are_not_json_get_a_400(app: Client, path: str, raw: bytes) -> None:
    status, answer = post(app, path, raw)
    assert status == 400
    assert_works_or_says_why(status, answer)


@pytest.mark.parametrize(
    ("request_body", "says"),
    [
        ({"advance_seconds": HUGE}, "(0 to 253402300799)"),
        ({"now": LATEST_NOW + 1}, "(0 to 253402300799)"),
        ({"now": -1}, "(0 to 253402300799)"),
        ({"advance_seconds": 1, "now": 5}, "Expected"),
        ({"app_instance_arn": "a" * 1601, "advance_seconds": 1}, "at most 1600 characters"),
    ],
)
def test_a_clock_out_of_range_is_a_400_that_says_the_range(
    app: Client, request_body: dict[str, Any], says: str
) -> None:
    status, answer = post(app, "/_emulator/clock", json.dumps(request_body))
    assert status == 400 and says in answer["Message"]


def test_a_clock_moved_to_the_edge_of_its_range_works_and_beyond_does_not(app: Client) -> None:
    assert post(app, "/_emulator/clock", json.dumps({"now": LATEST_NOW}))[0] == 200
    status, answer = post(app, "/_emulator/clock", json.dumps({"advance_seconds": 2}))
    assert status == 400 and "outside 0 to 253402300799" in answer["Message"]
    assert post(app, "/_emulator/clock", json.dumps({"reset": True}))[0] == 200


def test_an_account_can_be_seeded_in_another_identitys_account() -> None:
    other = OTHER_TEST_IDENTITY.account_id
    config = EmulatorConfig(identities=(OTHER_TEST_IDENTITY,))
    client = Client(EmulatorApp(config))
    status, answer = post(
        client, "/_emulator/accounts", json.dumps({"Name": "theirs", "AwsAccountId": other})
    )
    assert status == 201 and answer["Account"]["AwsAccountId"] == other
    status, answer = post(
        client, "/_emulator/accounts", json.dumps({"Name": "x", "AwsAccountId": "999999999999"})
    )
    assert status == 400 and "AwsAccountId" in answer["Message"]
