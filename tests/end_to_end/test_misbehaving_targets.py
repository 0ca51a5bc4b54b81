"""Issue 21's table, one row each: a short slice of the suite (``ci``
profile) against the emulator behind a misbehaving proxy
(tests/support/misbehaving_targets.py), as a user would run it, asserting
counts: tests run, false failures, what is left on the emulator behind the
proxy, leftovers reported, reports written, the exit code. Timings are the
bench's (bench/misbehaving_runs.py), never asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chime_conformance.emulator.server import running_emulator
from tests.support.misbehaving_targets import ProxyPlan, left_on, proxy

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ("compliance.html", "results.json", "junit.xml")
LIFECYCLE = "conformance/test_lifecycle.py"
MACHINES = "conformance/test_state_machines.py"
READS_BACK = "reads_back"  # five scenarios, about fifty requests, every resource kind


@dataclass
class Run:
    code: int
    output: str
    tests: int
    failures: list[str]  # the message of each failed or errored test
    skipped: int
    left: list[str]  # on the emulator behind the proxy, after the run
    results: dict[str, Any]
    reports: list[str]

    @property
    def leftovers(self) -> list[dict[str, Any]]:
        return list(self.results.get("leftovers", []))


def run_behind(
    plan: ProxyPlan, tmp_path: Path, *options: str, keyword: str = READS_BACK, path: str = LIFECYCLE
) -> Run:
    with running_emulator() as emulator, proxy(emulator.url, plan) as url:
        command = [
            sys.executable, "-m", "pytest", path, "-k", keyword, "--target-url", url,
            "--hypothesis-profile", "ci", "--report-dir", str(tmp_path), "-p", "no:cacheprovider",
            "-q", *options,
        ]  # fmt: skip
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        plan.signal_pid = process.pid
        output, _ = process.communicate(timeout=300)
        plan.died.clear()
        left = left_on(emulator.url)
    tests, failures, skipped = 0, [], 0
    junit = tmp_path / "junit.xml"
    if junit.is_file():
        for case in ET.parse(junit).getroot().iter("testcase"):
            tests += 1
            for child in case:
                if child.tag in ("failure", "error"):
                    failures.append(child.get("message") or "")
                skipped += child.tag == "skipped"
    results_path = tmp_path / "results.json"
    results = json.loads(results_path.read_text()) if results_path.is_file() else {}
    reports = [name for name in REPORTS if (tmp_path / name).is_file()]
    return Run(process.returncode, output, tests, failures, skipped, left, results, reports)


def assert_one_sentence_each(run: Run) -> None:
    assert "Traceback" not in run.output and "INTERNALERROR" not in run.output, run.output
    assert "Inconsistent results from replaying" not in run.output, run.output


def test_a_hang_fails_only_the_test_that_sent_it(tmp_path: Path) -> None:
    plan = ProxyPlan(hang_every=20)  # about one request in twenty is never answered
    run = run_behind(plan, tmp_path, "--read-timeout", "1")
    assert plan.hung >= 2
    assert run.tests == 5  # the run went on: every test ran
    assert run.failures and all("no answer within 1 s" in f for f in run.failures), run.failures
    assert len(run.failures) <= plan.hung  # one hang, at most one test
    assert run.code == 1  # a failure, not "target gone"
    assert "stopped early" not in run.output
    assert run.left == [] and run.leftovers == []  # a hung request was never carried out
    assert run.reports == list(REPORTS)
    assert_one_sentence_each(run)


def test_a_garbled_answer_to_shared_set_up_is_asked_for_again(tmp_path: Path) -> None:
    plan = ProxyPlan(garble_first=1)  # the session's first create answers 201 "<html>"…
    run = run_behind(plan, tmp_path)
    assert plan.garbled == 1
    assert (run.tests, run.failures, run.code) == (5, [], 0), run.output
    assert run.left == [] and run.leftovers == []
    assert run.reports == list(REPORTS)


def test_a_lost_create_account_answer_leaves_no_second_account(tmp_path: Path) -> None:
    plan = ProxyPlan(lose_create_account=True)
    run = run_behind(plan, tmp_path, keyword="account_reads_back")
    assert plan.lost >= 1
    assert (run.tests, run.failures, run.code) == (1, [], 0), run.output
    assert len(run.results["retries"]["reconciled"]) == plan.lost
    assert run.left == [] and run.leftovers == []
    assert run.reports == list(REPORTS)


def test_connection_resets_cost_retries_not_failures_nor_resources(tmp_path: Path) -> None:
    plan = ProxyPlan(reset_share=0.05, seed=5)
    run = run_behind(plan, tmp_path)
    assert plan.lost >= 1
    assert run.tests == 5 and run.failures == [] and run.code == 0, run.output
    assert run.left == [] and run.leftovers == []
    assert run.reports == list(REPORTS)


def test_the_state_machines_take_a_lost_delete_as_done_and_go_on(tmp_path: Path) -> None:
    """A delete whose answer was lost and whose retry found nothing to delete
    did what the machine asked: its model goes on (no skip, no failure).
    (Overlapping requests are left out: there a lost answer hides which of the
    overlapping deletes succeeded, and the overlap machine's step stays no
    verdict.)"""
    plan = ProxyPlan(reset_share=0.15, reset_methods=("DELETE",), seed=3)
    run = run_behind(
        plan, tmp_path, path=MACHINES, keyword="test_app_instances_keep or test_accounts_keep"
    )
    assert plan.lost >= 3
    assert run.tests == 2 and run.failures == [] and run.skipped == 0, run.output
    assert run.code == 0
    assert run.left == [] and run.leftovers == []
    assert run.reports == list(REPORTS)


def test_a_token_bucket_is_paced_to_not_failed(tmp_path: Path) -> None:
    plan = ProxyPlan(rate=5.0)  # 429 + Retry-After: 1 beyond five requests a second
    run = run_behind(plan, tmp_path, "--max-retry-wait", "1")
    assert plan.refused_by_bucket >= 1
    assert (run.tests, run.failures, run.code) == (5, [], 0), run.output
    adaptive = run.results["retries"]["adaptive"]
    assert adaptive["rate_per_second"] is not None and adaptive["paced_requests"] > 0
    assert "requests were paced" in run.output
    assert run.left == [] and run.leftovers == []
    assert run.reports == list(REPORTS)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signal_at", "number"),
    [(1, "SIGINT"), (1, "SIGTERM"), (30, "SIGINT")],
    ids=["sigint-first-request", "sigterm-first-request", "sigint-mid-run"],
)
def test_an_interrupted_run_writes_every_report(
    signal_at: int, number: str, tmp_path: Path
) -> None:
    import signal

    plan = ProxyPlan(signal_at=signal_at, signal_number=getattr(signal, number))
    run = run_behind(plan, tmp_path)
    assert run.code == 2, run.output
    assert run.tests < 5 and run.failures == []
    assert run.reports == list(REPORTS)
    scope = run.results["run"]["scope"]  # never "complete", even before the first test
    assert scope["state"] == "interrupted" and scope["partial"], scope
    assert scope["tests_selected"] == 5 and f"of {scope['tests_selected']} tests" in run.output
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    said = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert said["chime-conformance-partial"] == "true"
    assert said["chime-conformance-scope"] == scope["summary"]
    assert scope["summary"] in (tmp_path / "compliance.html").read_text()
    assert run.left == [] and run.leftovers == []


@pytest.mark.slow
def test_a_target_that_dies_ends_the_run_in_one_sentence_and_lists_what_it_left(
    tmp_path: Path,
) -> None:
    plan = ProxyPlan(die_after=30)
    run = run_behind(plan, tmp_path)
    assert run.code == 3, run.output
    sentences = [line for line in run.output.splitlines() if "stopped early" in line]
    assert len(sentences) == 1 and "connection refused" in sentences[0], run.output
    assert_one_sentence_each(run)
    assert run.tests < 5 and len(run.failures) == 1  # the test it died under, no other
    # what it could not delete (the target is gone) is every resource left, and said
    reported = json.dumps(run.leftovers)
    tops = [
        item.split()[1] if item.startswith("account ") else item.split()[0] for item in run.left
    ]
    assert tops and all(top in reported for top in tops), (run.left, run.leftovers)
    assert run.reports == list(REPORTS)
