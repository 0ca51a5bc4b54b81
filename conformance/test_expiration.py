"""User expiration (docs/contract.md, user-expiration): a lifecycle that needs a
clock the suite can move.

botocore's documentation of PutAppInstanceUserExpirationSettings: a user whose
``CreatedTimestamp + ExpirationDays`` has passed is deleted within 6 hours;
settings changed before the deletion are honoured. Nobody waits days for that:
these tests run where the target offers a movable clock (the emulator's
``/_emulator/clock``, which they move for their own AppInstance only) and are
skipped, with the reason, where it does not.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from chime_conformance import checks
from chime_conformance.wire.client import ChimeClient, Exchange, Signing

from .resources import Resources
from .scenario import Scenario

CLOCK = "/_emulator/clock"
ADMIN_TOKEN_ENV = "CHIME_EMULATOR_ADMIN_TOKEN"
ADMIN_TOKEN_HEADER = "X-Chime-Emulator-Admin-Token"
DAY = 86_400
DELETION_WINDOW = 6 * 3600  # "within 6 hours of expiration"


class TargetClock:
    """The target's movable clock, scoped to one AppInstance."""

    def __init__(self, client: ChimeClient, app_instance_arn: str) -> None:
        self.client = client
        self.app_instance_arn = app_instance_arn

    def advance(self, seconds: int) -> None:
        """Move this AppInstance's clock ``seconds`` on, sent as the moment it
        reaches (read just before): a move retried after its answer was lost
        to a reset then moves the clock once, not twice."""
        self._post({"now": self._now() + seconds, "app_instance_arn": self.app_instance_arn})

    def reset(self) -> None:
        self._post({"reset": True, "app_instance_arn": self.app_instance_arn})

    def _now(self) -> float:
        exchange = _clock_request(self.client, "GET")
        clock = exchange.json if isinstance(exchange.json, dict) else {}
        scoped = clock.get("app_instances") or {}
        if exchange.status != 200 or not isinstance(clock.get("now"), int | float):
            raise RuntimeError(
                f"the target's clock could not be read: {exchange.status} "
                f"{exchange.response.body[:200]!r}"
            )
        return float(clock["now"]) + float(scoped.get(self.app_instance_arn, 0.0))

    def _post(self, request: dict[str, Any]) -> None:
        exchange = _clock_request(self.client, "POST", request)
        if exchange.status != 200:
            raise RuntimeError(
                f"the target's clock refused {request}: {exchange.status} "
                f"{exchange.response.body[:200]!r}"
            )


def admin_headers() -> dict[str, str]:
    token = os.environ.get(ADMIN_TOKEN_ENV)
    return {ADMIN_TOKEN_HEADER: token} if token else {}


def _clock_request(client: ChimeClient, method: str, request: Any = None) -> Exchange:
    body = None if request is None else json.dumps(request).encode()
    headers = {**admin_headers(), **({"Content-Type": "application/json"} if body else {})}
    return client.send(method, CLOCK, body=body, headers=headers, signing=Signing.UNSIGNED)


@pytest.fixture
def target_clock(chime_client: ChimeClient, resources: Resources) -> Iterator[TargetClock]:
    probe = _clock_request(chime_client, "GET")
    if probe.status != 200 or not isinstance(probe.json, dict) or "now" not in probe.json:
        pytest.skip(
            f"the target offers no movable clock (GET {CLOCK} answered {probe.status}); "
            "user expiration takes days to observe without one"
        )
    clock = TargetClock(chime_client, resources.app_instance())
    yield clock
    clock.reset()


def _expiring_user(
    scenario: Scenario, resources: Resources, app_instance_arn: str, days: int | None
) -> str:
    user_id = resources.unique("user")
    members: dict[str, Any] = {
        "AppInstanceArn": app_instance_arn,
        "AppInstanceUserId": user_id,
        "Name": user_id,
        "ClientRequestToken": resources.unique("t"),
    }
    if days is not None:
        members["ExpirationSettings"] = {
            "ExpirationDays": days,
            "ExpirationCriterion": "CREATED_TIMESTAMP",
        }
    return str(scenario.ok("CreateAppInstanceUser", members)["AppInstanceUserArn"])


def _gone(scenario: Scenario, user_arn: str, why: str) -> None:
    """Deleted by now: the moved clock is past the deadline and its 6-hour window,
    so no polling (a target's clock says when its background process has run)."""
    exchange = scenario.client.call("DescribeAppInstanceUser", {"AppInstanceUserArn": user_arn})
    missing = exchange.status in checks.missing_resource_statuses(scenario.strict)
    scenario.expect(
        exchange,
        missing,
        check=checks.USER_EXPIRATION,
        fact=f"a user {why} is deleted (docs/contract.md user-expiration)",
        received=exchange.status,
        documented="404",
    )
    scenario.verifier.verify(exchange, checks.Expectation.valid_input(resource="absent"))


def _still_there(scenario: Scenario, user_arn: str, why: str) -> None:
    exchange = scenario.call("DescribeAppInstanceUser", {"AppInstanceUserArn": user_arn})
    scenario.expect(
        exchange,
        exchange.status == 200,
        check=checks.USER_EXPIRATION,
        fact=f"a user {why} is not deleted (docs/contract.md user-expiration)",
        received=exchange.status,
        documented="200",
    )


def test_a_user_past_its_expiration_days_is_deleted(
    scenario: Scenario, resources: Resources, target_clock: TargetClock
) -> None:
    instance = target_clock.app_instance_arn
    expiring = _expiring_user(scenario, resources, instance, days=1)
    lasting = _expiring_user(scenario, resources, instance, days=None)
    target_clock.advance(DAY + DELETION_WINDOW + 60)
    _gone(scenario, expiring, "past CreatedTimestamp + ExpirationDays and the 6-hour window")
    listing = scenario.call("ListAppInstanceUsers", {"AppInstanceArn": instance})
    listed = {
        user.get("AppInstanceUserArn")
        for user in (listing.json or {}).get("AppInstanceUsers", [])
        if isinstance(user, dict)
    }
    scenario.expect(
        listing,
        expiring not in listed and lasting in listed,
        check=checks.USER_EXPIRATION,
        fact="ListAppInstanceUsers leaves out the expired user and keeps the others",
        received=sorted(str(arn) for arn in listed),
        documented=f"[{lasting}]",
    )


def test_expiration_settings_changed_before_the_deadline_are_honoured(
    scenario: Scenario, resources: Resources, target_clock: TargetClock
) -> None:
    instance = target_clock.app_instance_arn
    extended = _expiring_user(scenario, resources, instance, days=1)
    cleared = _expiring_user(scenario, resources, instance, days=1)
    target_clock.advance(DAY // 2)
    scenario.ok(
        "PutAppInstanceUserExpirationSettings",
        {
            "AppInstanceUserArn": extended,
            "ExpirationSettings": {"ExpirationDays": 3, "ExpirationCriterion": "CREATED_TIMESTAMP"},
        },
    )
    scenario.ok("PutAppInstanceUserExpirationSettings", {"AppInstanceUserArn": cleared})
    target_clock.advance(DAY + DAY // 2 + DELETION_WINDOW)  # two days and 6 hours after creation
    _still_there(scenario, extended, "whose ExpirationDays were extended before the deadline")
    _still_there(scenario, cleared, "whose ExpirationSettings were cleared")
    target_clock.advance(DAY)  # past the extended deadline and its 6-hour window
    _gone(scenario, extended, "past its extended ExpirationDays")
