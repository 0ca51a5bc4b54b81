"""The fork server that runs the mutation matrix's slices: each run is a
pytest session of its own, with the test file's assertions rewritten as in a
fresh interpreter, and a run over its time can be killed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.pytest_forkserver import ForkServer


def drain(output: Iterator[str]) -> tuple[str, int]:
    lines: list[str] = []
    while True:
        try:
            lines.append(next(output))
        except StopIteration as end:
            return "".join(lines), end.value


@pytest.fixture
def server() -> Iterator[ForkServer]:
    forked = ForkServer()
    yield forked
    forked.kill()
    forked.close()


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
    output, code = drain(server.run([str(failing), *common]))
    assert code == 1, output
    assert "assert 2 == 3" in output  # pytest's rewriting: the values, not just the line
    output, code = drain(server.run([str(passing), *common]))
    assert code == 0, output  # the first session's module did not leak into this one
    assert "1 passed" in output


def test_a_run_killed_over_its_time_ends_instead_of_hanging(
    server: ForkServer, tmp_path: Path
) -> None:
    sleeping = tmp_path / "test_sleeping.py"
    sleeping.write_text("import time\n\ndef test_sleep():\n    time.sleep(600)\n")
    output = server.run([str(sleeping), "-p", "no:cacheprovider", "--rootdir", str(tmp_path)])
    killer = threading.Timer(1.0, server.kill)
    killer.start()
    with pytest.raises(RuntimeError, match="the fork server ended"):
        drain(output)
    killer.cancel()
