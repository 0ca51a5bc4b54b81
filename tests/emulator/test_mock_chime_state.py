"""The state a test starts from (fresh, built, or a snapshot), and failures on
purpose for a client's retry logic: throttling and slow answers."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import botocore.retryhandler
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError

from chime_conformance.testing import ChimeEmulator, MockChimeError, StateFileError, mock_chime


def names(client: Any) -> list[str]:
    return [instance["Name"] for instance in client.list_app_instances()["AppInstances"]]


def test_the_builder_makes_state_through_the_api(chime_emulator: ChimeEmulator) -> None:
    identity = chime_emulator.identity
    room = chime_emulator.seed.app_instance("support", metadata="m", tags={"team": "care"})
    alice = room.user("alice", name="Alice", tags={"role": "agent"}, expiration_days=30)
    helper = room.bot("helper")
    room.admin(alice)
    room.admin(helper.arn)
    account = chime_emulator.seed.account("acme", account_type="EnterpriseLWA")

    assert identity.describe_app_instance(AppInstanceArn=room.arn)["AppInstance"]["Metadata"] == "m"
    assert identity.list_tags_for_resource(ResourceARN=room.arn)["Tags"] == [
        {"Key": "team", "Value": "care"}
    ]
    user = identity.describe_app_instance_user(AppInstanceUserArn=alice.arn)["AppInstanceUser"]
    assert (user["Name"], user["ExpirationSettings"]["ExpirationDays"]) == ("Alice", 30)
    bot = identity.describe_app_instance_bot(AppInstanceBotArn=helper.arn)["AppInstanceBot"]
    assert bot["Configuration"]["Lex"]["RespondsTo"] == "STANDARD_MESSAGES"
    admins = identity.list_app_instance_admins(AppInstanceArn=room.arn)["AppInstanceAdmins"]
    assert sorted(a["Admin"]["Arn"] for a in admins) == sorted([alice.arn, helper.arn])
    seeded = chime_emulator.accounts.get_account(AccountId=account.account_id)["Account"]
    assert (seeded["AccountType"], seeded["AccountStatus"]) == ("EnterpriseLWA", "Active")


def test_the_builder_reports_what_the_api_refused(chime_emulator: ChimeEmulator) -> None:
    room = chime_emulator.seed.app_instance("support")
    room.user("alice")
    with pytest.raises(ClientError, match="ConflictException"):
        room.user("alice")
    with pytest.raises(MockChimeError, match="refused the account to seed: Expected"):
        chime_emulator.seed.account("acme", account_type="Enterprise")


def test_a_test_starts_from_the_fixtures_fresh_state(chime_emulator: ChimeEmulator) -> None:
    chime_emulator.seed.app_instance("left over")
    chime_emulator.throttle(times=5)
    chime_emulator.reset()  # what the fixture does before each test
    assert names(chime_emulator.identity) == []  # neither the state nor the throttle is left


def test_a_seeded_snapshot_is_visible_and_is_what_reset_returns_to(tmp_path: Path) -> None:
    snapshot = tmp_path / "seed.json"
    with mock_chime() as chime:
        chime.seed.app_instance("from the snapshot").user("alice")
        chime.save_snapshot(snapshot)
    assert json.loads(snapshot.read_text())["format"] == "chime-emulator-state/1"
    with mock_chime(snapshot=snapshot) as chime:
        client = boto3.client("chime-sdk-identity")
        assert names(client) == ["from the snapshot"]
        client.create_app_instance(Name="made in the test")
        chime.reset()
        assert names(client) == ["from the snapshot"]


def test_a_snapshot_of_another_region_is_refused_in_one_sentence(tmp_path: Path) -> None:
    snapshot = tmp_path / "seed.json"
    with mock_chime(region="us-east-1") as chime:
        chime.seed.app_instance("east")
        chime.save_snapshot(snapshot)
    with mock_chime(region="eu-west-1") as chime:
        with pytest.raises(MockChimeError) as refused:
            chime.load_snapshot(snapshot)
        assert "holds state for account 123456789012 in us-east-1, none for account" in str(
            refused.value
        )
        assert "\n" not in str(refused.value)
        assert names(chime.identity) == []


def test_a_missing_or_broken_snapshot_is_refused_and_left_alone(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "chime-emulator-state/1", "identity": [')
    with pytest.raises(StateFileError, match="does not exist"):
        mock_chime(snapshot=tmp_path / "absent.json").start()
    with pytest.raises(StateFileError, match="is not a valid chime-emulator snapshot"):
        mock_chime(snapshot=broken).start()
    assert broken.read_text().endswith("[")


def test_a_throttle_makes_boto3s_retry_logic_retry(chime_emulator: ChimeEmulator) -> None:
    throttled = chime_emulator.throttle("ListAppInstances", times=2)
    client = boto3.client("chime-sdk-identity", config=Config(retries={"mode": "legacy"}))
    answer = client.list_app_instances()
    assert answer["ResponseMetadata"]["RetryAttempts"] == 2
    assert throttled.answered == 2 and throttled.remaining == 0


def test_a_throttled_answer_is_a_429_in_the_aws_error_shape(chime_emulator: ChimeEmulator) -> None:
    chime_emulator.throttle(retry_after=7)
    client = chime_emulator.client(
        "chime-sdk-identity", config=Config(retries={"total_max_attempts": 1})
    )
    with pytest.raises(client.exceptions.ThrottledClientException) as throttled:
        client.create_app_instance(Name="never made")
    response = throttled.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "7"
    assert response["Error"]["Message"] == "Rate exceeded."
    assert names(chime_emulator.identity) == []  # a throttled call is not carried out


def test_legacy_retries_give_up_after_five_attempts_and_standard_ones_do_not_retry(
    chime_emulator: ChimeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # botocore's own decisions; only the jitter of legacy backoff is pinned to 0 s
    monkeypatch.setattr(botocore.retryhandler, "random", SimpleNamespace(random=lambda: 0.0))
    throttled = chime_emulator.throttle(times=50)
    for mode, attempts in (("legacy", 5), ("standard", 1)):
        before = throttled.answered
        client = boto3.client("chime-sdk-identity", config=Config(retries={"mode": mode}))
        with pytest.raises(ClientError) as refused:
            client.list_app_instances()
        assert refused.value.response["ResponseMetadata"]["RetryAttempts"] == attempts - 1
        assert throttled.answered - before == attempts, mode


def test_a_throttle_acts_only_on_its_operation(chime_emulator: ChimeEmulator) -> None:
    throttled = chime_emulator.throttle("DeleteAppInstance")
    chime_emulator.identity.create_app_instance(Name="not throttled")
    assert throttled.answered == 0
    assert names(chime_emulator.identity) == ["not throttled"]


def test_a_slow_answer_makes_a_client_time_out_and_retry(chime_emulator: ChimeEmulator) -> None:
    slowed = chime_emulator.slow(5.0, operation="ListAppInstances")
    client = boto3.client(
        "chime-sdk-identity", config=Config(read_timeout=1, retries={"mode": "standard"})
    )
    answer = client.list_app_instances()
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert slowed.answered == 1


def test_a_delayed_call_cut_short_by_a_reset_is_not_carried_out(
    chime_emulator: ChimeEmulator,
) -> None:
    slowed = chime_emulator.slow(60, operation="CreateAppInstance")
    client = chime_emulator.client(
        "chime-sdk-identity", config=Config(read_timeout=1, retries={"total_max_attempts": 1})
    )
    with pytest.raises(ReadTimeoutError):
        client.create_app_instance(Name="late")
    chime_emulator.reset()
    for _ in range(200):  # the released call answers at once; bounded, not timed
        if slowed.cancelled:
            break
        time.sleep(0.05)
    assert (slowed.answered, slowed.cancelled) == (1, 1)
    assert names(chime_emulator.identity) == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.throttle("NoSuchOperation"), "no operation 'NoSuchOperation'"),
        (lambda c: c.throttle(times=0), "times must be a whole number"),
        (lambda c: c.throttle(retry_after=1.5), "retry_after must be whole seconds"),
        (lambda c: c.slow(-1), "seconds must be a number of seconds, 0 or more"),
        (lambda c: c.slow(1, times=True), "times must be a whole number"),
    ],
)
def test_a_bad_disruption_is_refused_in_one_sentence(
    chime_emulator: ChimeEmulator, call: Any, message: str
) -> None:
    with pytest.raises(MockChimeError, match=message):
        call(chime_emulator)
