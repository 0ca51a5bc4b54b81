"""Runs pytest many times in a row, paying Python's start-up and the suite's
imports once.

The mutation matrix (tests/end_to_end/test_mutation.py) runs about seventy slices of the
suite, most of them a handful of tests that take a fraction of a second; a
fresh ``python -m pytest`` spends about as long again importing pytest,
Hypothesis, schemathesis, botocore and the suite. This server imports those
once, then forks a child per run: the child inherits the imports and runs
``pytest.main(args)`` as a fresh pytest session (new config, new plugins, its
own collection), so each run is still independent of the others.

Only modules pytest does not rewrite are imported ahead: the suite's test
files and conftests are imported by each child's own collection, with pytest's
assertion rewriting, exactly as in a fresh process.

Protocol (one run at a time): the parent writes one JSON line
``{"args": [...]}`` on stdin; the child's output (stdout and stderr) follows on
stdout, then one line ``<SENTINEL> <exit code>``. End of stdin ends the server.
:class:`ForkServer` is the parent's side.

    python -m tests.support.pytest_forkserver
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SENTINEL = "\x00pytest-forkserver-exit"
# Imported once, before any fork: what every run of the suite imports. Test
# files and conftests are left out (each child's collection imports them).
PRELOAD = (
    "pytest",
    "_pytest.pytester",
    "xdist.plugin",
    "hypothesis",
    "hypothesis.extra.pytestplugin",
    "hypothesis.stateful",
    "_hypothesis_pytestplugin",
    "schemathesis",
    "schemathesis.pytest",
    "botocore.session",
    "requests",
    "jsonschema",
    "jinja2",
    "yaml",
    "chime_conformance.pytest_plugin.plugin",
    "chime_conformance.pytest_plugin.session",
    "chime_conformance.pytest_plugin.fixtures",
    "chime_conformance.wire.client",
    "chime_conformance.checks",
    "chime_conformance.run.implementation",
    "chime_conformance.strategies",
    "chime_conformance.reporting.write",
    "chime_conformance.emulator.app",
    "conformance._schemathesis_harness",
    "chime_conformance.pytest_plugin._library_internals",
    "conformance.scenario",
    "conformance.resources",
    "conformance.machines.harness",
)


def preload() -> None:
    import importlib

    for name in PRELOAD:
        with contextlib.suppress(ImportError):  # optional: the child imports what it needs
            importlib.import_module(name)


def run_child(args: list[str]) -> int:
    """In the forked child: one pytest session; never returns to the loop."""
    import pytest

    code = 70  # EX_SOFTWARE, if pytest itself blows up
    # Library modules imported ahead cannot be rewritten for assertions, which
    # pytest would say once per plugin; the suite's own files are rewritten.
    quiet = ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
    try:
        code = int(pytest.main([*args, *quiet]))
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def serve() -> None:
    preload()
    for line in sys.stdin:
        if not line.strip():
            continue
        args = list(json.loads(line)["args"])
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            os.dup2(sys.stdout.fileno(), sys.stderr.fileno())  # one stream, as 2>&1
            run_child(args)
        _, status = os.waitpid(pid, 0)
        print(f"{SENTINEL} {os.waitstatus_to_exitcode(status)}", flush=True)


class ForkServer:
    """A ``python -m tests.support.pytest_forkserver`` child: one pytest session at a
    time, each forked from a process that imported everything once."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.pytest_forkserver"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its forked sessions die with it (kill)
        )

    def kill(self) -> None:
        """The server and its running session, at once (a slice over its time)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def run(self, args: Sequence[str]) -> Iterator[str]:
        """The session's output, line by line; then its exit code (as the
        generator's return value)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"args": list(args)}) + "\n")
        self.process.stdin.flush()
        for line in self.process.stdout:
            if line.startswith(SENTINEL):
                return int(line.split()[-1])
            yield line
        raise RuntimeError(f"the fork server ended (exit {self.process.wait(timeout=10)})")

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


if __name__ == "__main__":
    serve()
