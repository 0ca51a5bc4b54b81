"""The suite's verdict on endpoints that are not (all) ours: moto server, which
implements no Chime operation; the emulator with some operations missing; a
known-failures baseline; and the exit status of each kind of run.

Each run is the real suite in a process of its own, as a user runs it (ci
profile; forked by tests/support/pytest_forkserver.py, which paid the imports
once), on a slice as small as the point it makes.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chime_conformance.contract import spec
from chime_conformance.emulator.server import RunningEmulator, running_emulator
from tests.support import pytest_forkserver as forked
from tests.support.misbehaving_targets import ProxyPlan, proxy

REPO = Path(__file__).resolve().parents[2]
SUITE = REPO / "conformance"
EXIT_OK, EXIT_FAILURES, EXIT_UNREACHABLE, EXIT_USAGE, EXIT_NO_TESTS, EXIT_LIVE = 0, 1, 3, 4, 5, 6
# A fault whose failure is one cell: DescribeAppInstance × timestamps_are_plausible
FAULT = "timestamps_in_milliseconds"
FAULT_SLICE = (
    "--operations",
    "DescribeAppInstance",
    "-k",
    "test_a_valid_request_is_accepted",
    "--suite",  # one file: collecting the whole suite five times would double the time
    str(SUITE / "test_requests.py"),
)


def run_suite(
    *args: str, timeout: float = 240, cwd: Path = REPO
) -> tuple[subprocess.CompletedProcess[str], float]:
    suites: list[str] = []
    while "--suite" in args:  # this helper's own option: which parts of the suite to run
        at = args.index("--suite")
        suites.append(args[at + 1])
        args = args[:at] + args[at + 2 :]
    command = [sys.executable, "-m", "pytest", *(suites or [str(SUITE)]), "-p", "no:cacheprovider"]
    command += ["--hypothesis-profile", "ci", *args]
    started = time.monotonic()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHIME_CONFORMANCE_")}
    done = forked.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env)
    return done, time.monotonic() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """``moto_server`` on a free loopback port, for this module's tests."""
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("moto_server did not listen within 30 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def results(report_dir: Path) -> dict:
    return json.loads((report_dir / "results.json").read_text())


def verdict_section(output: str) -> str:
    return output.split("chime-conformance verdict", 1)[1]


@pytest.mark.slow
@pytest.mark.deep  # the whole suite; in CI, moto answers a slice (test_report_browser's compare)
def test_moto_server_implements_nothing_and_scores_zero_in_one_screen(
    moto_url: str, tmp_path: Path
) -> None:
    plan = ProxyPlan()  # forwards every request, counting them
    with proxy(moto_url, plan) as url:
        done, _ = run_suite("--target-url", url, "--report-dir", str(tmp_path))
    output = done.stdout + done.stderr
    assert done.returncode == EXIT_FAILURES, output[-3000:]
    document = results(tmp_path)
    # bounded: an operation that answers "not implemented" is not asked again, so about
    # one request per operation for a suite of a thousand tests (a count, not a timing)
    assert plan.count <= 2 * len(spec.operations()), plan.count
    assert document["score"]["value"] == 0.0
    assert document["verdict"]["operations_implemented"] == 0
    assert document["score"]["headline"] == "score 0.0%, operations implemented: 0/35"
    verdicts = {v["verdict"] for v in document["verdict"]["verdicts"]}
    assert verdicts <= {"not_implemented", "blocked"}
    page = (tmp_path / "compliance.html").read_text()
    assert "operations implemented: 0/35" in page and ">0.0%<" in page
    assert "when no operation is implemented the score is 0 %" in page
    # the cause is named once, with its count, and the run fits on a screen or so
    summary = verdict_section(done.stdout)
    assert "compliance score 0.0%, operations implemented: 0/35" in summary
    top = document["verdict"]["causes"][0]
    assert top["tests"] > 500 and "500" in top["cause"]
    assert summary.count(top["cause"]) == 1
    assert f"{top['tests']} tests: {top['cause']}" in summary
    assert len(done.stdout.splitlines()) < 400


@pytest.mark.slow
def test_an_emulator_missing_operations_scores_full_marks_on_the_rest(tmp_path: Path) -> None:
    missing = ("GetAppInstanceRetentionSettings", "PutAppInstanceRetentionSettings")
    with running_emulator(unimplemented=missing, unimplemented_style="404") as emulator:
        done, _ = run_suite(
            "--target-url",
            emulator.url,
            "--operations",
            "Settings,DescribeAppInstance,ListAppInstances",
            "-k",
            "valid_request",
            "--suite",
            str(SUITE / "test_requests.py"),
            "--report-dir",
            str(tmp_path),
        )
    assert done.returncode == EXIT_FAILURES, done.stdout[-3000:]
    document = results(tmp_path)
    verdicts = {v["operation"]: v["verdict"] for v in document["verdict"]["verdicts"]}
    assert {op for op, v in verdicts.items() if v == "not_implemented"} == set(missing)
    assert verdicts["PutAppInstanceUserExpirationSettings"] == "implemented"
    assert verdicts["CreateAppInstanceBot"] == "not_run"  # not selected, never "failed"
    assert document["score"]["value"] == 1.0
    # a selection (--operations, -k): the score is labelled partial
    assert document["score"]["headline"].startswith("PARTIAL RUN (a selection (")
    assert document["score"]["headline"].endswith("score 100.0%, operations implemented: 3/5")
    summary = verdict_section(done.stdout)
    assert (
        "not implemented (2): GetAppInstanceRetentionSettings, PutAppInstanceRetentionSettings"
        in summary
    )
    assert "operations implemented: 3/5" in (tmp_path / "compliance.html").read_text()


@pytest.fixture
def faulty_emulator() -> Iterator[RunningEmulator]:
    with running_emulator(faults=(FAULT,), allow_faults=True) as emulator:
        yield emulator


@pytest.fixture
def clean_emulator() -> Iterator[RunningEmulator]:
    with running_emulator() as emulator:
        yield emulator


@pytest.mark.slow
def test_a_baseline_makes_a_failure_known_then_fixed_and_an_expired_entry_fails(
    faulty_emulator: RunningEmulator, clean_emulator: RunningEmulator, tmp_path: Path
) -> None:
    first = tmp_path / "first"
    done, _ = run_suite(
        "--target-url", faulty_emulator.url, *FAULT_SLICE, "--report-dir", str(first)
    )
    assert done.returncode == EXIT_FAILURES, done.stdout[-3000:]
    baseline = tmp_path / "baseline.yaml"
    written = forked.run(
        [sys.executable, "-m", "chime_conformance.reporting", "baseline", str(first / "results.json"),
         "--out", str(baseline), "--reason", "ms timestamps until PROJ-1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert written.returncode == 0, written.stderr
    assert "timestamps_are_plausible" in baseline.read_text()

    known = tmp_path / "known"
    done, _ = run_suite(
        "--target-url", faulty_emulator.url, *FAULT_SLICE, "--baseline", str(baseline),
        "--report-dir", str(known),
    )  # fmt: skip
    assert done.returncode == EXIT_OK, done.stdout[-3000:]
    assert "1 known failures, 0 fixed, 0 expired" in verdict_section(done.stdout)
    assert "1 xfailed" in done.stdout.splitlines()[-1]
    findings = results(known)["verdict"]["baseline"]
    assert [k["reason"] for k in findings["known"]] == ["ms timestamps until PROJ-1"]

    done, _ = run_suite(
        "--target-url", clean_emulator.url, *FAULT_SLICE, "--baseline", str(baseline),
        "--report-dir", str(tmp_path / "fixed"),
    )  # fmt: skip
    assert done.returncode == EXIT_OK, done.stdout[-3000:]  # all passed
    summary = verdict_section(done.stdout)
    assert "compliance score 100.0%, operations implemented: 1/1" in summary
    assert "0 known failures, 1 fixed" in summary
    assert "fixed (delete the entry): DescribeAppInstance × timestamps_are_plausible" in summary

    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    expired = tmp_path / "expired.yaml"
    expired.write_text(
        baseline.read_text().replace("  reason:", f"  until: {yesterday}\n  reason:")
    )
    done, _ = run_suite(
        "--target-url", clean_emulator.url, *FAULT_SLICE, "--baseline", str(expired),
        "--report-dir", str(tmp_path / "expired"),
    )  # fmt: skip
    assert done.returncode == EXIT_FAILURES, done.stdout[-3000:]
    assert f"EXPIRED on {yesterday}" in verdict_section(done.stdout)


def test_exit_status_usage_errors_and_empty_selections(tmp_path: Path) -> None:
    done, _ = run_suite("--operations", "Nonsense", timeout=120)
    assert done.returncode == EXIT_USAGE
    assert "'Nonsense' is neither an operation nor a resource family" in done.stderr
    done, _ = run_suite("--baseline", str(tmp_path / "absent.yaml"), timeout=120)
    assert done.returncode == EXIT_USAGE
    assert "cannot read it" in done.stderr
    done, _ = run_suite(
        "--operations",
        "ListAccounts",
        "--suite",
        str(SUITE / "test_contract_edges.py"),
        timeout=120,
    )
    assert done.returncode == EXIT_NO_TESTS


def test_exit_status_of_targets_refused_or_unreachable() -> None:
    done, _ = run_suite(
        "--target-url", "https://identity-chime.us-east-1.amazonaws.com", timeout=120
    )
    assert done.returncode == EXIT_LIVE
    assert "--allow-live" in done.stdout + done.stderr
    done, _ = run_suite("--target-url", f"http://127.0.0.1:{free_port()}", timeout=120)
    assert done.returncode == EXIT_UNREACHABLE


class _Counted(logging.Handler):
    """Counts the emulator's log lines (one per answered request) naming an operation."""

    def __init__(self, operation: str) -> None:
        super().__init__(logging.INFO)
        self.operation, self.count = operation, 0

    def emit(self, record: logging.LogRecord) -> None:
        if self.operation in record.getMessage():
            self.count += 1


def test_a_deletion_is_not_awaited_from_an_operation_that_is_not_implemented(
    tmp_path: Path,
) -> None:
    """Waiting the deletion window (20 s) for a 404 is for an operation that
    answers; one that answers 'not implemented' is asked once and the check fails."""
    logger = logging.getLogger("chime_conformance.emulator")
    counted, level = _Counted("DescribeAppInstanceBot"), logger.level
    logger.addHandler(counted)
    logger.setLevel(logging.INFO)
    try:
        with running_emulator(unimplemented=("DescribeAppInstanceBot",)) as emulator:
            done, _ = run_suite(
                "--target-url", emulator.url, "-k", "deleting_an_app_instance",
                "--suite", str(SUITE / "test_lifecycle.py"), "--report-dir", str(tmp_path),
            )  # fmt: skip
    finally:
        logger.removeHandler(counted)
        logger.setLevel(level)
    assert done.returncode == EXIT_FAILURES, done.stdout[-3000:]
    assert "a bot of a deleted AppInstance is unreadable after its deletion" in done.stdout
    assert counted.count == 1, f"DescribeAppInstanceBot was asked {counted.count} times"


MACHINE = "test_app_instances_keep_their_contract_over_random_lifecycles"


@pytest.mark.deep  # tens of seconds of CPU: the slice and a state machine, unshrunk
def test_tests_of_an_operation_answered_only_as_not_implemented_do_not_shrink(
    tmp_path: Path,
) -> None:
    """Every example of an operation the endpoint lacks fails the same way:
    once the run has seen it answered only as not implemented, its tests (and
    the state machines, which reach it) report their first failing example
    instead of shrinking it with thousands more requests (2,420 UpdateAppInstance
    requests for this slice before; about 130 now)."""
    logger = logging.getLogger("chime_conformance.emulator")
    updates, creates, level = (
        _Counted(" UpdateAppInstance "),
        _Counted(" CreateAppInstance "),
        logger.level,
    )
    logger.addHandler(updates)
    logger.addHandler(creates)
    logger.setLevel(logging.INFO)
    try:
        with running_emulator(unimplemented=("UpdateAppInstance",)) as emulator:
            done, _ = run_suite(
                "--target-url", emulator.url, "--report-dir", str(tmp_path),
                "-k", "(UpdateAppInstance and (constraint_holds or one_fault)) or app_instances_keep",
                "--suite", str(SUITE / "test_requests.py"),
                "--suite", str(SUITE / "test_state_machines.py"),
            )  # fmt: skip
    finally:
        logger.removeHandler(updates)
        logger.removeHandler(creates)
        logger.setLevel(level)
    assert done.returncode == EXIT_FAILURES, done.stdout[-3000:]
    outcomes = {o["test_id"]: o for o in results(tmp_path)["verdict"]["test_outcomes"]}
    machine = outcomes[f"conformance/test_state_machines.py::{MACHINE}"]
    assert machine["outcome"] == "failed" and "not yet implemented" in machine["cause"], machine
    assert updates.count < 600, f"UpdateAppInstance was asked {updates.count} times"
    assert creates.count < 200, f"the state machine created {creates.count} AppInstances"
