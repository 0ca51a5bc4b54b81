"""Every usage error is found before the run's first request: one sentence on
stderr, exit status 4, and the target (a server that counts what it is sent)
never asked anything."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import pytest_forkserver as forked

pytestmark = pytest.mark.slow  # a subprocess of the suite per bad input

EXIT_USAGE = 4
PREFIX = "chime-conformance: error: "


class CountingServer(http.server.ThreadingHTTPServer):
    """Answers every request 404 and counts them."""

    requests = 0


class _Counted(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        self.server.requests += 1  # type: ignore[attr-defined]
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def counting_target() -> Iterator[CountingServer]:
    server = CountingServer(("127.0.0.1", 0), _Counted)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def run(target: CountingServer, *options: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``chime-conformance run`` against the counting server, as a user runs it."""
    url = f"http://127.0.0.1:{target.server_address[1]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHIME_CONFORMANCE_")}
    command = [sys.executable, "-m", "chime_conformance.cli", "run", "--target-url", url]
    return forked.run(
        [*command, *options], capture_output=True, text=True, timeout=120, cwd=cwd, env=env
    )


def one_sentence(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(PREFIX), lines[0]
    assert "Traceback" not in done.stdout + done.stderr
    return lines[0]


def bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    """name → (options, what the sentence must say)."""
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    wrong_key = tmp_path / "wrong-key.yaml"
    wrong_key.write_text("hello: world\n")
    unknown_key = tmp_path / "unknown-key.yaml"
    unknown_key.write_text(
        "known_failures:\n  - {operation: ListAppInstances, check: status_code_matches_spec,"
        " reason: r, sevrity: high}\n"
    )
    not_yaml = tmp_path / "not-yaml.yaml"
    not_yaml.write_text("known_failures: [\n  - {\n")
    return {
        "report dir not creatable": (
            ["--report-dir", str(a_file / "reports")],
            f"--report-dir {a_file / 'reports'}: cannot write reports there",
        ),
        "report dir not writable": (
            ["--report-dir", "/proc/chime-reports"],
            "--report-dir /proc/chime-reports: cannot write reports there",
        ),
        "unknown hypothesis profile": (
            ["--hypothesis-profile", "bogus"],
            "'bogus' is not a profile of the suite; the profiles are ci, default, nightly",
        ),
        "baseline with the wrong top-level key": (
            ["--baseline", str(wrong_key)],
            f"--baseline {wrong_key}: 'known_failures' is a required property",
        ),
        "baseline with an unknown key": (
            ["--baseline", str(unknown_key)],
            "('sevrity' was unexpected)",
        ),
        "baseline that is not YAML": (
            ["--baseline", str(not_yaml)],
            f"not YAML (while parsing a flow node expected the node content, but found '-' in \"{not_yaml}\"",
        ),
    }


CASES = [
    "report dir not creatable",
    "report dir not writable",
    "unknown hypothesis profile",
    "baseline with the wrong top-level key",
    "baseline with an unknown key",
    "baseline that is not YAML",
]


@pytest.mark.parametrize("case", CASES)
def test_a_usage_error_is_one_sentence_exit_4_before_any_request(
    case: str, counting_target: CountingServer, tmp_path: Path
) -> None:
    options, said = bad_inputs(tmp_path)[case]
    before = counting_target.requests
    done = run(counting_target, *options, cwd=tmp_path)
    assert done.returncode == EXIT_USAGE, done.stdout[-2000:] + done.stderr
    assert said in one_sentence(done)
    assert counting_target.requests == before, "the target was asked something"
    assert not (tmp_path / "reports" / "junit.xml").exists()


def test_the_counting_target_does_count(counting_target: CountingServer, tmp_path: Path) -> None:
    """The proof above is worth something only if a run that gets past its
    usage checks does ask the target: it probes it first (and, answered 404
    with no AWS error, goes on; -k selects nothing, so it stops there)."""
    before = counting_target.requests
    done = run(counting_target, "-k", "no_test_has_this_name", cwd=tmp_path)
    assert done.returncode == 5, done.stdout[-2000:] + done.stderr
    assert counting_target.requests > before
