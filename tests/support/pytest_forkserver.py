"""Runs ``python -m pytest …`` (or ``python -m <module> …``) many times,
paying Python's start-up and the suite's imports once.

The tests run the suite as a user runs it, in a process of its own: about a
hundred times in a CI run (usage errors, slices against misbehaving targets,
shards, the mutation matrix's eighty slices), most of them a fraction of a
second of work after a second and a half of start-up and imports (pytest, its
plugins, Hypothesis, schemathesis, botocore, the suite's own packages). This
server imports those once, then forks a child per run: the child takes the
run's standard streams, working directory, environment and ``sys.argv``, and
runs the module as ``python -m`` would (``runpy``), so ``pytest.main`` starts a
fresh session (new config, plugins loaded from their entry points, its own
collection) in a process of its own that can be signalled, killed and waited
for.

Only modules pytest does not rewrite are imported ahead: the suite's test
files and conftests, and plugins given with ``-p``, are imported by each
child's own collection, with pytest's assertion rewriting, exactly as in a
fresh interpreter. What a fresh interpreter would see and a child does not:
environment variables read while a preloaded module was imported (none of the
suite's are; Hypothesis picks its ``ci`` profile from ``CI`` then, so the
server is started with the caller's environment) and its interpreter options.

Protocol, over a Unix socket, one connection a run: the client sends its
stdin, stdout and stderr descriptors (``socket.send_fds``), then one JSON line
``{"module", "args", "cwd", "env"}``; the server forks, answers the child's
pid, and when the child has ended, its exit status (negative: the signal that
ended it, as :class:`subprocess.Popen` says it). End of the server's stdin
ends the server and its runs. :func:`run` and :func:`popen` are the client's
side, shaped as :func:`subprocess.run` and :class:`subprocess.Popen`.

    python -m tests.support.pytest_forkserver SOCKET
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]

# Imported once, before any fork: what every run of the suite imports. Test
# files and conftests are left out (each child's collection imports them);
# the plugins of the environment (pytest11 entry points) are added by preload().
PRELOAD = (
    "pytest",
    "_pytest.pytester",
    "hypothesis",
    "hypothesis.extra.pytestplugin",
    "hypothesis.stateful",
    "schemathesis",
    "schemathesis.pytest",
    "botocore.session",
    "requests",
    "jsonschema",
    "jinja2",
    "yaml",
    "asyncio",
    "pdb",
    "chime_conformance.pytest_plugin.plugin",
    "chime_conformance.pytest_plugin.session",
    "chime_conformance.pytest_plugin.fixtures",
    "chime_conformance.pytest_plugin.outcomes",
    "chime_conformance.pytest_plugin.profiles",
    "chime_conformance.pytest_plugin.terminal",
    "chime_conformance.pytest_plugin.usage",
    "chime_conformance.pytest_plugin.what_ran",
    "chime_conformance.pytest_plugin._library_internals",
    "chime_conformance.run.baseline",
    "chime_conformance.run.conclusion",
    "chime_conformance.run.example_db",
    "chime_conformance.run.implementation",
    "chime_conformance.run.sweep",
    "chime_conformance.run.worker_report",
    "chime_conformance.testing.pytest_fixtures",
    "chime_conformance.wire.client",
    "chime_conformance.checks",
    "chime_conformance.strategies",
    "chime_conformance.reporting.write",
    "chime_conformance.emulator.app",
    "conformance._schemathesis_harness",
    "conformance.scenario",
    "conformance.resources",
    "conformance.machines.harness",
)
READY = "ready"
QUIET = "-W ignore::pytest.PytestAssertRewriteWarning"


def preload() -> None:
    import importlib
    import importlib.metadata

    from chime_conformance.pytest_plugin._library_internals import scan_hypothesis_constants

    for name in PRELOAD:
        with contextlib.suppress(ImportError):  # optional: the child imports what it needs
            importlib.import_module(name)
    for entry in importlib.metadata.entry_points(group="pytest11"):
        with contextlib.suppress(Exception):  # a broken plugin fails in the run, as it would
            entry.load()
    # each run draws from the constants of the modules it has: these, scanned once
    scan_hypothesis_constants()


# --------------------------------------------------------------------------
# The server


def serve(path: str) -> None:
    preload()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    wake_read, wake_write = os.pipe()  # SIGCHLD wakes the loop to report an ended run
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C meant for a run is the run's
    runs: dict[int, socket.socket] = {}
    print(READY, flush=True)
    try:
        while True:
            readable, _, _ = select.select([listener, sys.stdin, wake_read], [], [], 5)
            if wake_read in readable:
                os.read(wake_read, 4096)
            _report_ended(runs)
            if sys.stdin in readable and not sys.stdin.readline():
                return  # the client is gone
            if listener in readable:
                connection, _ = listener.accept()
                with contextlib.suppress(OSError, ValueError):
                    _start(connection, runs, (listener.fileno(), wake_read, wake_write))
    finally:
        for pid in runs:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _report_ended(runs: dict[int, socket.socket]) -> None:
    for pid in list(runs):
        ended, status = os.waitpid(pid, os.WNOHANG)
        if ended:
            connection = runs.pop(pid)
            with contextlib.suppress(OSError):
                connection.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())
            connection.close()


def _start(
    connection: socket.socket, runs: dict[int, socket.socket], server_fds: tuple[int, ...]
) -> None:
    _, fds, _, _ = socket.recv_fds(connection, 1, 3)
    request = json.loads(_read_line(connection))
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the run: never returns to the loop
        code = 70  # EX_SOFTWARE, if setting the run up failed
        try:
            # the server's sockets are not the run's: an ended server must
            # read as ended to every client, whatever runs are still going
            for fd in (*server_fds, *(c.fileno() for c in (*runs.values(), connection))):
                with contextlib.suppress(OSError):
                    os.close(fd)
            code = _run_child(request, fds)
        finally:
            os._exit(code)
    for fd in fds:
        os.close(fd)
    runs[pid] = connection
    connection.sendall(f"{pid}\n".encode())


def _read_line(connection: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(65536)
        if not chunk:
            raise ValueError("the request ended early")
        data += chunk
    return data.decode()


def _run_child(request: dict[str, Any], fds: list[int]) -> int:
    """In the forked child: become ``python -m MODULE ARGS`` and run it."""
    import runpy

    signal.set_wakeup_fd(-1)
    for number in (signal.SIGCHLD, signal.SIGTERM):
        signal.signal(number, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    # pytest would rewrite the plugins' own modules had they not been imported
    # ahead; it says so once per plugin, and rewriting them tests nothing here
    os.environ["PYTEST_ADDOPTS"] = f"{os.environ.get('PYTEST_ADDOPTS', '')} {QUIET}".strip()
    extra = [p for p in request["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:1] = [request["cwd"], *extra]  # as python -m puts the working directory first
    sys.argv = [request["module"], *request["args"]]
    # python -m runs a module no one imported yet (runpy warns otherwise)
    sys.modules.pop(request["module"], None)
    try:
        runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exit_:
        code = _exit_code(exit_.code)
    except BaseException:
        traceback.print_exc()
        code = 1
    with contextlib.suppress(Exception):
        atexit._run_exitfuncs()  # as the interpreter would at its exit
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    return code


def _exit_code(code: Any) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


# --------------------------------------------------------------------------
# The client


class ForkServer:
    """A ``python -m tests.support.pytest_forkserver`` process: runs forked from
    one interpreter that imported everything once, any number at a time."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="chime-forks-")
        self.path = os.path.join(self.folder, "socket")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.pytest_forkserver", self.path],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its runs die with it (kill)
            # each run gets its caller's environment; the server, the suite's none
            env={k: v for k, v in os.environ.items() if not k.startswith("CHIME_")},
        )
        assert self.process.stdout is not None
        ready = self.process.stdout.readline().strip()
        if ready != READY:
            self.kill()
            raise RuntimeError(f"the fork server did not start (it said {ready!r})")

    def alive(self) -> bool:
        return self.process.poll() is None

    def popen(
        self,
        command: Sequence[str],
        *,
        cwd: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        stdout: int | IO[Any] | None = None,
        stderr: int | IO[Any] | None = None,
        text: bool = False,
    ) -> ForkedRun:
        """``subprocess.Popen(command, …)`` for ``command`` =
        ``[sys.executable, "-m", MODULE, *ARGS]``, as a child of this server."""
        module, args = _module_and_args(command)
        request = {
            "module": module,
            "args": args,
            "cwd": os.path.abspath(cwd if cwd is not None else os.getcwd()),
            "env": dict(os.environ if env is None else env),
        }
        return ForkedRun(self.path, list(command), request, stdout, stderr, text)

    def run(
        self,
        command: Sequence[str],
        *,
        cwd: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        capture_output: bool = False,
        stdout: int | IO[Any] | None = None,
        stderr: int | IO[Any] | None = None,
        text: bool = False,
        check: bool = False,
    ) -> subprocess.CompletedProcess[Any]:
        """``subprocess.run(command, …)`` for ``[sys.executable, "-m", MODULE, *ARGS]``."""
        if capture_output:
            stdout = stderr = subprocess.PIPE
        process = self.popen(command, cwd=cwd, env=env, stdout=stdout, stderr=stderr, text=text)
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        finally:
            process.close_pipes()
        done = subprocess.CompletedProcess(list(command), process.returncode, out, err)
        if check:
            done.check_returncode()
        return done

    def kill(self) -> None:
        """The server and every run it has going, at once."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def close(self) -> None:
        """End the server (its runs end with it)."""
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


def _module_and_args(command: Sequence[str]) -> tuple[str, list[str]]:
    if len(command) < 3 or command[0] != sys.executable or command[1] != "-m":
        raise ValueError(f"not a [sys.executable, '-m', module, …] command: {command!r}")
    return command[2], list(command[3:])


class ForkedRun:
    """One run of the server, shaped as :class:`subprocess.Popen`: ``pid``,
    ``stdout``/``stderr`` (with ``PIPE``), ``poll``, ``wait``, ``communicate``,
    ``send_signal``, ``terminate``, ``kill``."""

    def __init__(
        self,
        path: str,
        args: list[str],
        request: dict[str, Any],
        stdout: int | IO[Any] | None,
        stderr: int | IO[Any] | None,
        text: bool,
    ) -> None:
        self.args = args
        self.returncode: int | None = None
        self.stdout: IO[Any] | None = None
        self.stderr: IO[Any] | None = None
        sent, ours = _descriptors(stdout, stderr)
        self._connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._connection.connect(path)
            socket.send_fds(self._connection, [b"F"], sent)
            self._connection.sendall((json.dumps(request) + "\n").encode())
        finally:
            for fd in sent:  # the run has them now
                os.close(fd)
        self._replies = self._connection.makefile("r", encoding="ascii")
        pid = self._replies.readline()
        if not pid.strip():
            raise RuntimeError("the fork server did not start the run")
        self.pid = int(pid)
        for name, fd in ours.items():
            setattr(self, name, open(fd, "r" if text else "rb", closefd=True))  # noqa: SIM115

    def close_pipes(self) -> None:
        for stream in (self.stdout, self.stderr):
            if stream is not None:
                stream.close()

    def poll(self) -> int | None:
        if self.returncode is None:
            ready, _, _ = select.select([self._connection], [], [], 0)
            if ready:
                self._read_status()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            ready, _, _ = select.select([self._connection], [], [], timeout)
            if not ready:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            self._read_status()
        assert self.returncode is not None
        return self.returncode

    def _read_status(self) -> None:
        status = self._replies.readline()
        self._replies.close()
        self._connection.close()
        if not status.strip():
            raise RuntimeError(f"the fork server ended during the run (pid {self.pid})")
        self.returncode = int(status)

    def communicate(self, timeout: float | None = None) -> tuple[Any, Any]:
        """Read what the run writes to its pipes until it ends."""
        found: dict[str, Any] = {}
        readers = [
            threading.Thread(target=lambda n=name, s=stream: found.update({n: s.read()}))
            for name, stream in (("stdout", self.stdout), ("stderr", self.stderr))
            if stream is not None
        ]
        for reader in readers:
            reader.daemon = True
            reader.start()
        self.wait(timeout)
        for reader in readers:
            reader.join(timeout)
        self.close_pipes()
        return found.get("stdout"), found.get("stderr")

    def send_signal(self, number: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, number)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _descriptors(
    stdout: int | IO[Any] | None, stderr: int | IO[Any] | None
) -> tuple[list[int], dict[str, int]]:
    """The run's stdin, stdout and stderr descriptors, and the read ends of its
    pipes (by stream name) for the caller."""
    sent = [os.open(os.devnull, os.O_RDONLY)]
    ours: dict[str, int] = {}
    for name, inherited, wanted in (("stdout", 1, stdout), ("stderr", 2, stderr)):
        if wanted is None:
            sent.append(os.dup(inherited))
        elif wanted == subprocess.STDOUT:
            sent.append(os.dup(sent[1]))
        elif wanted == subprocess.DEVNULL:
            sent.append(os.open(os.devnull, os.O_WRONLY))
        elif wanted == subprocess.PIPE:
            read, write = os.pipe()
            ours[name] = read
            sent.append(write)
        else:
            fileno = wanted if isinstance(wanted, int) else wanted.fileno()
            sent.append(os.dup(fileno))
    return sent, ours


# --------------------------------------------------------------------------
# One server per process of the tests, started when first used

_SHARED: list[ForkServer] = []
_SHARED_LOCK = threading.Lock()


def shared() -> ForkServer:
    """This process's fork server (started on first use, ended at exit)."""
    with _SHARED_LOCK:
        if not _SHARED or not _SHARED[0].alive():
            if _SHARED:
                _SHARED.pop().kill()
            _SHARED.append(ForkServer())
            atexit.register(_SHARED[0].close)
        return _SHARED[0]


def run(command: Sequence[str], **options: Any) -> subprocess.CompletedProcess[Any]:
    """:func:`subprocess.run` of ``[sys.executable, "-m", MODULE, *ARGS]``, forked."""
    return shared().run(command, **options)


def popen(command: Sequence[str], **options: Any) -> ForkedRun:
    """:class:`subprocess.Popen` of ``[sys.executable, "-m", MODULE, *ARGS]``, forked."""
    return shared().popen(command, **options)


if __name__ == "__main__":
    serve(sys.argv[1])
