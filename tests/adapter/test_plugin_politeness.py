"""Installing chime-conformance changes nothing in another project's pytest
run: its Hypothesis profiles, options, fixtures and reports stay out of it.
And in the suite's own run, reports are written without the terminal."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import pytest

from chime_conformance.emulator.server import running_emulator
from chime_conformance.pytest_plugin._library_internals import hypothesis_ci_variables
from tests.support import pytest_forkserver as forked

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[2]

FOREIGN_CONFTEST = """
from datetime import timedelta
from hypothesis import settings

settings.register_profile("default", max_examples=7, deadline=timedelta(milliseconds=1234))
settings.register_profile("ci", max_examples=3)
"""
FOREIGN_TEST = """
import os
from datetime import timedelta
from hypothesis import given, settings, strategies as st

EXPECTED = int(os.environ["EXPECTED_MAX_EXAMPLES"])
calls = []

def test_the_projects_own_profile_is_in_force():
    assert settings.default.max_examples == EXPECTED
    assert settings.get_current_profile_name() == os.environ["EXPECTED_PROFILE"]

@given(st.integers())
def test_a_property(number):
    calls.append(number)
    assert isinstance(number, int)

def test_the_property_ran_as_often_as_the_project_says():
    assert len(calls) == EXPECTED
"""


@pytest.mark.parametrize(
    ("args", "profile", "examples"),
    [((), "default", 7), (("--hypothesis-profile", "default"), "default", 7),
     (("--hypothesis-profile", "ci"), "ci", 3)],
)  # fmt: skip
def test_a_foreign_project_runs_unchanged_with_the_plugin_installed(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    profile: str,
    examples: int,
) -> None:
    pytester.makeconftest(FOREIGN_CONFTEST)
    pytester.makepyfile(test_foreign=FOREIGN_TEST)
    monkeypatch.setenv("EXPECTED_MAX_EXAMPLES", str(examples))
    monkeypatch.setenv("EXPECTED_PROFILE", profile)
    # Hypothesis itself loads a project's `ci` profile when it sees a CI
    # environment (CI=true in .ci/run): that is Hypothesis, not this plugin
    for variable in hypothesis_ci_variables():
        monkeypatch.delenv(variable, raising=False)
    # settings that would stop a suite run at once must not touch this one
    monkeypatch.setenv("CHIME_CONFORMANCE_TARGET_URL", "https://chime.example.com")
    monkeypatch.setenv("CHIME_CONFORMANCE_OPERATIONS", "NoSuchOperation")
    monkeypatch.setenv("CHIME_CONFORMANCE_BASELINE", str(pytester.path / "absent.yaml"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=3)
    assert result.ret == 0
    header = [line for line in result.outlines if line.startswith("plugins:")]
    assert header and "chime-conformance" in header[0]  # installed, and loaded
    rest = "\n".join(line for line in result.outlines if not line.startswith("plugins:"))
    assert "chime" not in rest.lower()
    assert not (pytester.path / "reports").exists()
    assert not list(pytester.path.rglob("junit.xml"))


class RequestLines(logging.Handler):
    """The emulator's one log line per request, kept."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_the_suite_writes_its_reports_without_the_terminal_and_probes_once(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHIME_CONFORMANCE_")}
    requests = RequestLines()
    emulator_log = logging.getLogger("chime_conformance.emulator")
    emulator_log.addHandler(requests)
    level = emulator_log.level
    emulator_log.setLevel(logging.INFO)
    with running_emulator() as emulator:
        done = forked.run(
            [sys.executable, "-m", "pytest", str(REPO / "conformance" / "test_requests.py"),
             "-p", "no:cacheprovider", "-p", "no:terminal", "-o", "addopts=", "--hypothesis-profile", "ci",
             "-k", "test_a_valid_request_is_accepted and ListAppInstances]",
             "--target-url", emulator.url, "--report-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=240, cwd=REPO, env=env,
        )  # fmt: skip
    emulator_log.removeHandler(requests)
    emulator_log.setLevel(level)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    # the reachability probe (an unsigned GET /app-instances), once per run
    probes = [line for line in requests.lines if line.startswith("GET /app-instances 403")]
    assert len(probes) == 1
    document = json.loads((tmp_path / "results.json").read_text())
    assert document["run"]["hypothesis_profile"] == "ci"
    assert document["score"]["value"] == 1.0
    verdicts = {v["operation"]: v["verdict"] for v in document["verdict"]["verdicts"]}
    assert verdicts["ListAppInstances"] == "implemented"
    assert (tmp_path / "compliance.html").is_file()
