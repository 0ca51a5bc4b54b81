"""README's "Use the emulator in your own tests" examples, run as written: the
boto3 script, the pytest file, the JavaScript v3 script and the server-mode
shell lines (these two with Node, the AWS SDK for JavaScript v3 from npm, the
AWS CLI and curl where installed; otherwise a skip that names what is missing)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chime_conformance.testing import ChimeEmulator, mock_chime

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
EXAMPLE = re.compile(r"<!-- example: (\S+) -->\n```\w+\n(.*?)\n```\n", re.DOTALL)
# where .ci/run installs the npm package: a folder with node_modules/@aws-sdk/...
JS_SDK_ENV = "CHIME_CONFORMANCE_JS_SDK"
JS_SDK_PACKAGE = "@aws-sdk/client-chime-sdk-identity"
SERVER_MODE_PORT = "8080"  # chime-emulator's default, as everywhere in the README


def examples() -> dict[str, str]:
    section = README.read_text(encoding="utf-8").split("## Use the emulator in your own tests")[1]
    found = dict(EXAMPLE.findall(section.split("\n## ")[0]))
    assert set(found) == {"boto3", "pytest", "list-app-instances.mjs", "server-mode"}
    return found


def environment_without_aws() -> dict[str, str]:
    """This process' environment without the machine's AWS settings: each example
    gets only what it sets, or what mock_chime sets."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_") or k == "AWS_CA_BUNDLE"}


@pytest.fixture
def js_folder(tmp_path: Path) -> Path:
    """A folder where ``import ... from "@aws-sdk/client-chime-sdk-identity"`` resolves."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the JavaScript examples need Node.js")
    sdk = Path(os.environ.get(JS_SDK_ENV, REPO / ".cache" / "js-sdk")) / "node_modules"
    if not (sdk / JS_SDK_PACKAGE / "package.json").is_file():
        pytest.skip(
            f"{JS_SDK_PACKAGE} is not installed in {sdk.parent} (.ci/run installs it with npm; "
            f"or set {JS_SDK_ENV} to a folder with node_modules/{JS_SDK_PACKAGE})"
        )
    (tmp_path / "node_modules").symlink_to(sdk)
    return tmp_path


@pytest.fixture
def emulator_for_subprocesses(monkeypatch: pytest.MonkeyPatch) -> Iterator[ChimeEmulator]:
    for name in list(os.environ):
        if name.startswith("AWS_") and name != "AWS_CA_BUNDLE":
            monkeypatch.delenv(name)
    with mock_chime() as chime:
        yield chime


def run(command: list[str], cwd: Path, **options: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False, **options
    )  # type: ignore[call-overload]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done  # type: ignore[no-any-return]


def test_the_boto3_example_runs_as_written(tmp_path: Path) -> None:
    (tmp_path / "example.py").write_text(examples()["boto3"])
    done = run([sys.executable, "example.py"], tmp_path, env=environment_without_aws())
    assert re.fullmatch(
        r"http://127\.0\.0\.1:\d+: arn:aws:chime:us-east-1:123456789012:app-instance/\S+\n",
        done.stdout,
    )


def test_the_pytest_example_runs_as_written(tmp_path: Path) -> None:
    source = examples()["pytest"]
    assert source.startswith("# test_rooms.py\n")
    (tmp_path / "test_rooms.py").write_text(source)
    done = run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_rooms.py"],
        tmp_path,
        env=environment_without_aws(),
    )
    assert "4 passed" in done.stdout


def test_the_javascript_example_runs_as_written(
    js_folder: Path, emulator_for_subprocesses: ChimeEmulator
) -> None:
    emulator_for_subprocesses.seed.app_instance("support-chat")
    (js_folder / "list-app-instances.mjs").write_text(examples()["list-app-instances.mjs"])
    done = run(["node", "list-app-instances.mjs"], js_folder)  # the environment mock_chime set
    assert done.stdout.splitlines() == ["support-chat"]


RETRY_SCRIPT = """
import { ChimeSDKIdentityClient, ListAppInstancesCommand } from "@aws-sdk/client-chime-sdk-identity";

const client = new ChimeSDKIdentityClient({});
try {
  const answer = await client.send(new ListAppInstancesCommand({}));
  console.log(`answered after ${answer.$metadata.attempts} attempts`);
} catch (error) {
  console.log(`${error.name} after ${error.$metadata.attempts} attempts`);
}
"""


def test_the_javascript_sdk_retries_a_throttle_twice(
    js_folder: Path, emulator_for_subprocesses: ChimeEmulator
) -> None:
    """README's claim about the AWS SDK for JavaScript v3's default retries."""
    (js_folder / "retry.mjs").write_text(RETRY_SCRIPT)
    throttled = emulator_for_subprocesses.throttle(times=2)
    assert run(["node", "retry.mjs"], js_folder).stdout == "answered after 3 attempts\n"
    assert throttled.answered == 2
    throttled = emulator_for_subprocesses.throttle(times=10)
    assert run(["node", "retry.mjs"], js_folder).stdout == (
        "ThrottledClientException after 3 attempts\n"
    )
    assert throttled.answered == 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_server_mode_example_runs_as_written(js_folder: Path) -> None:
    for tool, what in (("aws", "the AWS CLI (aws)"), ("curl", "curl")):
        if shutil.which(tool) is None:
            pytest.skip(f"{what} is not installed: the server-mode example uses it")
    script, javascript = examples()["server-mode"], examples()["list-app-instances.mjs"]
    assert f"--port {SERVER_MODE_PORT}" in script
    (js_folder / "list-app-instances.mjs").write_text(javascript)
    # the one change: a free port instead of the example's, which may be taken here
    (js_folder / "server-mode.sh").write_text(script.replace(SERVER_MODE_PORT, str(free_port())))
    environment = environment_without_aws()
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    process = subprocess.Popen(
        ["bash", "-e", "server-mode.sh"],
        cwd=js_folder,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the emulator it starts is in its group, killed below
    )
    try:
        out, err = process.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, out[-3000:] + err[-3000:]
    assert "support-chat" in out.splitlines()  # node's line, after the CLI created it
    assert '"Reset": true' in out
