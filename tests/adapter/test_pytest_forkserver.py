"""The fork server that runs the suite for the tests: each run is a process
of its own, as ``subprocess`` would start it (its streams, working directory,
environment, arguments, exit status, signals), and a pytest session of its own,
with the test file's assertions rewritten as in a fresh interpreter."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.pytest_forkserver import ForkServer

PROBE = """
import os, sys
print("cwd", os.getcwd())
print("argv", sys.argv[1:])
print("env", os.environ.get("CHIME_FORK_PROBE"), "HOME" in os.environ)
print("path0", sys.path[0])
print("said on stderr", file=sys.stderr)
sys.exit(int(sys.argv[1]))
"""


@pytest.fixture(scope="module")
def server() -> Iterator[ForkServer]:
    forked = ForkServer()
    yield forked
    forked.close()


def test_a_run_has_its_own_streams_directory_environment_arguments_and_status(
    server: ForkServer, tmp_path: Path
) -> None:
    (tmp_path / "fork_probe.py").write_text(PROBE)
    done = server.run(
        [sys.executable, "-m", "fork_probe", "3", "an argument"],
        cwd=tmp_path,
        env={"CHIME_FORK_PROBE": "given", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 3
    assert done.stdout.splitlines() == [
        f"cwd {tmp_path}",
        "argv ['3', 'an argument']",
        "env given False",  # the environment given, not the server's
        f"path0 {tmp_path}",  # as python -m: the working directory first
    ]
    assert done.stderr == "said on stderr\n"
    merged = server.run(
        [sys.executable, "-m", "fork_probe", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert merged.returncode == 0 and "said on stderr" in merged.stdout


def test_each_run_is_a_session_of_its_own_with_rewritten_assertions(
    server: ForkServer, tmp_path: Path
) -> None:
    failing = tmp_path / "test_failing.py"
    failing.write_text("def test_sum():\n    total = 1 + 1\n    assert total == 3\n")
    passing = tmp_path / "test_passing.py"
    passing.write_text(
        "import sys\n\ndef test_fresh():\n    assert 'test_failing' not in sys.modules\n"
    )
    common = ["-p", "no:cacheprovider", "--rootdir", str(tmp_path)]
    pytest_ = [sys.executable, "-m", "pytest"]
    done = server.run([*pytest_, str(failing), *common], capture_output=True, text=True)
    assert done.returncode == 1, done.stdout
    assert "assert 2 == 3" in done.stdout  # pytest's rewriting: the values, not just the line
    assert "warning" not in done.stdout.lower()  # nothing said of the modules imported ahead
    done = server.run([*pytest_, str(passing), *common], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout  # the first session's module did not leak
    assert "1 passed" in done.stdout


def test_runs_go_side_by_side_and_take_signals(server: ForkServer, tmp_path: Path) -> None:
    sleeping = tmp_path / "test_sleeping.py"
    sleeping.write_text("import time\n\ndef test_sleep():\n    time.sleep(600)\n")
    command = [sys.executable, "-m", "pytest", str(sleeping), "-p", "no:cacheprovider"]
    runs = [
        server.popen(command, cwd=tmp_path, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    assert len({run.pid for run in runs}) == 2
    time.sleep(1.5)  # both are in their test
    assert [run.poll() for run in runs] == [None, None]
    runs[0].send_signal(signal.SIGINT)  # Ctrl-C: pytest stops and reports, exit 2
    output, _ = runs[0].communicate(timeout=60)
    assert runs[0].returncode == 2 and "KeyboardInterrupt" in output, output
    runs[1].kill()
    assert runs[1].wait(timeout=60) == -signal.SIGKILL
    for run in runs:
        run.close_pipes()


def test_a_run_over_its_time_is_killed_and_said_so(server: ForkServer, tmp_path: Path) -> None:
    (tmp_path / "forever.py").write_text("import time\ntime.sleep(600)\n")
    with pytest.raises(subprocess.TimeoutExpired):
        server.run([sys.executable, "-m", "forever"], cwd=tmp_path, timeout=1)


def test_only_python_dash_m_commands_are_taken(server: ForkServer) -> None:
    with pytest.raises(ValueError, match="not a"):
        server.run(["pytest", "--version"])
