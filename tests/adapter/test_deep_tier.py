"""The tests marked ``deep`` are skipped, with the reason, unless asked for
(tests/conftest.py): CI runs what the README's command runs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.support import pytest_forkserver as forked

REPO = Path(__file__).resolve().parents[2]
DEEP_CASES = "tests/run/test_sweep.py::test_ctrl_c_at_a_random_moment_leaves_nothing_behind"


def run(*args: str, env: dict[str, str] | None = None) -> str:
    done = forked.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", *args],
        capture_output=True, text=True, timeout=120, cwd=REPO,
        env={**os.environ, "CHIME_TESTS_DEEP": "", **(env or {})},
    )  # fmt: skip
    return done.stdout


def test_deep_tests_are_skipped_with_the_reason_unless_asked_for() -> None:
    skipped = run(f"{DEEP_CASES}[2]", f"{DEEP_CASES}[3]")
    assert "2 skipped" in skipped and "deep test: run with --deep" in skipped, skipped
    # asked for (CHIME_TESTS_DEEP=1 is --deep's default): set up to run, not skipped
    deep = run("--setup-plan", f"{DEEP_CASES}[2]", env={"CHIME_TESTS_DEEP": "1"})
    assert "SKIPPED" not in deep and "skipped" not in deep and "SETUP" in deep, deep
