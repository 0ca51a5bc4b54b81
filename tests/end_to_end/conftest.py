"""The wheel of this checkout, built once per test session.

tests/end_to_end/test_packaging.py reads it and test_installed_suite.py
installs it; ``pip wheel`` (an isolated build environment with hatchling)
is four seconds of CPU each time. Under xdist the two files may run on two
workers: the first to ask builds it into the session's shared temporary
folder, under a lock, and the other finds it there (pytest-xdist's recipe
for a session fixture run once)."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # the workers' folders share this parent
        shared = shared.parent
    folder = shared / "chime-wheel"
    with open(shared / "chime-wheel.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not list(folder.glob("chime_conformance-*.whl")):
            _build_wheel(folder)
    (wheel,) = folder.glob("chime_conformance-*.whl")
    return wheel


def _build_wheel(into: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(into), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
