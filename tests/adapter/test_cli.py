"""One command-line surface: chime-conformance and chime-conformance-report
have a version, their own help with exit codes, one flag for one meaning, one
error format, and end quietly into a closed pipe."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from chime_conformance import cli
from chime_conformance.console import EXIT_CLOSED_PIPE
from chime_conformance.pytest_plugin.options import SUITE_DIR
from chime_conformance.reporting import cli as report_cli
from tests.support import pytest_forkserver as forked
from tests.support.report_runs import three_runs

WRITING_COMMANDS = ("render", "merge", "history", "compare", "baseline")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("chime-conformance 0.1.0 (pytest ")
    assert cli.main(["run", "--version"]) == 0  # not pytest's own
    assert capsys.readouterr().out.startswith("chime-conformance 0.1.0")
    with pytest.raises(SystemExit):
        report_cli.build_parser().parse_args(["--version"])
    assert capsys.readouterr().out.startswith("chime-conformance-report 0.1.0")


def test_run_help_shows_the_suites_options_first_then_points_to_pytests(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["run", "--help"]) == 0
    text = capsys.readouterr().out
    assert len(text.splitlines()) < 150  # not pytest's 490 lines
    for flag, _ in cli.suite_options():  # every option the plugin adds, from its own table
        assert flag in text
    assert "--target-url URL" in text and "--report-dir DIR" in text and "--shard K/N" in text
    assert text.index("the suite's options") < text.index("pytest's options")
    assert "chime-conformance run --pytest-help" in text
    for code, meaning in cli.EXIT_CODES:
        assert f"  {code}  {meaning}" in text


def test_every_option_pytest_shows_in_the_suites_group_is_in_run_help() -> None:
    """run --help is generated from the option table; held here to what pytest
    itself lists in the suite's option group, so neither can drift."""
    shown = forked.run(
        [sys.executable, "-m", "pytest", str(SUITE_DIR), "-p", "no:cacheprovider", "--help"],
        capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    group = shown.split("Amazon Chime SDK Identity conformance:", 1)[1].split("\n\n", 1)[0]
    flags = set(re.findall(r"^\s+(--[a-z-]+)", group, re.M))
    assert {"--target-url", "--target-name", "--report-dir", "--baseline"} <= flags
    text = cli.run_help()
    assert all(f"  {flag}" in text for flag in flags), flags - set(re.findall(r"--[a-z-]+", text))
    assert all(env in text for env in re.findall(r"CHIME_CONFORMANCE_[A-Z_]+", group))


@pytest.mark.parametrize("command", WRITING_COMMANDS)
def test_every_writing_command_takes_out(command: str) -> None:
    parser = report_cli.build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
    shown = [a for a in sub._actions if a.help != "==SUPPRESS=="]
    assert "--out" in {flag for action in shown for flag in action.option_strings}
    assert not {"--output"} & {flag for action in shown for flag in action.option_strings}


@pytest.mark.parametrize("command", ["diff", *WRITING_COMMANDS])
def test_every_report_command_has_a_description_and_its_exit_codes(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert report_cli.main([command, "--help"]) == 0
    text = capsys.readouterr().out
    assert "exit status:" in text
    sub = report_cli.build_parser()._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
    assert sub.description and len(sub.description) > 20


def test_the_old_output_flag_still_works_hidden(tmp_path: Path) -> None:
    (old, *_) = three_runs(tmp_path)
    assert report_cli.main(["baseline", str(old), "--output", str(tmp_path / "b.yaml")]) == 0
    assert (tmp_path / "b.yaml").is_file()
    assert report_cli.main(["render", str(old), "--out", str(tmp_path / "page")]) == 0
    assert (tmp_path / "page" / "compliance.html").is_file()
    assert (tmp_path / "page" / "badge.svg").is_file()


def test_errors_have_one_format(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main(["bogus"]) == cli.EXIT_USAGE
    assert capsys.readouterr().err.startswith("chime-conformance: error: unknown command")
    assert report_cli.main(["diff", "only-one.json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chime-conformance-report: error: ") and err.count("\n") == 1
    assert report_cli.main(["history", str(tmp_path / "absent.json"), "--out", "x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chime-conformance-report: error: ") and err.count("\n") == 1


def test_pytests_usage_errors_are_said_the_same_way() -> None:
    stream = _Collect()
    wrapped = cli.OneErrorFormat(stream)
    wrapped.write("ERROR: chime-conformance: --report-dir x: cannot write\n\n")
    wrapped.write("\x1b[31mExit: chime-conformance: the target is gone\x1b[0m\n")
    wrapped.write("an ERROR: inside a line stays\n")
    assert stream.text.splitlines() == [
        "chime-conformance: error: --report-dir x: cannot write",
        "",
        "\x1b[31mchime-conformance: error: the target is gone\x1b[0m",
        "an ERROR: inside a line stays",
    ]


class _Collect:
    text = ""

    def write(self, text: str) -> None:
        self.text += text


@pytest.mark.parametrize(
    "command",
    [
        ["chime_conformance.cli", "run", "--help"],
        ["chime_conformance.cli", "--version"],
        ["chime_conformance.reporting", "--help"],
    ],
)
def test_a_closed_pipe_ends_quietly(command: list[str]) -> None:
    """The reader is gone before the command writes a byte (``| head`` that
    already had its line): every write fails, deterministically."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", *command], stdout=write_end, stderr=subprocess.PIPE,
            text=True, timeout=60,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert done.stderr == "", done.stderr
    assert done.returncode in (0, EXIT_CLOSED_PIPE)  # argparse swallows it itself
