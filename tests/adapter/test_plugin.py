"""The pytest plugin, run as a user runs it: `pytest conformance …` in a process
of its own (forked by tests/support/pytest_forkserver.py, which paid the imports once).

These run the real suite (a focused slice of it) against a separately started
emulator, so they also prove that a run deletes what it created, that xdist
workers' results merge into one report, and that bad targets fail fast.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest

from chime_conformance.contract import spec
from chime_conformance.emulator.server import RunningEmulator, running_emulator
from chime_conformance.wire.client import ChimeClient
from tests.support import pytest_forkserver as forked

REPO = Path(__file__).resolve().parents[2]
SUITE = REPO / "conformance"
RESULTS_SCHEMA = REPO / "chime_conformance" / "reporting" / "results.schema.json"
SLICE = "missing_resource"


def run_suite(*args: str, timeout: float = 300) -> tuple[subprocess.CompletedProcess[str], float]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(SUITE),
        "-p",
        "no:cacheprovider",
        "--hypothesis-profile",
        "ci",
        *args,
    ]
    started = time.monotonic()
    done = forked.run(command, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    return done, time.monotonic() - started


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator() as running:
        yield running


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_target_stops_the_run_at_once_with_one_sentence() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    done, _ = run_suite("--target-url", url, timeout=60)
    assert done.returncode == 3
    # at once: stopped by the one probe, before a single test was collected
    assert "collected" not in done.stdout and " passed" not in done.stdout
    lines = [line for line in (done.stdout + done.stderr).splitlines() if "Cannot reach" in line]
    assert len(lines) == 1 and url in lines[0] and "connection refused" in lines[0]
    assert "Traceback" not in done.stdout + done.stderr


def test_a_live_target_is_refused_without_allow_live() -> None:
    done, _ = run_suite(
        "--target-url", "https://identity-chime.us-east-1.amazonaws.com", timeout=60
    )
    assert done.returncode == 6  # live target refused: nothing was sent anywhere
    assert "--allow-live" in done.stdout + done.stderr


@pytest.mark.slow
def test_a_run_under_xdist_passes_merges_its_reports_and_leaves_nothing_behind(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    done, _ = run_suite(
        "--target-url", emulator.url, "-n", "2", "-k", SLICE, "--report-dir", str(tmp_path)
    )
    assert done.returncode == 0, done.stdout[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    jsonschema.validate(results, json.loads(RESULTS_SCHEMA.read_text()))
    outcomes = results["run"]["pytest_outcomes"]
    assert outcomes.get("passed", 0) > 20 and not outcomes.get("failed")
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    suites = [suite] if suite.tag == "testsuite" else list(suite)
    assert (
        sum(int(s.get("tests", 0)) - int(s.get("skipped", 0)) for s in suites) == outcomes["passed"]
    )
    assert "compliance report:" in done.stdout
    assert not list((tmp_path / ".parts").glob("*")), "workers' parts outlive the merge"
    assert_no_resources_left(emulator.url)


@pytest.mark.parametrize("target", ["embedded", "url"])
def test_only_a_target_that_outlives_the_run_is_swept(target: str, tmp_path: Path) -> None:
    """The embedded emulator keeps no state and ends with the run: sweeping it
    would send a delete for every resource the run made, to no effect. A target
    given by URL outlives the run, and is swept."""
    args = ["-p", "tests.support.sweep_counter", "-k", "reads_back_as_created", "-s"]
    args += ["--report-dir", str(tmp_path)]
    with running_emulator() as running:
        done, _ = run_suite(*args, *(["--target-url", running.url] if target == "url" else []))
        assert done.returncode == 0, done.stdout[-3000:]
        assert f"SWEEPS {0 if target == 'embedded' else 1}" in done.stdout, done.stdout[-2000:]
        if target == "url":
            assert_no_resources_left(running.url)


def assert_no_resources_left(url: str) -> None:
    client = ChimeClient(url)
    instances = client.call("ListAppInstances", {"MaxResults": 50}).json
    accounts = client.call("ListAccounts", {"MaxResults": 200}).json
    assert instances.get("AppInstances", []) == []
    assert accounts.get("Accounts", []) == []


@pytest.mark.slow
def test_a_server_that_is_not_chime_fails_every_test_understandably_in_bounded_time(
    tmp_path: Path,
) -> None:
    requests: list[str] = []

    class Counting(SimpleHTTPRequestHandler):
        def parse_request(self) -> bool:
            requests.append(self.raw_requestline.decode("latin-1").strip())
            return super().parse_request()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        done, _ = run_suite(
            "--target-url",
            url,
            "-k",
            "AppInstanceBot and not linked",
            "--report-dir",
            str(tmp_path),
            # every test fails: pytest's long tracebacks (an AST walk per frame,
            # half of this run's CPU) would say nothing the line form does not
            "--tb=line",
            timeout=120,
        )
    finally:
        server.shutdown()
    assert done.returncode == 1
    # bounded: about one request per operation (the slice has many tests), no retries
    assert len(requests) <= 2 * len(spec.operations()), requests
    assert "INTERNALERROR" not in done.stdout + done.stderr
    assert " passed" not in done.stdout.splitlines()[-1]
    assert "could not create the AppInstance this test needs: 501" in done.stdout


@pytest.mark.parametrize(
    ("args", "env", "profile"),
    [
        (["--no-shrink"], {}, "chime-ci-no-shrink"),
        ([], {"CHIME_CONFORMANCE_NO_SHRINK": "1"}, "chime-ci-no-shrink"),
        ([], {}, "chime-ci"),
    ],
)
def test_no_shrink_loads_the_profile_without_its_shrink_phase(
    args: list[str], env: dict[str, str], profile: str
) -> None:
    done = forked.run(
        [sys.executable, "-m", "pytest", str(SUITE), "--collect-only", "-v", "-k", "zzz",
         "-p", "no:cacheprovider", "--hypothesis-profile", "ci", *args],
        capture_output=True, text=True, timeout=120, cwd=REPO,
        env={**os.environ, "CHIME_CONFORMANCE_NO_SHRINK": "", **env},
    )  # fmt: skip
    header = next(line for line in done.stdout.splitlines() if "hypothesis profile" in line)
    assert f"hypothesis profile '{profile}'" in header
    if profile.endswith("no-shrink"):  # its phases are listed: shrink and explain are not
        assert "Phase.generate" in header
        assert "Phase.shrink" not in header and "Phase.explain" not in header
    else:  # all phases: Hypothesis does not list them
        assert "phases=" not in header
