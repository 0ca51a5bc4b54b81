"""A foreign project's tests use ``mock_chime`` and the ``chime_emulator`` fixture
(as installed: the pytest11 entry point), and its unrelated tests and Hypothesis
settings are left as they were."""

from __future__ import annotations

import pytest

from chime_conformance.pytest_plugin._library_internals import hypothesis_ci_variables

pytest_plugins = ["pytester"]

CONFTEST = """
from hypothesis import settings
import pytest

settings.register_profile("default", max_examples=7)
settings.register_profile("ci", max_examples=3)


@pytest.fixture(scope="session")
def chime_emulator_options():
    return {"region": "eu-west-1"}
"""

UNRELATED = """
from hypothesis import given, settings, strategies as st

calls = []


def test_the_projects_own_profile_is_in_force():
    assert settings.get_current_profile_name() == "default"
    assert settings.default.max_examples == 7


@given(st.integers())
def test_a_property(number):
    calls.append(number)


def test_the_property_ran_as_often_as_the_project_says():
    assert len(calls) == 7
"""

# only in a run without the tests that use the emulator (they import it)
NOTHING_IMPORTED = """
import sys


def test_nothing_of_the_emulator_is_imported_in_a_run_that_does_not_use_it():
    assert "chime_conformance.testing.pytest_fixtures" in sys.modules  # the plugin is loaded
    assert not [m for m in sys.modules if m.startswith(("chime_conformance.emulator", "boto3"))]
    assert "chime_conformance.testing._emulator" not in sys.modules
"""

WITH_MOCK = """
import os
import unittest

import boto3

from chime_conformance.testing import active_emulator, mock_chime


def create_room(name):  # the project's own code
    return boto3.client("chime-sdk-identity").create_app_instance(Name=name)["AppInstanceArn"]


def rooms():
    answer = boto3.client("chime-sdk-identity").list_app_instances()
    return [instance["Name"] for instance in answer["AppInstances"]]


@mock_chime
def test_a_decorated_function(tmp_path):  # its fixtures still arrive
    create_room("a")
    assert rooms() == ["a"] and tmp_path.is_dir()


def test_a_block():
    with mock_chime() as chime:
        assert create_room("b").startswith("arn:aws:chime:us-east-1:")
        assert rooms() == ["b"] and chime.region == "us-east-1"


@mock_chime
class TestAPlainClass:
    def test_one(self):
        create_room("c")
        assert rooms() == ["c"]

    def test_two_starts_empty(self):
        assert rooms() == []


@mock_chime
class TestSetupMethod:
    def setup_method(self, method):
        active_emulator().seed.app_instance("from setup_method")

    def test_what_setup_method_made_is_there(self):
        assert rooms() == ["from setup_method"]

    def teardown_method(self, method):
        assert rooms() == ["from setup_method"]


@mock_chime
class TestUnittest(unittest.TestCase):
    def setUp(self):
        create_room("from setUp")

    def test_what_setUp_made_is_there(self):
        self.assertEqual(rooms(), ["from setUp"])


def test_zz_nothing_is_left_in_the_environment():
    assert not [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]
"""

WITH_FIXTURE = """
import boto3
from botocore.config import Config

urls = []


def rooms():
    answer = boto3.client("chime-sdk-identity").list_app_instances()
    return [instance["Name"] for instance in answer["AppInstances"]]


def test_first_makes_a_room(chime_emulator):
    urls.append(chime_emulator.url)
    arn = boto3.client("chime-sdk-identity").create_app_instance(Name="first")["AppInstanceArn"]
    assert arn.startswith("arn:aws:chime:eu-west-1:")  # the conftest's options
    assert rooms() == ["first"]


def test_second_sees_a_fresh_state_of_the_same_server(chime_emulator):
    assert urls == [chime_emulator.url]
    assert rooms() == []


def test_a_seeded_snapshot_is_visible(chime_emulator, tmp_path):
    chime_emulator.seed.app_instance("seeded").user("alice")
    chime_emulator.save_snapshot(tmp_path / "seed.json")
    chime_emulator.reset()
    assert rooms() == []
    chime_emulator.load_snapshot(tmp_path / "seed.json")
    assert rooms() == ["seeded"]


def test_a_throttle_is_retried_by_boto3(chime_emulator):
    throttled = chime_emulator.throttle("ListAppInstances")
    client = boto3.client("chime-sdk-identity", config=Config(retries={"mode": "legacy"}))
    assert client.list_app_instances()["ResponseMetadata"]["RetryAttempts"] == 1
    assert throttled.answered == 1
"""


@pytest.fixture
def foreign_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_unrelated=UNRELATED)
    # Hypothesis itself loads a `ci` profile in a CI environment: not this plugin
    for variable in hypothesis_ci_variables():
        monkeypatch.delenv(variable, raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return pytester


def test_unrelated_tests_run_unchanged_and_import_nothing_of_the_emulator(
    foreign_project: pytest.Pytester,
) -> None:
    foreign_project.makepyfile(test_imports=NOTHING_IMPORTED)
    result = foreign_project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    plugins = [line for line in result.outlines if line.startswith("plugins:")]
    assert plugins and "chime-conformance" in plugins[0]  # installed, and loaded
    rest = "\n".join(line for line in result.outlines if not line.startswith("plugins:"))
    assert "chime" not in rest.lower()


def test_a_foreign_project_uses_mock_chime_and_the_fixture(
    foreign_project: pytest.Pytester,
) -> None:
    foreign_project.makepyfile(test_with_mock=WITH_MOCK, test_with_fixture=WITH_FIXTURE)
    result = foreign_project.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=3 + 7 + 4)
    # in file order: the fixture's two tests ran one after the other
    order = [line.split("::", 1)[1].split()[0] for line in result.outlines if " PASSED" in line]
    first = order.index("test_first_makes_a_room")
    assert order[first + 1] == "test_second_sees_a_fresh_state_of_the_same_server"
