"""pytest plugin (pytest11 entry point): options, fixtures, default target.

A thin adapter, as schemathesis' is: options are read once in
``pytest_configure`` into a :class:`~chime_conformance.run.config.SuiteConfig` and
forwarded to xdist workers; fixtures come in layers (settings → target and
client → resources); everything heavy is imported lazily, so loading the plugin
costs nothing in test runs that do not use it.
"""

from __future__ import annotations

import gc
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from chime_conformance.run.config import SuiteConfig
    from chime_conformance.run.coverage import ConstraintCoverage
    from chime_conformance.run.ledger import Ledger
    from chime_conformance.run.results import ResultLog
    from chime_conformance.wire.client import ChimeClient

GROUP = "chime-conformance"
# option dest → (flag, environment fallback, help)
OPTIONS: dict[str, tuple[str, str, str]] = {
    "target_url": (
        "--target-url",
        "CHIME_CONFORMANCE_TARGET_URL",
        "endpoint under test (default: the embedded emulator)",
    ),
    "accounts_url": (
        "--accounts-url",
        "CHIME_CONFORMANCE_ACCOUNTS_URL",
        "endpoint of the accounts API, if not the target URL",
    ),
    "region": (
        "--region",
        "CHIME_CONFORMANCE_REGION",
        "signing region (default: $AWS_REGION or us-east-1)",
    ),
    "reference_url": (
        "--reference-url",
        "CHIME_CONFORMANCE_REFERENCE_URL",
        "differential mode: send every request to this endpoint too and report where the answers differ",
    ),
    "report_dir": (
        "--report-dir",
        "CHIME_CONFORMANCE_REPORT_DIR",
        "where to write reports (default: reports)",
    ),
    "shard": (
        "--shard",
        "CHIME_CONFORMANCE_SHARD",
        "run only shard K of N (K/N), split by a hash of the test id; shards share --run-id",
    ),
    "run_id": (
        "--run-id",
        "CHIME_CONFORMANCE_RUN_ID",
        "the run id that names resources and reports (default: derived from the CI run, else random)",
    ),
    # transport (chime_conformance.pytest_plugin.run_guard.TransportSettings reads these)
    "connect_timeout": (
        "--connect-timeout",
        "CHIME_CONFORMANCE_CONNECT_TIMEOUT",
        "seconds to wait for a connection to the target (default: 3.05)",
    ),
    "read_timeout": (
        "--read-timeout",
        "CHIME_CONFORMANCE_READ_TIMEOUT",
        "seconds to wait for each answer (default: 10); a target that does not answer "
        "in time ends the run with exit code 3",
    ),
    "max_retries": (
        "--max-retries",
        "CHIME_CONFORMANCE_MAX_RETRIES",
        "retries of a request answered 429/503 or dropped (default: 3); a test still "
        "throttled after them gets the verdict 'throttled', not a failure",
    ),
    "deletion_window": (
        "--deletion-window",
        "CHIME_CONFORMANCE_DELETION_WINDOW",
        "seconds a deleted resource may still read back before the delete or its cascade "
        "counts as broken (default: 20; the real service cascades asynchronously)",
    ),
    "max_retry_wait": (
        "--max-retry-wait",
        "CHIME_CONFORMANCE_MAX_RETRY_WAIT",
        "cap in seconds on each wait before a retry, Retry-After included (default: 5)",
    ),
}
FLAGS: dict[str, tuple[str, str, str]] = {
    "allow_live": (
        "--allow-live",
        "CHIME_CONFORMANCE_ALLOW_LIVE",
        "allow a target that is not loopback",
    ),
    "no_shrink": (
        "--no-shrink",
        "CHIME_CONFORMANCE_NO_SHRINK",
        "report each failure with the first example that showed it, not a minimized one "
        "(much faster against an endpoint that fails often)",
    ),
}
# `--strict` is pytest's own flag (strict markers, config, xfail); the suite
# reads it too, so one flag means "strict about everything". Env fallback:
STRICT_ENV = "CHIME_CONFORMANCE_STRICT"
CONFIG_KEY = pytest.StashKey["SuiteConfig"]()
EMULATOR_KEY = pytest.StashKey[Any]()
COVERAGE_KEY = pytest.StashKey["ConstraintCoverage"]()
LEFTOVERS_KEY = pytest.StashKey[list[str]]()
RESULTS_KEY = pytest.StashKey["ResultLog"]()
STARTED_KEY = pytest.StashKey[Any]()
OUTCOMES_KEY = pytest.StashKey[dict[str, int]]()
GUARD_KEY = pytest.StashKey[Any]()
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
PROFILES_REGISTERED = False
# about 30 minutes of a 2-core runner per shard (README "Nightly across machines")
NIGHTLY_EXAMPLES_PER_SHARD = 100
# The suite's Hypothesis profiles have names of their own, so a foreign
# project's ``default`` is never touched; ``--hypothesis-profile ci`` still
# means ``chime-ci`` when the suite runs.
SUITE_PROFILES = {"ci": "chime-ci", "default": "chime-default", "nightly": "chime-nightly"}
PROFILE_KEY = pytest.StashKey[str]()
# the verdicts, selection, baseline and exit status (see that module)
pytest_plugins = ["chime_conformance.pytest_plugin.suite_run"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(GROUP, "Amazon Chime SDK Identity conformance")
    for dest, (flag, env, text) in OPTIONS.items():
        group.addoption(
            flag, dest=f"chime_{dest}", default=None, metavar="VALUE", help=f"{text} [env {env}]"
        )
    for dest, (flag, env, text) in FLAGS.items():
        group.addoption(
            flag,
            dest=f"chime_{dest}",
            action="store_true",
            default=False,
            help=f"{text} [env {env}]",
        )


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def option_values(config: pytest.Config) -> dict[str, object]:
    """Options, each falling back to its environment variable."""
    values: dict[str, object] = {}
    for dest, (_, env, _) in OPTIONS.items():
        values[dest] = config.getoption(f"chime_{dest}") or os.environ.get(env) or None
    values["region"] = values["region"] or os.environ.get("AWS_REGION") or None
    for dest, (_, env, _) in FLAGS.items():
        values[dest] = config.getoption(f"chime_{dest}") or _env_flag(env)
    values["strict"] = bool(config.getoption("strict", False)) or _env_flag(STRICT_ENV)
    return values


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Only when the suite itself runs: anything else pytest runs in this
    environment is left exactly as it would be without the plugin."""
    from chime_conformance.pytest_plugin import sharding
    from chime_conformance.run.config import ConfigurationError, LiveTargetRefused, build_config

    workerinput = getattr(config, "workerinput", None)
    if not (workerinput or {}).get("chime_suite") and not (
        workerinput is None and runs_the_suite(config)
    ):
        return
    values = option_values(config)
    use_suite_profile(config, shards=sharding.shard_count(values))
    if workerinput is not None and workerinput.get("chime_target_url"):
        values["target_url"] = workerinput["chime_target_url"]
    try:
        run_id = sharding.configure(config, values)
        suite = build_config(values, run_id=(workerinput or {}).get("chime_run_id") or run_id)
    except LiveTargetRefused as error:
        pytest.exit(f"chime-conformance: {error}", returncode=6)
    except ConfigurationError as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[CONFIG_KEY] = suite
    config.stash[GUARD_KEY] = _install_guard(config, values)
    config.stash[STARTED_KEY] = datetime.now(UTC)
    config.stash[OUTCOMES_KEY] = {}
    if workerinput is None and runs_the_suite(config):
        stop_unless_reachable(suite, config.stash[GUARD_KEY])
        if not config.option.xmlpath:
            # pytest's own JUnit writer, pointed at the report directory
            config.option.xmlpath = str(suite.report_dir / "junit.xml")


def _install_guard(config: pytest.Config, values: dict[str, object]) -> Any:
    """Transport settings, throttled verdicts, Ctrl-C, a dead target's exit
    code and the run's events: chime_conformance.pytest_plugin.run_guard."""
    from chime_conformance.pytest_plugin.run_guard import SuiteGuard, TransportSettings

    try:
        settings = TransportSettings.from_values(values)
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    guard = SuiteGuard(settings)
    config.pluginmanager.register(guard, "chime-conformance-guard")
    if runs_the_suite(config) or hasattr(config, "workerinput"):
        guard.install_signal_handlers()
    return guard


def stop_unless_reachable(suite: SuiteConfig, guard: Any = None) -> None:
    """Stop the run at once, in one sentence, if a given target does not
    answer HTTP (unreachable, hanging, dropping connections): before
    collection, not after a thousand failed tests."""
    from chime_conformance.wire.client import ChimeClient, ClientError, Timeouts

    for url in (suite.target_url, suite.reference_url):
        if url is None:
            continue
        client = ChimeClient(
            url,
            accounts_url=None if url == suite.reference_url else suite.accounts_url,
            region=suite.region,
            timeouts=guard.settings.timeouts() if guard is not None else Timeouts(),
        )
        try:
            client.probe()
        except ClientError as error:
            pytest.exit(f"chime-conformance: {error}", returncode=3)
        finally:
            client.close()


def runs_the_suite(config: pytest.Config) -> bool:
    """Whether this invocation runs (part of) the conformance suite."""
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if path == SUITE_DIR or SUITE_DIR in path.parents:
            return True
    return False


def use_suite_profile(config: pytest.Config, shards: int = 1) -> None:
    """Register the suite's profiles and load the one asked for, before
    Hypothesis' own plugin reads ``--hypothesis-profile`` (its ``ci``,
    ``default`` or ``nightly`` mean the suite's)."""
    from hypothesis import settings

    register_suite_profiles(shards)
    asked = config.getoption("hypothesis_profile", None) or "default"
    config.stash[PROFILE_KEY] = asked
    name = SUITE_PROFILES.get(asked, asked)
    if config.getoption("chime_no_shrink", False) or _env_flag(FLAGS["no_shrink"][1]):
        name = register_no_shrink_profile(name)
    if hasattr(config.option, "hypothesis_profile"):
        config.option.hypothesis_profile = name
    settings.load_profile(name)


def register_no_shrink_profile(name: str) -> str:
    """``name`` without the shrink phase (``--no-shrink``): the same examples in
    the same order, each failure reported with the example that first showed
    it. Returns the new profile's name."""
    from hypothesis import settings

    settings.register_profile(
        f"{name}-no-shrink", parent=without_shrinking(settings.get_profile(name))
    )
    return f"{name}-no-shrink"


def register_hypothesis_profiles(shards: int = 1) -> None:
    """The suite's profiles, and the same under the plain names ``ci``,
    ``default`` and ``nightly``: for this project's own tests (tests/conftest.py),
    never called by the plugin."""
    from hypothesis import settings

    register_suite_profiles(shards)
    for plain, name in SUITE_PROFILES.items():
        settings.register_profile(plain, parent=settings.get_profile(name))


def register_suite_profiles(shards: int = 1) -> None:
    """``chime-ci`` (fast, derandomized), ``chime-default`` and ``chime-nightly`` (deep).

    ``chime-nightly``'s budget is per shard (``--shard K/N``: N shards try N
    times as many examples per test, each shard in about the same time)."""
    global PROFILES_REGISTERED
    if PROFILES_REGISTERED:
        return
    from hypothesis import HealthCheck, settings

    # Tests talk to a server: examples are slow by nature, and the per-test
    # fixtures they use (a verifier) hold no per-example state.
    relaxed = [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ]
    common: dict[str, Any] = {"deadline": None, "suppress_health_check": relaxed}
    settings.register_profile(
        SUITE_PROFILES["ci"],
        max_examples=8,
        derandomize=True,
        database=None,
        print_blob=True,
        stateful_step_count=12,
        **common,
    )
    # ci keeps database=None: derandomized, the same examples on every machine
    # (chime_conformance.run.example_db says why); the others replay what failed before
    from chime_conformance.run.config import ConfigurationError
    from chime_conformance.run.example_db import example_database

    try:
        common["database"] = example_database()
    except ConfigurationError as error:
        raise pytest.UsageError(str(error)) from None
    settings.register_profile(
        SUITE_PROFILES["default"], max_examples=20, stateful_step_count=20, **common
    )
    settings.register_profile(
        SUITE_PROFILES["nightly"],
        max_examples=NIGHTLY_EXAMPLES_PER_SHARD * shards,
        stateful_step_count=50,
        **common,
    )
    PROFILES_REGISTERED = True


def pytest_configure_node(node: Any) -> None:
    """xdist controller → worker: one run id, and the target; without one,
    each worker starts its own embedded emulator (in the controller, one
    emulator would serve every worker from one process, under one GIL)."""
    if CONFIG_KEY not in node.config.stash:
        return
    suite = node.config.stash[CONFIG_KEY]
    node.workerinput["chime_suite"] = True
    node.workerinput["chime_run_id"] = suite.run_id
    node.workerinput["chime_target_url"] = suite.target_url


def _embedded_emulator(config: pytest.Config) -> Any:
    if EMULATOR_KEY not in config.stash:
        from chime_conformance.emulator.app import EmulatorConfig
        from chime_conformance.emulator.iam import OTHER_TEST_IDENTITY
        from chime_conformance.emulator.server import start_emulator

        region = config.stash[CONFIG_KEY].region
        # two identities in two accounts: testing/testing and OTHER_TEST_IDENTITY
        emulator = start_emulator(
            EmulatorConfig(
                host="127.0.0.1", port=0, region=region, identities=(OTHER_TEST_IDENTITY,)
            )
        )
        config.stash[EMULATOR_KEY] = emulator
        config.add_cleanup(emulator.stop)
    return config.stash[EMULATOR_KEY]


# --------------------------------------------------------------------------
# Fixtures: settings → target and client → ledger


@pytest.fixture(scope="session")
def chime_config(request: pytest.FixtureRequest) -> SuiteConfig:
    """The run's settings (target, region, strictness, run id)."""
    return request.config.stash[CONFIG_KEY]


@pytest.fixture(scope="session")
def chime_target_url(request: pytest.FixtureRequest, chime_config: SuiteConfig) -> str:
    """The URL under test: ``--target-url``, or the embedded emulator, started on first use."""
    url: str = chime_config.target_url or _embedded_emulator(request.config).url
    return url


@pytest.fixture(scope="session")
def chime_ledger(request: pytest.FixtureRequest) -> Ledger:
    """Every resource this process created and has not deleted yet (what it
    observes feeds the operations' verdicts too)."""
    from chime_conformance.pytest_plugin.suite_run import observe_answers
    from chime_conformance.run.ledger import Ledger

    ledger: Ledger = observe_answers(request.config, Ledger())
    return ledger


@pytest.fixture(scope="session")
def chime_client(
    request: pytest.FixtureRequest,
    chime_config: SuiteConfig,
    chime_target_url: str,
    chime_ledger: Ledger,
) -> Iterator[ChimeClient]:
    """A signed client of the target (probed once when the run started, and
    again only by an xdist worker, whose target may have died since); deletes
    every resource the run created when the session ends."""
    from chime_conformance.wire.client import ChimeClient, ClientError

    guard = request.config.stash[GUARD_KEY]
    client = ChimeClient(
        chime_target_url,
        accounts_url=chime_config.accounts_url,
        region=chime_config.region,
        observer=chime_ledger.observe,
        before_send=chime_ledger.intend,
        timeouts=guard.settings.timeouts(),
        retry=guard.settings.retry_policy(guard.events),
    )
    if hasattr(request.config, "workerinput"):
        try:
            client.probe()
        except ClientError as error:
            pytest.exit(f"chime-conformance: {error}", returncode=3)
    yield client
    if chime_config.target_url is not None:
        _sweep(request.config, client, chime_ledger, chime_config.run_id)
    # else: the embedded emulator keeps no state (no file, no store) and is
    # discarded whole when this process ends: deleting what the run created in
    # it, one request each (about a thousand in a `ci` run), would change nothing


def _sweep(config: pytest.Config, client: ChimeClient, ledger: Ledger, run_id: str) -> None:
    """Delete what the run created (chime_conformance.run.sweep); keep what is left."""
    from chime_conformance.run.sweep import shard_scope, sweep

    # Under xdist a worker deletes what its ledger saw; the List sweep (which
    # would see the other workers' live resources) is the controller's, at the end.
    listing = not hasattr(config, "workerinput")
    leftovers = sweep(client, ledger, run_id, listing=listing, shard=shard_scope(config))
    config.stash[GUARD_KEY].events.left_behind(leftovers)
    config.stash.setdefault(LEFTOVERS_KEY, []).extend(map(str, leftovers))


@pytest.fixture(scope="session")
def chime_reference_client(
    request: pytest.FixtureRequest, chime_config: SuiteConfig
) -> Iterator[ChimeClient | None]:
    """The ``--reference-url`` endpoint's client (None without one); deletes
    what the run created there when the session ends."""
    if chime_config.reference_url is None:
        yield None
        return
    from chime_conformance.run.ledger import Ledger
    from chime_conformance.wire.client import ChimeClient

    guard = request.config.stash[GUARD_KEY]
    ledger = Ledger()
    client = ChimeClient(
        chime_config.reference_url,
        region=chime_config.region,
        observer=ledger.observe,
        before_send=ledger.intend,
        timeouts=guard.settings.timeouts(),
        retry=guard.settings.retry_policy(guard.events),
    )
    yield client
    from chime_conformance.run.sweep import shard_scope, sweep

    leftovers = sweep(
        client,
        ledger,
        chime_config.run_id,
        listing=not hasattr(request.config, "workerinput"),
        shard=shard_scope(request.config),
    )
    guard.events.left_behind(leftovers)
    request.config.stash.setdefault(LEFTOVERS_KEY, []).extend(
        f"(reference) {leftover}" for leftover in leftovers
    )


@pytest.fixture(scope="session")
def chime_events(request: pytest.FixtureRequest) -> Any:
    """The run's events besides verdicts (retries, throttled tests, leftovers,
    state-machine rule counts): chime_conformance.run.events.RunEvents."""
    return request.config.stash[GUARD_KEY].events


@pytest.fixture(scope="session")
def chime_coverage(request: pytest.FixtureRequest) -> ConstraintCoverage:
    """Constraint probes of this process; merged into the report at the end."""
    from chime_conformance.run.coverage import ConstraintCoverage

    if COVERAGE_KEY not in request.config.stash:
        request.config.stash[COVERAGE_KEY] = ConstraintCoverage()
    return request.config.stash[COVERAGE_KEY]


@pytest.fixture(scope="session")
def chime_results(request: pytest.FixtureRequest) -> ResultLog:
    """Every check this process applied; merged into the report at the end."""
    from chime_conformance.run.results import ResultLog

    if RESULTS_KEY not in request.config.stash:
        request.config.stash[RESULTS_KEY] = ResultLog()
    return request.config.stash[RESULTS_KEY]


# --------------------------------------------------------------------------
# End of the run: merge workers' coverage, print it


def _parts_dir(config: pytest.Config) -> Path:
    suite = config.stash[CONFIG_KEY]
    return suite.report_dir / ".parts" / suite.run_id


@pytest.hookimpl(trylast=True)  # after the session fixtures' teardown
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if not hasattr(config, "workerinput") or CONFIG_KEY not in config.stash:
        return
    worker = config.workerinput["workerid"]
    if COVERAGE_KEY in config.stash:
        config.stash[COVERAGE_KEY].dump(_parts_dir(config) / f"coverage-{worker}.json")
    if RESULTS_KEY in config.stash:
        config.stash[RESULTS_KEY].dump(_parts_dir(config) / f"results-{worker}.jsonl")
    config.stash[GUARD_KEY].dump(_parts_dir(config) / f"events-{worker}.json")
    leftovers = config.stash.get(LEFTOVERS_KEY, [])
    if leftovers:
        (_parts_dir(config) / f"leftovers-{worker}.txt").write_text(
            "\n".join(leftovers), encoding="utf-8"
        )


def pytest_unconfigure(config: pytest.Config) -> None:
    """The controller has merged the workers' parts into the reports: drop them."""
    if CONFIG_KEY in config.stash and not hasattr(config, "workerinput"):
        shutil.rmtree(_parts_dir(config), ignore_errors=True)


def all_leftovers(config: pytest.Config) -> list[str]:
    """Resources this run could not delete, from this process and every worker."""
    stored: list[str] = config.stash.get(LEFTOVERS_KEY, [])
    lines = list(stored)
    for part in sorted(_parts_dir(config).glob("leftovers-*.txt")):
        lines.extend(part.read_text(encoding="utf-8").splitlines())
    return lines


def merged_coverage(config: pytest.Config) -> ConstraintCoverage | None:
    """This process's coverage plus every worker's (on the controller)."""
    from chime_conformance.run.coverage import ConstraintCoverage

    merged = ConstraintCoverage()
    found = COVERAGE_KEY in config.stash
    if found:
        merged.merge(config.stash[COVERAGE_KEY])
    for part in sorted(_parts_dir(config).glob("coverage-*.json")):
        merged.merge(ConstraintCoverage.load(part))
        found = True
    return merged if found else None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count tests by outcome for the report (on the controller, workers' reports included)."""
    outcomes = _outcomes_of_current_config()
    if outcomes is None:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        outcome = "error" if report.when == "setup" and report.failed else report.outcome
        outcomes[outcome] = outcomes.get(outcome, 0) + 1


_CURRENT_CONFIG: list[pytest.Config] = []


def _outcomes_of_current_config() -> dict[str, int] | None:
    return _CURRENT_CONFIG[0].stash.get(OUTCOMES_KEY, None) if _CURRENT_CONFIG else None


def pytest_sessionstart(session: pytest.Session) -> None:
    _CURRENT_CONFIG[:] = [session.config]


def all_records(config: pytest.Config) -> list[Any]:
    """Check records of this process and of every worker."""
    from chime_conformance.run.results import load_records

    records = list(config.stash[RESULTS_KEY].records()) if RESULTS_KEY in config.stash else []
    records.extend(load_records(sorted(_parts_dir(config).glob("results-*.jsonl"))))
    return records


def write_run_reports(
    config: pytest.Config,
    coverage: ConstraintCoverage | None,
    *,
    verdict: Any = None,
    records: list[Any] | None = None,
) -> Path | None:
    """Write compliance.html and results.json if the run checked anything
    (``records``: :func:`all_records`, if the caller has already read them)."""
    from chime_conformance.pytest_plugin import sharding
    from chime_conformance.reporting import RunInfo, write_reports
    from chime_conformance.run.coverage import ConstraintCoverage

    records = all_records(config) if records is None else records
    events = config.stash[GUARD_KEY].merge_parts(_parts_dir(config))
    if not records and coverage is None and not events.to_json()["throttled"]:
        return None
    suite = config.stash[CONFIG_KEY]
    emulator = config.stash.get(EMULATOR_KEY, None)
    outcomes: dict[str, int] = config.stash.get(OUTCOMES_KEY, {})
    run = RunInfo(
        target_url=suite.target_url
        or (emulator.url + " (embedded emulator)" if emulator else "embedded emulator"),
        run_id=suite.run_id,
        started=config.stash[STARTED_KEY],
        finished=datetime.now(UTC),
        seed=config.getoption("hypothesis_seed", None),
        reference_url=suite.reference_url,
        hypothesis_profile=config.stash.get(PROFILE_KEY, None) or "default",
        strict=suite.strict,
        pytest_outcomes=outcomes,
        **sharding.run_fields(config),
    )
    paths = write_reports(
        suite.report_dir,
        run,
        records,
        coverage or ConstraintCoverage(),
        events=events,
        verdict=verdict,
    )
    return paths.compliance_html


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or CONFIG_KEY not in config.stash:
        return
    leftovers = config.stash[GUARD_KEY].still_left(all_leftovers(config))
    if leftovers:
        terminalreporter.write_sep(
            "!", "chime-conformance: resources of this run left behind", red=True
        )
        for line in leftovers:
            terminalreporter.write_line(line)
    coverage = merged_coverage(config)  # the reports are written in pytest_sessionfinish
    if coverage is None:
        return
    from chime_conformance.contract.constraints import all_constraints

    probeable = [c.id for c in all_constraints() if c.probeable]
    covered, total = coverage.summary(probeable)
    percent = 100.0 * covered / total if total else 100.0
    terminalreporter.write_sep("-", "chime-conformance constraint coverage")
    terminalreporter.write_line(
        f"constraints probed from both sides: {covered}/{total} ({percent:.1f}%)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--shard K/N``: keep this shard's tests (chime_conformance.pytest_plugin.sharding);
    under xdist, the long tests first (:func:`run_long_tests_first`)."""
    from chime_conformance.pytest_plugin.sharding import deselect_other_shards

    deselect_other_shards(config, items)
    run_long_tests_first(config, items)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Around Hypothesis' own wrapper: a parametrized test's settings as they were.

    For each parametrized item, Hypothesis' pytest plugin replaces the settings of
    the function all items share with ``settings(parent=<the current ones>)``, so
    after the 460 items of the constraint probes the chain is 460 deep, and
    every read of a setting that is None (``database`` under the ``ci``
    profile) walks all of it. Each layer adds the same health check to the same
    set, so putting the first back after each item changes no setting.

    A test of an operation that has only ever been answered outside the API's
    shape (not implemented) runs without the shrink and explain phases, as with
    ``--no-shrink``: every example of it fails the same way, so shrinking only
    sends hundreds more requests (against an endpoint missing three operations,
    a ``ci`` run took 3 min 44 s with them, 35 s without)."""
    if CONFIG_KEY not in item.config.stash:  # another project's run: left alone
        return (yield)
    function: Any = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
    before = getattr(function, "_hypothesis_internal_use_settings", None)
    if before is not None and _not_implemented_so_far(item):
        function._hypothesis_internal_use_settings = without_shrinking(before)
    try:
        return (yield)
    finally:
        if before is not None:
            function._hypothesis_internal_use_settings = before


def _not_implemented_so_far(item: pytest.Item) -> bool:
    """Whether the operation ``item`` is about has been answered, in this
    process, only outside the API's shape; for a test of no one operation (the
    state machines, linked operations), whether any operation has: a sequence
    that reaches it fails there, however it is shrunk."""
    from chime_conformance.pytest_plugin.suite_run import answer_log, item_operation

    answers = answer_log(item.config)
    if answers is None:
        return False
    operation = item_operation(item)
    if operation is not None:
        return answers.never_in_shape(operation)
    return any(answers.never_in_shape(name) for name in list(answers.foreign))


def without_shrinking(current: Any) -> Any:
    """``current`` Hypothesis settings without the shrink and explain phases."""
    from hypothesis import Phase, settings

    phases = tuple(p for p in current.phases if p not in (Phase.shrink, Phase.explain))
    return current if phases == tuple(current.phases) else settings(current, phases=phases)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Once collected, the suite's modules, specs and test items live for the
    whole run: frozen out of the garbage collector's reach (only when the suite
    runs), its full collections stop walking them again and again (2.4 s of
    CPU in a ``ci`` run before, 1.7 s after)."""
    if CONFIG_KEY in session.config.stash:
        gc.freeze()


@pytest.fixture
def chime_shrinks(request: pytest.FixtureRequest) -> bool:
    """Whether this test shrinks its failures (its Hypothesis phases when it
    runs them itself, as the state machines do): not once an operation it may
    reach has only been answered as not implemented (:func:`pytest_runtest_call`)."""
    return not _not_implemented_so_far(request.node)


@pytest.fixture(scope="session")
def chime_name_scope(request: pytest.FixtureRequest) -> str:
    """This process's part of resource names after the run id: shard and xdist worker."""
    from chime_conformance.pytest_plugin.sharding import name_scope

    return name_scope(request.config, os.environ.get("PYTEST_XDIST_WORKER"))


# --------------------------------------------------------------------------
# xdist: the longest tests first

# Seconds each, where most of the suite's tests take milliseconds.
LONG_RUNNING = (
    "conformance/test_state_machines.py::",
    "conformance/test_schemathesis.py::test_linked_operations",
)


def run_long_tests_first(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist, whole state machines and linked scenarios run first, so the
    workers share them out at the start and end together, instead of one
    running the last state machine alone while the other waits."""
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: not item.nodeid.startswith(LONG_RUNNING))
