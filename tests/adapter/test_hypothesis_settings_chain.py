"""The plugin keeps a parametrized Hypothesis test's settings one layer deep.

Hypothesis' pytest plugin stacks a ``settings(parent=...)`` per parametrized
item on the function the items share; every read of an unset setting walks the
stack (about 1 % of a ``ci`` run at 460 items). In the suite's runs,
chime_conformance.pytest_plugin.plugin puts the settings back after each item; another
project's run is left alone."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.support import pytest_forkserver as forked

REPO = Path(__file__).resolve().parents[2]
FOREIGN_TEST = """
import pytest
from hypothesis import given, settings, strategies as st

@pytest.mark.parametrize("k", range(40))
@settings(max_examples=1, database=None)
@given(x=st.integers())
def test_item(k, x):
    pass
"""


def max_depth(cwd: Path, *args: str) -> int:
    command = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider"]
    command += ["-p", "tests.support.settings_depth_probe", *args]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = forked.run(command, capture_output=True, text=True, cwd=cwd, timeout=300, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("MAX_DEPTH"))
    return int(line.split()[1])


def test_in_the_suite_a_parametrized_tests_settings_stay_one_layer_deep() -> None:
    # 26 items of one parametrized test: stacked, the chain would be 27 deep
    depth = max_depth(
        REPO, "conformance", "--hypothesis-profile", "ci", "--no-shrink",
        "-k", "constraint_holds and UpdateAppInstanceUser",
    )  # fmt: skip
    assert 0 < depth <= 3


def test_another_projects_run_is_left_alone(tmp_path: Path) -> None:
    # also the reason for the hook: should Hypothesis stop stacking, this fails
    # and the hook can go
    (tmp_path / "test_foreign.py").write_text(FOREIGN_TEST)
    assert max_depth(tmp_path, "test_foreign.py") >= 40
