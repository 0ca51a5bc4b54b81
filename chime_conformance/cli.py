"""``chime-conformance``: run the installed suite against an endpoint.

``chime-conformance run --target-url URL [options]`` runs the suite that ships
inside the package (``chime_conformance/suite``; in a checkout,
``conformance/``) from any directory, with every option of the suite and of
pytest. ``run --help`` lists the suite's options first, in plain words
(generated from the plugin's own option table, so the two cannot drift), then
points to pytest's. Reports go to ``./reports`` unless ``--report-dir`` says
otherwise. The exit status is the run's (:data:`EXIT_CODES`).

Every error this command prints reads ``chime-conformance: error: <one
sentence>``, pytest's usage errors included, and output into a closed pipe
(``| head``) ends quietly.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Sequence
from typing import Any

from chime_conformance.console import package_version, quiet_on_closed_pipe

PROGRAM = "chime-conformance"
ALREADY_IMPORTED = "Module already imported so cannot be rewritten; chime_conformance"
EXIT_USAGE = 4
EXIT_CODES = (
    (0, "every test passed, or only known failures (--baseline)"),
    (1, "new contract failures, errored tests, or a baseline entry past its date"),
    (2, "interrupted (Ctrl-C, SIGTERM)"),
    (3, "the target is unreachable, hangs or drops connections"),
    (4, "usage error: a bad option, environment variable, report directory, profile or baseline"),
    (5, "no test ran (the selection was empty)"),
    (6, "live target refused: not loopback, and no --allow-live"),
)
# what pytest itself offers that a suite run most often wants
COMMON_PYTEST_OPTIONS = (
    ("-n N", "run on N processes (pytest-xdist; -n auto: one per CPU)"),
    ("-k EXPRESSION", "run only tests whose names match, e.g. -k 'AppInstanceUser and valid'"),
    ("-x", "stop at the first failing test (the report then says the run stopped early)"),
    ("--co", "list the tests that would run; writes no report"),
    ("--junitxml FILE", "the JUnit report somewhere else than REPORT_DIR/junit.xml"),
    ("--hypothesis-seed N", "fix Hypothesis' seed (the report records it)"),
)


def usage() -> str:
    return f"""usage: {PROGRAM} run [options]
       {PROGRAM} --version

Run the Amazon Chime API conformance suite against an endpoint (default: the
embedded reference emulator) and write compliance.html, results.json,
badge.svg and junit.xml to ./reports (or --report-dir).

commands:
  run        run the suite; `{PROGRAM} run --help` lists its options

