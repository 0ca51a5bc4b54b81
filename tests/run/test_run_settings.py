"""Run settings, the live-target guard, the resource ledger and coverage merging."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chime_conformance.pytest_plugin.options import example_sources
from chime_conformance.run.config import (
    ConfigurationError,
    SuiteConfig,
    build_config,
    http_url,
    is_test_host,
    operations,
    shard,
)
from chime_conformance.run.coverage import INSIDE, OUTSIDE, ConstraintCoverage
from chime_conformance.run.events import Leftover
from chime_conformance.run.ledger import Ledger

ARN = "arn:aws:chime:us-east-1:123456789012:app-instance/11111111-2222-3333-4444-555555555555"


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8642", True),
        ("http://127.9.9.9", True),
        ("http://[::1]:80", True),
        ("http://localhost:1", True),
        ("http://emulator.test", True),
        ("http://emulator.localhost:8642", True),
        ("https://identity-chime.us-east-1.amazonaws.com", False),
        ("http://10.0.0.5", False),  # could be a VPC endpoint of the real service
        ("http://192.168.1.2", False),
    ],
)
def test_only_loopback_and_reserved_test_names_count_as_local(url, local):
    assert is_test_host(url) is local


def test_a_live_target_needs_allow_live():
    with pytest.raises(ConfigurationError, match="--allow-live"):
        build_config({"target_url": "https://identity-chime.us-east-1.amazonaws.com"})
    config = build_config(
        {"target_url": "https://identity-chime.us-east-1.amazonaws.com", "allow_live": True}
    )
    assert config.target_url == "https://identity-chime.us-east-1.amazonaws.com"


def test_the_accounts_url_is_guarded_too():
    with pytest.raises(ConfigurationError, match=r"chime\.us-east-1"):
        build_config({"accounts_url": "https://service.chime.us-east-1.amazonaws.com"})


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1", "127.0.0.1:80", "http://", "http://127.0.0.1/?a=1"]
)
def test_malformed_urls_are_refused_in_one_sentence(url):
    with pytest.raises(
        ConfigurationError, match=r"must (be an http\(s\) URL|not have a query)"
    ) as error:
        http_url(url)
    assert "\n" not in str(error.value) and repr(url) in str(error.value)


def test_a_bad_value_from_the_environment_names_the_variable():
    with pytest.raises(ConfigurationError) as error:
        example_sources({"CHIME_CONFORMANCE_EXAMPLES_REPO": "not a repo"})
    assert str(error.value) == (
        "$CHIME_CONFORMANCE_EXAMPLES_REPO must be a GitHub repository owner/name, got 'not a repo'"
    )


def test_the_run_settings_cross_to_a_worker_unchanged():
    config = build_config(
        {
            "target_url": "http://127.0.0.1:9",
            "shard": shard("2/3"),
            "run_id": "r1",
            "operations": operations("AppInstanceBots,ListAppInstances"),
            "read_timeout": 2.5,
            "baseline": Path("known.yaml"),
            "no_shrink": True,
        }
    )
    assert SuiteConfig.from_json(json.loads(json.dumps(config.to_json()))) == config


def test_defaults_are_the_embedded_emulator_in_us_east_1():
    config = build_config({})
    assert config.embedded and config.region == "us-east-1" and not config.strict
    assert config.run_id.startswith("cc") and config.run_id != build_config({}).run_id


def test_the_ledger_deletes_children_before_parents_and_forgets_what_was_deleted():
    ledger = Ledger()
    user = ARN + "/user/u1"
    ledger.observe("CreateAppInstance", {}, 201, {"AppInstanceArn": ARN})
    ledger.observe("CreateAppInstanceUser", {}, 201, {"AppInstanceUserArn": user})
    ledger.observe(
        "RegisterAppInstanceUserEndpoint", {}, 201, {"AppInstanceUserArn": user, "EndpointId": "e1"}
    )
    ledger.observe("CreateAccount", {}, 201, {"Account": {"AccountId": "acc-1"}})
    ledger.observe("CreateAccount", {}, 400, {"Account": {"AccountId": "never"}})
    ledger.observe("DeleteAccount", {"AccountId": "acc-1"}, 204, None)
    assert [r.kind for r in ledger.live()] == ["endpoint", "user", "app-instance"]

    calls = []
    statuses = {
        "DeregisterAppInstanceUserEndpoint": 404,
        "DeleteAppInstanceUser": 500,
        "DeleteAppInstance": 204,
    }

    def delete(operation, members):
        calls.append(operation)
        return statuses[operation]

    leftovers = ledger.clean_up(delete)
    assert calls == [
        "DeregisterAppInstanceUserEndpoint",
        "DeleteAppInstanceUser",
        "DeleteAppInstance",
    ]
    assert leftovers == [Leftover("user", user, "DeleteAppInstanceUser answered 500")]
    assert [r.kind for r in ledger.live()] == ["user"]


def test_a_malformed_create_answer_records_nothing():
    ledger = Ledger()
    ledger.observe("CreateAppInstance", {}, 201, {"Unexpected": 1})
    ledger.observe("CreateAppInstance", {}, 201, ["not", "an", "object"])
    assert ledger.live() == []


def test_coverage_needs_both_sides_and_a_failed_probe_stays_failed():
    coverage = ConstraintCoverage()
    coverage.record("Op:Name:maxLength", INSIDE, True)
    assert not coverage.covered("Op:Name:maxLength")
    coverage.record("Op:Name:maxLength", OUTSIDE, True)
    assert coverage.covered("Op:Name:maxLength")
    coverage.record("Op:Name:maxLength", OUTSIDE, False)
    coverage.record("Op:Name:maxLength", OUTSIDE, True)
    assert not coverage.covered("Op:Name:maxLength")
    assert coverage.summary(["Op:Name:maxLength", "Op:Name:minLength"]) == (0, 2)


def test_coverage_parts_merge():
    first, second = ConstraintCoverage(), ConstraintCoverage()
    first.record("a", INSIDE, True)
    second.record("a", OUTSIDE, True)
    first.merge(second)
    assert first.covered("a")
    with pytest.raises(ValueError, match="side"):
        first.record("a", "sideways", True)


def test_the_result_log_keeps_one_record_per_test_operation_and_check():
    from chime_conformance.run.results import FAIL, NOT_APPLICABLE, PASS, CheckRecord, ResultLog

    log = ResultLog()
    for _ in range(100):  # a Hypothesis test: the same checks, example after example
        log.record(CheckRecord("t", "Op", "auth_enforced", NOT_APPLICABLE))
        log.record(CheckRecord("t", "Op", "not_a_server_error", PASS))
    log.record(CheckRecord("t", "Op", "valid_input_accepted", FAIL, message="first"))
    log.record(CheckRecord("t", "Op", "valid_input_accepted", FAIL, message="shrunk"))
    log.record(CheckRecord("t", "Op", "valid_input_accepted", PASS))
    records = sorted(log.records(), key=lambda r: r.check)
    assert [(r.check, r.outcome, r.message) for r in records] == [
        ("auth_enforced", NOT_APPLICABLE, ""),
        ("not_a_server_error", PASS, ""),
        ("valid_input_accepted", FAIL, "shrunk"),  # the last failure is the minimal example
    ]
