"""The suite's options, and the one place they and the environment are read.

As pytest-randomly does: every option is added here, in one named group,
with its ``dest``, a ``type=`` that checks a value given on the command line
as pytest parses it, and an environment variable it falls back to; they are
read once, in ``pytest_configure`` (:func:`read_config`), into one
:class:`~chime_conformance.run.config.SuiteConfig`, which the controller
hands to xdist workers as it is. Nothing else in the package reads the
suite's options or environment variables, and nothing is read at all unless
the suite itself runs (another project's run is left as it would be).

The parsers are the run layer's (:mod:`chime_conformance.run.config`); a bad
value from the environment is a usage error that names the variable.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chime_conformance.run import config as settings
from chime_conformance.run.sharding import CI_RUN_VARIABLES

GROUP = "chime-conformance"
TRUE = ("1", "true", "yes", "on")
# The suite's tests: inside the package in an installed wheel, else the checkout's.
SUITE_DIR = next(
    (
        path
        for path in (
            Path(__file__).resolve().parents[1] / "suite",
            Path(__file__).resolve().parents[2] / "conformance",
        )
        if (path / "conftest.py").is_file()
    ),
    Path(__file__).resolve().parents[2] / "conformance",
)


@dataclass(frozen=True)
class Option:
    """One setting: its command-line flag (None: environment only), its
    environment variable, and the parser of its text (None: a yes/no flag)."""

    name: str
    flag: str | None
    env: str
    help: str
    parse: Callable[[str], Any] | None = str
    metavar: str = "VALUE"

    @property
    def dest(self) -> str:
        return f"chime_{self.name}"


OPTIONS: tuple[Option, ...] = (
    Option("target_url", "--target-url", "CHIME_CONFORMANCE_TARGET_URL",
           "endpoint under test (default: the embedded emulator)", settings.http_url, "URL"),
    Option("accounts_url", "--accounts-url", "CHIME_CONFORMANCE_ACCOUNTS_URL",
           "endpoint of the accounts API, if not the target URL", settings.http_url, "URL"),
    Option("region", "--region", "CHIME_CONFORMANCE_REGION",
           "signing region (default: $AWS_REGION or us-east-1)"),
    Option("reference_url", "--reference-url", "CHIME_CONFORMANCE_REFERENCE_URL",
           "differential mode: send every request to this endpoint too and report where "
           "the answers differ", settings.http_url, "URL"),
    Option("report_dir", "--report-dir", "CHIME_CONFORMANCE_REPORT_DIR",
           "where to write reports (default: reports)", Path, "DIR"),
    Option("shard", "--shard", "CHIME_CONFORMANCE_SHARD",
           "run only shard K of N (K/N), split by a hash of the test id; shards share "
           "--run-id", settings.shard, "K/N"),
    Option("target_name", "--target-name", "CHIME_CONFORMANCE_TARGET_NAME",
           "the endpoint's name in reports, compare and history (default: its host:port, "
           "or 'embedded emulator')", str, "NAME"),
    Option("run_id", "--run-id", "CHIME_CONFORMANCE_RUN_ID",
           "the run id that names resources and reports (default: derived from the CI run, "
           "else random)", settings.run_id, "ID"),
    Option("operations", "--operations", "CHIME_CONFORMANCE_OPERATIONS",
           "run only these operations or resource families (e.g. CreateAppInstance,"
           "AppInstanceBots); the rest is reported as not run", settings.operations, "NAME,…"),
    Option("other_identity", "--other-identity", "CHIME_CONFORMANCE_OTHER_IDENTITY",
           "an identity of another AWS account (ACCESS_KEY:SECRET_KEY[:SESSION_TOKEN]) the "
           "tenant tests sign with (default: the embedded emulator's second account's; "
           "without one against another target they skip)", settings.identity, "KEY:SECRET"),
    Option("baseline", "--baseline", "CHIME_CONFORMANCE_BASELINE",
           "YAML of known failures: reported as known, they do not fail the run", Path, "FILE"),
    # transport (chime_conformance.run.config.TransportSettings)
    Option("connect_timeout", "--connect-timeout", "CHIME_CONFORMANCE_CONNECT_TIMEOUT",
           "seconds to wait for a connection to the target (default: 3.05)",
           settings.seconds, "SECONDS"),
    Option("read_timeout", "--read-timeout", "CHIME_CONFORMANCE_READ_TIMEOUT",
           "seconds to wait for each answer (default: 10); a target that does not answer "
           "in time ends the run with exit code 3", settings.seconds, "SECONDS"),
    Option("max_retries", "--max-retries", "CHIME_CONFORMANCE_MAX_RETRIES",
           "retries of a request answered 429/503 or dropped (default: 3); a test still "
           "throttled after them gets the verdict 'throttled', not a failure",
           settings.retry_count, "N"),
    Option("deletion_window", "--deletion-window", "CHIME_CONFORMANCE_DELETION_WINDOW",
           "seconds a deleted resource may still read back before the delete or its cascade "
           "counts as broken (default: 20; the real service cascades asynchronously)",
           settings.deletion_window, "SECONDS"),
    Option("max_retry_wait", "--max-retry-wait", "CHIME_CONFORMANCE_MAX_RETRY_WAIT",
           "cap in seconds on each wait before a retry, Retry-After included, and on each "
           "wait of the adaptive send rate (default: 5)",
           settings.seconds, "SECONDS"),
    Option("allow_live", "--allow-live", "CHIME_CONFORMANCE_ALLOW_LIVE",
           "allow a target that is not loopback", None),
    Option("no_shrink", "--no-shrink", "CHIME_CONFORMANCE_NO_SHRINK",
           "report each failure with the first example that showed it, not a minimized one "
           "(much faster against an endpoint that fails often)", None),
    # `--strict` is pytest's own flag (strict markers, config, xfail); the suite
    # reads it too, so one flag means "strict about everything"
    Option("strict", None, "CHIME_CONFORMANCE_STRICT", "pytest's --strict", None),
    # where Hypothesis keeps failing examples (chime_conformance.run.example_db)
    Option("examples_dir", None, "CHIME_CONFORMANCE_EXAMPLES_DIR", "examples directory"),
    Option("examples_repo", None, "CHIME_CONFORMANCE_EXAMPLES_REPO",
           "GitHub repository whose nightly examples are replayed", settings.github_repository),
    Option("examples_artifact", None, "CHIME_CONFORMANCE_EXAMPLES_ARTIFACT",
           "the nightly's examples artifact"),
)  # fmt: skip
BY_NAME = {option.name: option for option in OPTIONS}


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup(GROUP, "Amazon Chime SDK Identity conformance")
    for option in OPTIONS:
        if option.flag is None:
            continue
        text = f"{option.help} [env {option.env}]"
        if option.parse is None:
            group.addoption(
                option.flag, dest=option.dest, action="store_true", default=False, help=text
            )
        else:
            group.addoption(
                option.flag,
                dest=option.dest,
                default=None,
                type=_checked(option.parse),
                metavar=option.metavar,
                help=text,
            )


def _checked(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parse`` as an argparse ``type=``: its sentence after ``argument --flag:``."""

    def checked(text: str) -> Any:
        try:
            return parse(text)
        except settings.ConfigurationError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return checked


