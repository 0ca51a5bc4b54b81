"""``mock_chime`` as a context manager and a decorator: what it points the
environment's clients at, what it restores, and how it nests (or refuses to)."""

from __future__ import annotations

import asyncio
import os
import threading
import unittest
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from chime_conformance.emulator.faults import FaultError
from chime_conformance.testing import (
    ChimeEmulator,
    MockChimeError,
    active_emulator,
    mock_chime,
)

ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_CHIME_SDK_IDENTITY", "AWS_ENDPOINT_URL_CHIME")


def names() -> list[str]:
    """The AppInstances a client made from the environment alone sees."""
    answer = boto3.client("chime-sdk-identity").list_app_instances()
    return [instance["Name"] for instance in answer["AppInstances"]]


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No AWS variable from the machine: each test sets what it means."""
    for name in list(os.environ):
        if name.startswith("AWS_") and name != "AWS_CA_BUNDLE":
            monkeypatch.delenv(name)


def test_clients_created_inside_talk_to_the_emulator_and_the_environment_is_restored(
    clean_environment: None,
) -> None:
    before = dict(os.environ)
    with mock_chime() as chime:
        assert all(os.environ[name] == chime.url for name in ENDPOINT_VARIABLES)
        assert chime.url.startswith("http://127.0.0.1:")
        boto3.client("chime-sdk-identity").create_app_instance(Name="inside")
        assert names() == ["inside"]
        account = boto3.client("chime").create_account(Name="acme")["Account"]
        assert (
            chime.accounts.get_account(AccountId=account["AccountId"])["Account"]["Name"] == "acme"
        )
        assert (os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_DEFAULT_REGION"]) == (
            "testing",
            "us-east-1",
        )
    assert dict(os.environ) == before


def test_the_environment_is_restored_when_the_block_raises(
    clean_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_CHIME", "http://127.0.0.1:9")  # the user's own
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")  # would switch ours off
    before = dict(os.environ)
    with pytest.raises(ZeroDivisionError), mock_chime() as chime:
        assert "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS" not in os.environ
        assert boto3.client("chime").meta.endpoint_url == chime.url
        _ = 1 / 0
    assert dict(os.environ) == before


def test_the_environments_keys_and_region_are_kept_and_accepted(
    clean_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDCIDUMMY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "ci-dummy-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_chime() as chime:
        assert (chime.region, chime.credentials.access_key) == ("eu-west-1", "AKIDCIDUMMY")
        assert os.environ["AWS_ACCESS_KEY_ID"] == "AKIDCIDUMMY"
        boto3.client("chime-sdk-identity").create_app_instance(Name="kept")
        assert names() == ["kept"]
        assert boto3.client("chime").list_accounts()["Accounts"] == []


def test_temporary_credentials_of_the_environment_are_accepted(
    clean_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ASIATEMPORARY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "temporary-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "a-session-token")
    with mock_chime() as chime:
        assert names() == []
        assert chime.identity.list_app_instances()["AppInstances"] == []
        forged = boto3.client(
            "chime-sdk-identity",
            aws_access_key_id="ASIATEMPORARY",
            aws_secret_access_key="temporary-secret",
            aws_session_token="another-token",
        )
        with pytest.raises(ClientError, match="UnrecognizedClient"):
            forged.list_app_instances()


def test_an_explicit_region_wins_and_both_apis_sign_for_it(clean_environment: None) -> None:
    with mock_chime(region="ap-southeast-1") as chime:
        assert os.environ["AWS_DEFAULT_REGION"] == os.environ["AWS_REGION"] == "ap-southeast-1"
        arn = boto3.client("chime-sdk-identity").create_app_instance(Name="r")["AppInstanceArn"]
        assert arn.startswith("arn:aws:chime:ap-southeast-1:")
        assert boto3.client("chime").list_accounts()["Accounts"] == []
        assert chime.region == "ap-southeast-1"


def test_boto3s_default_session_made_before_does_not_leak_its_credentials_in(
    clean_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    outside = boto3.setup_default_session(
        aws_access_key_id="AKIDOUTSIDE", aws_secret_access_key="outside", region_name="us-east-1"
    )
    session = boto3.DEFAULT_SESSION
    assert outside is None and session is not None
    with mock_chime():
        assert names() == []  # signed with the emulator's keys, not the default session's
    assert boto3.DEFAULT_SESSION is session


def test_nested_blocks_stack_and_unwind_in_order(clean_environment: None) -> None:
    with mock_chime() as outer:
        boto3.client("chime-sdk-identity").create_app_instance(Name="outer")
        with mock_chime() as inner:
            assert active_emulator() is inner and inner.url != outer.url
            assert os.environ["AWS_ENDPOINT_URL_CHIME_SDK_IDENTITY"] == inner.url
            assert names() == []
        assert active_emulator() is outer
        assert os.environ["AWS_ENDPOINT_URL_CHIME_SDK_IDENTITY"] == outer.url
        assert names() == ["outer"]


def test_stopping_an_outer_mock_before_the_inner_one_is_refused(clean_environment: None) -> None:
    outer, inner = mock_chime(), mock_chime()
    outer.start()
    inner.start()
    with pytest.raises(MockChimeError, match="stop the innermost one first"):
        outer.stop()
    inner.stop()
    outer.stop()
    with pytest.raises(MockChimeError, match="not started"):
        outer.stop()


def test_a_second_thread_is_refused_while_another_threads_mock_is_active(
    clean_environment: None,
) -> None:
    refused: list[BaseException] = []

    def enter() -> None:
        try:
            with mock_chime():
                pass
        except MockChimeError as error:
            refused.append(error)

    with mock_chime() as chime:
        thread = threading.Thread(target=enter, name="worker")
        thread.start()
        thread.join()
        assert os.environ["AWS_ENDPOINT_URL_CHIME"] == chime.url
    assert len(refused) == 1
    assert "is active in thread 'MainThread'" in str(refused[0])


def test_one_mock_cannot_be_entered_twice_at_once() -> None:
    mock = mock_chime()
    with mock, pytest.raises(MockChimeError, match="already started"):
        mock.start()


def test_active_emulator_outside_any_mock_is_refused() -> None:
    with pytest.raises(MockChimeError, match="no mock_chime is active"):
        active_emulator()


def test_a_decorated_function_gets_a_fresh_emulator_on_each_call(clean_environment: None) -> None:
    @mock_chime
    def create_and_list(name: str) -> tuple[list[str], str]:
        boto3.client("chime-sdk-identity").create_app_instance(Name=name)
        return names(), active_emulator().url

    first, second = create_and_list("a"), create_and_list("b")
    assert (first[0], second[0]) == (["a"], ["b"])
    assert first[1] != second[1]
    assert create_and_list.__name__ == "create_and_list"
    assert "AWS_ENDPOINT_URL_CHIME" not in os.environ


def test_the_decorator_takes_options(clean_environment: None) -> None:
    @mock_chime(region="eu-central-1")
    def region() -> str:
        return active_emulator().region

    assert region() == "eu-central-1"
    with pytest.raises(MockChimeError, match="not with a target"):
        mock_chime(region, region="eu-central-1")
    with pytest.raises(MockChimeError, match="mock_chime has no option regoin"):
        mock_chime(regoin="eu-central-1")


def test_a_decorated_coroutine_runs_in_its_own_emulator(clean_environment: None) -> None:
    @mock_chime
    async def create_and_list() -> list[str]:
        boto3.client("chime-sdk-identity").create_app_instance(Name="async")
        return names()

    assert asyncio.run(create_and_list()) == ["async"]
    assert "AWS_ENDPOINT_URL_CHIME" not in os.environ


@mock_chime
class TestADecoratedClass:
    def test_each_test_method_runs_in_an_emulator(self) -> None:
        boto3.client("chime-sdk-identity").create_app_instance(Name="one")
        assert names() == ["one"]

    def test_and_each_gets_its_own(self) -> None:
        assert names() == []
        assert isinstance(active_emulator(), ChimeEmulator)


def test_a_decorated_test_case_shares_one_emulator_from_setup_to_teardown(
    clean_environment: None,
) -> None:
    seen: dict[str, Any] = {}

    @mock_chime
    class Rooms(unittest.TestCase):
        def setUp(self) -> None:
            self.room = active_emulator().seed.app_instance("from-setUp")

        def test_the_room_of_setup_is_there(self) -> None:
            seen["names"] = names()

        def tearDown(self) -> None:
            seen["url at tearDown"] = active_emulator().url

    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(Rooms).run(result)
    assert result.wasSuccessful(), result.errors + result.failures
    assert seen["names"] == ["from-setUp"]
    assert seen["url at tearDown"].startswith("http://127.0.0.1:")
    assert "AWS_ENDPOINT_URL_CHIME" not in os.environ


def test_faults_need_consent_and_then_break_the_contract(clean_environment: None) -> None:
    with pytest.raises(FaultError, match="refusing to break the contract"):
        mock_chime(faults=["untag_ignored"]).start()
    assert "AWS_ENDPOINT_URL_CHIME" not in os.environ
    with pytest.raises(FaultError, match="unknown fault 'no_such_fault'"):
        mock_chime(faults=["no_such_fault"], allow_faults=True).start()
    with pytest.raises(MockChimeError, match=r"write faults=\['untag_ignored'\]"):
        mock_chime(faults="untag_ignored")
    with mock_chime(faults=["untag_ignored"], allow_faults=True) as chime:
        assert chime.faults == ("untag_ignored",)
        room = chime.seed.app_instance("r", tags={"team": "care"})
        chime.identity.untag_resource(ResourceARN=room.arn, TagKeys=["team"])
        tags = chime.identity.list_tags_for_resource(ResourceARN=room.arn)["Tags"]
        assert tags == [{"Key": "team", "Value": "care"}]  # the fault: untag is ignored
        headers = chime.identity.list_app_instances()["ResponseMetadata"]["HTTPHeaders"]
        assert headers["x-chime-emulator-faults"] == "untag_ignored"


def test_a_client_for_another_service_is_refused() -> None:
    with mock_chime() as chime, pytest.raises(MockChimeError, match="not 's3'"):
        chime.client("s3")
