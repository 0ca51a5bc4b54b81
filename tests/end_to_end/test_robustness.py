"""A conformance verdict is only worth what its worst path is worth: the suite
against a target that throttles, hangs or drops connections (each a loopback
stand-in in tests/support/misbehaving_targets.py). Each test runs a short slice of
the suite in a process of its own, as a user would (forked by
tests/support/pytest_forkserver.py, which paid the imports once)."""

from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from chime_conformance.emulator.server import running_emulator
from chime_conformance.wire.retries import RetryPolicy
from tests.support import pytest_forkserver as forked
from tests.support.misbehaving_targets import ProxyPlan, dropping_target, hanging_target, proxy

ROOT = Path(__file__).resolve().parents[2]
SLICE = ("conformance/test_lifecycle.py", "conformance/test_schemathesis.py")
# scenarios (the suite's client) and schemathesis' checks, each a few tests
SHORT = "test_lifecycle and reads_back or test_accounts_operation"
TINY = "test_lifecycle and reads_back"
RUN_TIMEOUT = 300


def run_suite(
    url: str, report_dir: Path, *options: str, keyword: str = SHORT, timeout: float = RUN_TIMEOUT
) -> tuple[int, str, float, dict[str, Any] | None]:
    """Run the suite's slice against ``url``: exit code, output, seconds, results.json."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        *SLICE,
        "-k",
        keyword,
        "--target-url",
        url,
        "--hypothesis-profile",
        "ci",
        "--report-dir",
        str(report_dir),
        "-p",
        "no:cacheprovider",
        "-q",
        *options,
    ]
    started = time.monotonic()
    done = forked.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    elapsed = time.monotonic() - started
    results = report_dir / "results.json"
    document = json.loads(results.read_text()) if results.is_file() else None
    return done.returncode, done.stdout + done.stderr, elapsed, document


def failed_records(document: dict[str, Any]) -> list[str]:
    return [f"{r['operation']} {r['check']}" for r in document["records"] if r["outcome"] == "fail"]


def test_a_throttling_target_costs_retries_not_false_failures(tmp_path: Path) -> None:
    plan = ProxyPlan(throttle_every=3)
    with running_emulator() as emulator, proxy(emulator.url, plan) as url:
        # a slice of about fifty requests: with the adaptive rate engaged, each
        # request may wait up to --max-retry-wait for its token
        code, output, _, document = run_suite(
            url, tmp_path, "--max-retry-wait", "0.05", keyword=TINY
        )
    assert code == 0, output
    assert document is not None and not failed_records(document)
    retries = document["retries"]
    assert retries["count"] >= plan.throttled > 0, retries["by_reason"]
    assert set(retries["by_reason"]) == {"HTTP 429", "HTTP 503"}
    assert all(e["wait"] <= 0.05 for e in retries["events"])
    assert "retries (" in output and document["throttled"] == []


def test_a_target_that_never_stops_throttling_gets_the_verdict_throttled(tmp_path: Path) -> None:
    plan = ProxyPlan(throttle_every=1)
    with running_emulator() as emulator, proxy(emulator.url, plan) as url:
        code, output, _, document = run_suite(
            url,
            tmp_path,
            "--max-retries",
            "1",
            "--max-retry-wait",
            "0.01",
            keyword=TINY,
        )
    assert code == 0, output  # throttled is reported, not a contract failure
    assert "throttled" in output.splitlines()[-1], output[-2000:]
    assert document is not None and document["throttled"]
    assert not failed_records(document)
    assert {t["status"] for t in document["throttled"]} <= {429, 503}


@pytest.mark.parametrize("target", [hanging_target, dropping_target], ids=["hanging", "dropping"])
def test_a_hanging_or_dropping_target_ends_the_run_in_one_sentence(
    target: Any, tmp_path: Path
) -> None:
    connections: list[socket.socket] = []
    with target(connections) as url:
        code, output, _, _ = run_suite(url, tmp_path, timeout=60)
    assert code == 3, output
    # bounded: each connection waits at most the default timeouts, and a lost one is
    # retried at most max_retries times before the run gives up
    assert 1 <= len(connections) <= 1 + RetryPolicy().max_retries, len(connections)
    assert "Traceback" not in output and "INTERNALERROR" not in output, output
    sentences = [line for line in output.splitlines() if "chime-conformance:" in line]
    assert len(sentences) == 1 and sentences[0].rstrip().endswith("."), output
    print(f"{target.__name__}: exit {code}, {len(connections)} connections: {sentences[0]}")


def test_a_target_that_starts_hanging_mid_run_ends_it_with_a_report(tmp_path: Path) -> None:
    plan = ProxyPlan(hang_after=12)  # then three tests in a row get no answer: gone
    with running_emulator() as emulator, proxy(emulator.url, plan) as url:
        code, output, elapsed, document = run_suite(
            url, tmp_path, "--read-timeout", "1", keyword=TINY, timeout=120
        )
    assert code == 3, output
    assert "Traceback" not in output and "INTERNALERROR" not in output, output
    assert "the run stopped early" in output and "sent no answer within 1 s" in output
    assert document is not None  # what ran is reported
    assert any(cell["passed"] or cell["failed"] for cell in document["matrix"])
    assert document["run"]["scope"]["state"] == "target_gone"
    print(f"hang after 12 requests: exit {code} after {elapsed:.1f} s")


# --------------------------------------------------------------------------
# Settings and events, without a run


def test_transport_settings_come_from_the_options_with_documented_defaults() -> None:
    from chime_conformance.pytest_plugin.options import BY_NAME
    from chime_conformance.run.config import (
        DEFAULT_MAX_RETRIES,
        DEFAULT_MAX_RETRY_WAIT,
        TransportSettings,
    )
    from chime_conformance.wire.client import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT

    defaults = TransportSettings()
    assert (defaults.timeouts().connect, defaults.timeouts().read) == (
        DEFAULT_CONNECT_TIMEOUT,
        DEFAULT_READ_TIMEOUT,
    )
    documented = {
        "connect_timeout": DEFAULT_CONNECT_TIMEOUT,
        "read_timeout": DEFAULT_READ_TIMEOUT,
        "max_retries": DEFAULT_MAX_RETRIES,
        "max_retry_wait": DEFAULT_MAX_RETRY_WAIT,
    }
    for name, default in documented.items():
        option = BY_NAME[name]
        assert option.flag == "--" + name.replace("_", "-")
        assert option.env.startswith("CHIME_CONFORMANCE_")
        assert f"default: {default:g}" in option.help
    chosen = TransportSettings(read_timeout=2.5, max_retries=0)
    assert chosen.timeouts().read == 2.5 and chosen.retry_policy().max_retries == 0


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("read_timeout", "soon", "must be a number of seconds"),
        ("connect_timeout", "0", "must be positive"),
        ("max_retries", "-1", "must be positive"),
        ("max_retries", "1.5", "must be a whole number"),
    ],
)
def test_a_bad_transport_setting_is_one_sentence(name: str, value: str, message: str) -> None:
    from chime_conformance.pytest_plugin.options import BY_NAME
    from chime_conformance.run.config import ConfigurationError

    with pytest.raises(ConfigurationError, match=message) as error:
        BY_NAME[name].parse(value)  # type: ignore[misc]
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("option", "value", "sentence"),
    [
        ("--read-timeout", "soon", "argument --read-timeout: must be a number"),
        (
            "--deletion-window",
            "-1",
            "argument --deletion-window: must be a number of seconds from 0",
        ),
        (
            "--deletion-window",
            "nan",
            "argument --deletion-window: must be a number of seconds from 0",
        ),
    ],
)
def test_a_bad_timeout_is_a_usage_error(option: str, value: str, sentence: str) -> None:
    done = forked.run(
        [sys.executable, "-m", "pytest", "conformance", option, value,
         "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 4, done.stdout + done.stderr
    assert sentence in done.stderr
    assert "Traceback" not in done.stderr


def test_run_events_survive_the_trip_from_a_worker_to_the_controller(tmp_path: Path) -> None:
    from chime_conformance.run.events import Leftover, RunEvents
    from chime_conformance.run.worker_report import WorkerReport, read_worker_reports
    from chime_conformance.wire.retries import Retry

    worker = RunEvents()
    worker.retried("ListAppInstances", Retry(1, "HTTP 429", 0.5, 429))
    worker.test_throttled("t", "CreateAppInstance", 503, 3)
    worker.left_behind(
        [Leftover("app-instance", "arn:aws:chime:…", "DeleteAppInstance answered 500")]
    )
    worker.rules_declared("M", ["a", "b"])
    worker.rule_ran("M", "a")
    WorkerReport(events=worker).dump(tmp_path, "gw0")
    controller = RunEvents()
    controller.rule_ran("M", "b")
    controller.merge(read_worker_reports(tmp_path)[0].events)
    summary = controller.to_json()
    assert summary["retries"]["count"] == 1 and summary["retries"]["by_reason"] == {"HTTP 429": 1}
    assert summary["throttled"][0]["status"] == 503
    assert summary["leftovers"][0]["arn"] == "arn:aws:chime:…"
    assert summary["rule_counts"] == {"M": {"a": 1, "b": 1}}


class CountingClient:
    """A client that counts the calls of each operation."""

    def __init__(self, url: str) -> None:
        from collections import Counter

        from chime_conformance.wire.client import ChimeClient

        self.inner = ChimeClient(url)
        self.calls: Counter[str] = Counter()

    def call(self, operation: str, members: dict[str, Any]) -> Any:
        self.calls[operation] += 1
        return self.inner.call(operation, members)


@pytest.mark.parametrize(("window", "reads"), [(0.0, 1), (0.6, 2)])
def test_a_resource_still_readable_is_polled_for_the_deletion_window(
    window: float, reads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--deletion-window bounds the wait for a delete to show: no wait at 0,
    polls every POLL_SECONDS until the window ends (a count, not a timing)."""
    from chime_conformance import checks
    from chime_conformance.run.recorder import ContractBroken, Verifier
    from chime_conformance.run.results import ResultLog
    from conformance import scenario as scenario_module

    monkeypatch.setattr(scenario_module, "POLL_SECONDS", 0.25)
    with running_emulator() as emulator:
        client = CountingClient(emulator.url)
        results = ResultLog()
        verifier = Verifier(results=results, test_id="window", account_id="123456789012")
        talk = scenario_module.Scenario(client, verifier, deletion_window=window)  # type: ignore[arg-type]
        account = talk.ok("CreateAccount", {"Name": "still-here"})["Account"]
        with pytest.raises(ContractBroken) as broken:
            talk.gone(
                "GetAccount",
                {"AccountId": account["AccountId"]},
                check=checks.DELETE_IS_FINAL,
                what="the account",
            )
    assert f"404 within {window:g} s" in str(broken.value)
    assert reads <= client.calls["GetAccount"] <= 2 * reads + 1
    failed = [r.check for r in results.records() if r.outcome == "fail"]
    assert failed == ["delete_is_final"]