{exit_codes_text()}
Reports of several runs: chime-conformance-report --help
"""


def exit_codes_text() -> str:
    rows = "\n".join(f"  {code}  {meaning}" for code, meaning in EXIT_CODES)
    return f"exit status:\n{rows}\n"


def main(argv: Sequence[str] | None = None) -> int:
    return quiet_on_closed_pipe(lambda: _main(list(sys.argv[1:] if argv is None else argv)))


def _main(args: list[str]) -> int:
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return 0 if args else EXIT_USAGE
    if args[0] in ("-V", "--version"):
        print(version_line())
        return 0
    if args[0] != "run":
        error(f"unknown command {args[0]!r}; the command is `{PROGRAM} run` (see --help)")
        return EXIT_USAGE
    options = args[1:]
    if any(option in ("-h", "--help") for option in options):
        print(run_help())
        return 0
    if any(option in ("-V", "--version") for option in options):
        print(version_line())
        return 0
    if "--pytest-help" in options:
        return run(["--help"])
    return run(options)


def version_line() -> str:
    import pytest

    return f"{PROGRAM} {package_version()} (pytest {pytest.__version__})"


def error(sentence: str) -> None:
    print(f"{PROGRAM}: error: {sentence}", file=sys.stderr)


def run(options: Sequence[str]) -> int:
    """pytest on the suite's directory; nothing is written there (no cache).
    Test ids print relative to the suite (``test_auth.py::…``), not as a path
    from the current directory into site-packages."""
    import pytest

    from chime_conformance.pytest_plugin.options import SUITE_DIR

    arguments = [str(SUITE_DIR), "-p", "no:cacheprovider", "--rootdir", str(SUITE_DIR)]
    # this command imported the package before pytest could mark it for rewriting
    arguments += ["-W", f"ignore:{ALREADY_IMPORTED}:pytest.PytestAssertRewriteWarning"]
    stderr = sys.stderr
    sys.stderr = OneErrorFormat(stderr)
    try:
        return int(pytest.main([*arguments, *options], plugins=[SuiteRelativePaths()]))
    finally:
        sys.stderr = stderr


class SuiteRelativePaths:
    """Once collected, pytest shows test ids relative to the suite, as their
    node ids are, instead of ``../../venv/lib/python3.11/site-packages/…``.

    Only what is *shown* changes: the progress lines' start path and the ids in
    failure headers and the short summary. ``invocation_params.dir`` stays the
    directory the command was run from, because pytest changes back into it
    before the session ends, and the reports (``./reports``) are written there.
    """

    def pytest_collection_finish(self, session: Any) -> None:
        config = session.config
        config.cwd_relative_nodeid = lambda nodeid: nodeid  # node ids: relative to the suite
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.startpath = config.rootpath


class OneErrorFormat(io.TextIOBase):
    """stderr, with pytest's ``ERROR: …`` (usage errors) and ``Exit: …``
    (pytest.exit) lines said as this command says its own errors."""

    _PYTEST_PREFIX = re.compile(r"^((?:\x1b\[[0-9;]*m)*)(?:ERROR|Exit): (?:chime-conformance: )?")

    def __init__(self, stream: Any) -> None:
        super().__init__()
        self._stream = stream
        self._at_line_start = True

    def write(self, text: str) -> int:
        pieces = []
        for piece in text.splitlines(keepends=True):
            if self._at_line_start:
                piece = self._PYTEST_PREFIX.sub(rf"\g<1>{PROGRAM}: error: ", piece, count=1)
            pieces.append(piece)
            self._at_line_start = piece.endswith("\n")
        self._stream.write("".join(pieces))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return bool(self._stream.isatty())

    def fileno(self) -> int:
        return int(self._stream.fileno())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self._stream, "encoding", "utf-8"))


# --------------------------------------------------------------------------
# run --help: the suite's options, from the one option table


def suite_options() -> list[tuple[str, str]]:
    """``(flag and value, help)`` of every option the suite adds to pytest
    (:data:`chime_conformance.pytest_plugin.options.OPTIONS`), then the two
    of pytest's and Hypothesis' own that the suite reads."""
    from chime_conformance.pytest_plugin.options import BY_NAME, OPTIONS

    found = [
        (option.flag + ("" if option.parse is None else f" {option.metavar}"),
         f"{option.help} [env {option.env}]")
        for option in OPTIONS
        if option.flag is not None
    ]  # fmt: skip
    found.append(
        (
            "--hypothesis-profile ci|default|nightly",
            "how hard to fuzz: ci is fast and the same on every machine (about a minute against "
            "the embedded emulator), default is a plain run's (about four), nightly is deep",
        )
    )
    found.append(
        (
            "--strict",
            "refuse the contract's unverified alternatives too (pytest's own --strict, "
            f"which it also turns on) [env {BY_NAME['strict'].env}]",
        )
    )
    return found


def run_help() -> str:
    import textwrap

    def rows(options: Sequence[tuple[str, str]]) -> str:
        lines = []
        for flag, text in options:
            lines.append(f"  {flag}")
            lines.extend(
                textwrap.wrap(text, width=76, initial_indent="      ", subsequent_indent="      ")
            )
        return "\n".join(lines)

    return f"""usage: {PROGRAM} run [options]

Run the conformance suite against --target-url (default: the embedded
reference emulator) and write compliance.html, results.json, badge.svg and
junit.xml to --report-dir (default ./reports). Every option also reads the
environment variable named in brackets.

the suite's options:
{rows(suite_options())}

pytest's options most used with the suite:
{rows(COMMON_PYTEST_OPTIONS)}

Every other pytest option works too: `{PROGRAM} run --pytest-help` lists them.

{exit_codes_text()}"""


if __name__ == "__main__":
    sys.exit(main())