def read_config(
    config: pytest.Config, environ: Mapping[str, str] = os.environ
) -> settings.SuiteConfig:
    """The run's settings: each option as given, else its environment
    variable, parsed and checked. Raises
    :class:`~chime_conformance.run.config.ConfigurationError` in one sentence
    (:class:`~chime_conformance.run.config.LiveTargetRefused` for a target
    that may not be touched)."""
    values = {option.name: _value(config, option, environ) for option in OPTIONS}
    values["region"] = values["region"] or environ.get("AWS_REGION") or None
    ci_run = {name: environ[name] for name in CI_RUN_VARIABLES if name in environ}
    return settings.build_config(values, ci_run=ci_run)


def _value(config: pytest.Config, option: Option, environ: Mapping[str, str]) -> Any:
    if option.name == "strict":  # pytest's own flag
        given = config.getoption("strict", False)
    else:
        given = config.getoption(option.dest, None) if option.flag else None
    return given if given not in (None, False) else _from_environment(option, environ)


def _from_environment(option: Option, environ: Mapping[str, str]) -> Any:
    text = environ.get(option.env, "").strip()
    if option.parse is None:
        return text.lower() in TRUE
    if not text:
        return None
    try:
        return option.parse(text)
    except settings.ConfigurationError as error:
        where = f"{option.flag} (from ${option.env})" if option.flag else f"${option.env}"
        raise settings.ConfigurationError(f"{where} {error}") from None


def example_sources(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Where Hypothesis keeps failing examples, from the environment alone:
    for this project's own tests, which run without the suite's config."""
    names = ("examples_dir", "examples_repo", "examples_artifact")
    return {name: _from_environment(BY_NAME[name], environ) for name in names}


def runs_the_suite(config: pytest.Config) -> bool:
    """Whether this invocation runs (part of) the conformance suite."""
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if path == SUITE_DIR or SUITE_DIR in path.parents:
            return True
    return False
