"""Users expire (docs/contract.md, user-expiration): moving the emulator's clock
through ``/_emulator/clock`` past ``CreatedTimestamp + ExpirationDays`` deletes
them; settings extended (or cleared) before the deadline are honoured."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from chime_conformance.emulator.server import RunningEmulator, running_emulator
from tests.support.emulator_helpers import clients, plain_request

DAY = 86_400


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator() as running:
        yield running


@pytest.fixture
def identity(emulator: RunningEmulator) -> Any:
    emulator.reset()
    return clients(emulator.url)[0]


def move_clock(emulator: RunningEmulator, **request: Any) -> dict[str, Any]:
    response = plain_request(emulator.url, "POST", "/_emulator/clock", json.dumps(request).encode())
    assert response.status == 200, response.document
    document: dict[str, Any] = response.document
    return document


def expiring_user(identity: Any, instance: str, user_id: str, days: int | None) -> str:
    settings = (
        {"ExpirationSettings": {"ExpirationDays": days, "ExpirationCriterion": "CREATED_TIMESTAMP"}}
        if days
        else {}
    )
    return str(
        identity.create_app_instance_user(
            AppInstanceArn=instance, AppInstanceUserId=user_id, Name=user_id, **settings
        )["AppInstanceUserArn"]
    )


def listed(identity: Any, instance: str) -> set[str]:
    users = identity.list_app_instance_users(AppInstanceArn=instance)["AppInstanceUsers"]
    return {user["AppInstanceUserArn"] for user in users}


def test_a_user_past_its_expiration_days_is_gone(emulator: RunningEmulator, identity: Any) -> None:
    instance = identity.create_app_instance(Name="expiry")["AppInstanceArn"]
    expiring = expiring_user(identity, instance, "expiring", 1)
    lasting = expiring_user(identity, instance, "lasting", None)
    move_clock(emulator, advance_seconds=DAY - 60)
    assert listed(identity, instance) == {expiring, lasting}  # not yet
    moved = move_clock(emulator, advance_seconds=120)
    assert moved["expired"] == [expiring]
    with pytest.raises(identity.exceptions.NotFoundException):
        identity.describe_app_instance_user(AppInstanceUserArn=expiring)
    assert listed(identity, instance) == {lasting}


def test_settings_extended_before_the_deadline_are_honoured(
    emulator: RunningEmulator, identity: Any
) -> None:
    instance = identity.create_app_instance(Name="extended")["AppInstanceArn"]
    extended = expiring_user(identity, instance, "extended", 1)
    cleared = expiring_user(identity, instance, "cleared", 1)
    move_clock(emulator, advance_seconds=DAY // 2)
    identity.put_app_instance_user_expiration_settings(
        AppInstanceUserArn=extended,
        ExpirationSettings={"ExpirationDays": 3, "ExpirationCriterion": "CREATED_TIMESTAMP"},
    )
    identity.put_app_instance_user_expiration_settings(AppInstanceUserArn=cleared)
    move_clock(emulator, advance_seconds=2 * DAY)  # 2.5 days after creation
    assert listed(identity, instance) == {extended, cleared}
    move_clock(emulator, advance_seconds=DAY)  # 3.5 days: only the extension has run out
    assert listed(identity, instance) == {cleared}


def test_a_scoped_clock_expires_only_its_app_instance(
    emulator: RunningEmulator, identity: Any
) -> None:
    moved_instance = identity.create_app_instance(Name="moved")["AppInstanceArn"]
    other_instance = identity.create_app_instance(Name="other")["AppInstanceArn"]
    moved = expiring_user(identity, moved_instance, "moved", 1)
    other = expiring_user(identity, other_instance, "other", 1)
    answer = move_clock(emulator, advance_seconds=2 * DAY, app_instance_arn=moved_instance)
    assert answer["expired"] == [moved]
    assert listed(identity, other_instance) == {other}


def test_the_clock_reads_moves_and_resets(emulator: RunningEmulator, identity: Any) -> None:
    before = plain_request(emulator.url, "GET", "/_emulator/clock").document
    assert before["offset_seconds"] == 0
    assert move_clock(emulator, advance_seconds=3600)["offset_seconds"] == 3600
    target = before["now"] + 10 * DAY
    assert move_clock(emulator, now=target)["now"] >= target
    move_clock(emulator, reset=True)
    assert plain_request(emulator.url, "GET", "/_emulator/clock").document["offset_seconds"] == 0
    move_clock(emulator, advance_seconds=5)
    emulator.reset()  # the reset endpoint resets the clock too
    assert plain_request(emulator.url, "GET", "/_emulator/clock").document["offset_seconds"] == 0


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b"{}", b'{"advance_seconds": -1}', b'{"now": "soon"}'],
    ids=["not-json", "not-an-object", "empty", "backwards", "not-a-number"],
)
def test_a_bad_clock_request_is_one_sentence(emulator: RunningEmulator, body: bytes) -> None:
    response = plain_request(emulator.url, "POST", "/_emulator/clock", body)
    assert (response.status, response.error_type) == (400, "BadRequestException")
    assert "advance_seconds" in response.document["Message"]
