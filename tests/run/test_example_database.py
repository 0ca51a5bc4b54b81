"""Examples that travel: a failure found in one run is replayed first by the next.

The suite's profiles (but ``ci``) keep failing examples in a directory
database, multiplexed with the nightly workflow's artifact when
``CHIME_CONFORMANCE_EXAMPLES_REPO`` names the repository.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.database import (
    DirectoryBasedExampleDatabase,
    GitHubArtifactDatabase,
    MultiplexedDatabase,
    ReadOnlyDatabase,
)

from chime_conformance.emulator.app import EmulatorConfig
from chime_conformance.pytest_plugin._library_internals import wrapped_databases
from chime_conformance.pytest_plugin.options import example_sources
from chime_conformance.pytest_plugin.profiles import register_hypothesis_profiles
from chime_conformance.run.config import ConfigurationError
from chime_conformance.run.example_db import DEFAULT_ARTIFACT, DEFAULT_DIR, example_database
from tests.support import pytest_forkserver as forked
from tests.support.recording_emulator import RecordingEmulator

REPO = Path(__file__).resolve().parents[2]
FAULT = "server_error_on_non_ascii"  # any non-ASCII character in a request: 500
TEST = "test_a_valid_request_is_accepted and UpdateAppInstance]"
UPDATE = re.compile(r"^/app-instances/[^/]+$")


def test_locally_the_database_is_a_directory_and_nothing_contacts_github() -> None:
    database = example_database(**example_sources({}))
    assert isinstance(database, DirectoryBasedExampleDatabase)
    assert database.path == DEFAULT_DIR
    chosen = example_database(**example_sources({"CHIME_CONFORMANCE_EXAMPLES_DIR": "/tmp/x"}))
    assert isinstance(chosen, DirectoryBasedExampleDatabase) and str(chosen.path) == "/tmp/x"


def test_with_a_repository_the_nightlys_artifact_is_read_only_and_multiplexed() -> None:
    sources = example_sources({"CHIME_CONFORMANCE_EXAMPLES_REPO": "acme/chime-conformance"})
    database = example_database(**sources)
    assert isinstance(database, MultiplexedDatabase)
    local, shared = wrapped_databases(database)
    assert isinstance(local, DirectoryBasedExampleDatabase)
    assert isinstance(shared, ReadOnlyDatabase)
    (artifact,) = wrapped_databases(shared)
    assert isinstance(artifact, GitHubArtifactDatabase)
    assert (artifact.owner, artifact.repo, artifact.artifact_name) == (
        "acme",
        "chime-conformance",
        DEFAULT_ARTIFACT,
    )
    with pytest.raises(ConfigurationError, match="owner/name"):
        example_sources({"CHIME_CONFORMANCE_EXAMPLES_REPO": "not a repo"})


def test_ci_keeps_no_database_and_the_other_profiles_do() -> None:
    register_hypothesis_profiles()
    assert settings.get_profile("ci").database is None
    for name in ("default", "nightly"):
        assert isinstance(settings.get_profile(name).database, DirectoryBasedExampleDatabase)


def examples_until_failure(emulator: RecordingEmulator, since: int) -> int:
    """UpdateAppInstance requests the run sent up to its first 500, counted from ``since``."""
    updates = [
        status
        for _, method, path, status, _ in emulator.log[since:]
        if method == "PUT" and UPDATE.match(path.split("?")[0])
    ]
    assert 500 in updates, updates
    return updates.index(500) + 1


@pytest.mark.slow
def test_a_failure_found_in_one_run_is_replayed_first_by_the_next(tmp_path: Path) -> None:
    config = EmulatorConfig(host="127.0.0.1", port=0, faults=(FAULT,), allow_faults=True)
    env = {**os.environ, "CHIME_CONFORMANCE_EXAMPLES_DIR": str(tmp_path / "examples")}
    env.pop("CHIME_CONFORMANCE_EXAMPLES_REPO", None)
    counts, outputs = [], []
    with RecordingEmulator(1, config) as emulator:
        for run in (1, 2):
            since = len(emulator.log)
            done = forked.run(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    str(REPO / "conformance"),
                    "-p",
                    "no:cacheprovider",
                    "-p",
                    "tests.support.replay_profile",
                    "--hypothesis-profile",
                    "replay",
                    "--hypothesis-show-statistics",
                    "-k",
                    TEST,
                    "--target-url",
                    emulator.url(1),
                    "--report-dir",
                    str(tmp_path / f"run{run}"),
                ],
                capture_output=True,
                text=True,
                timeout=600,
                cwd=REPO,
                env=env,
            )
            assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
            counts.append(examples_until_failure(emulator, since))
            outputs.append(done.stdout)
    first, second = outputs
    assert "during generate phase" in first and "during reuse phase" not in first
    # the second run found the error while replaying the database, never generating
    reuse = second.split("during reuse phase", 1)[1]
    assert "Found 1 distinct error in this phase" in reuse.split("during", 1)[0]
    assert "during generate phase" not in second
    assert counts[1] == 1 <= counts[0]  # the saved example is the first one sent
    print(f"examples to the failure: first run {counts[0]}, second run {counts[1]}")
