"""The suite's fixtures, in layers as pytest-httpserver's: the run's settings
→ the target and its client → what the run records.

Registered by the plugin only when the suite runs (another project's run
sees none of them); the suite's own fixtures (resources on the target, a
verifier) are in its ``conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from chime_conformance.pytest_plugin.session import suite_run
from chime_conformance.run.config import SuiteConfig

if TYPE_CHECKING:
    from chime_conformance.run.coverage import ConstraintCoverage
    from chime_conformance.run.events import RunEvents
    from chime_conformance.run.ledger import Ledger
    from chime_conformance.run.results import ResultLog
    from chime_conformance.wire.client import ChimeClient


@pytest.fixture(scope="session")
def chime_config(request: pytest.FixtureRequest) -> SuiteConfig:
    """The run's settings (target, region, strictness, run id…)."""
    return suite_run(request.config).config


@pytest.fixture(scope="session")
def chime_target_url(request: pytest.FixtureRequest, chime_config: SuiteConfig) -> str:
    """The URL under test: ``--target-url``, or the embedded emulator, started on first use."""
    return chime_config.target_url or _embedded_emulator(request.config).url


def _embedded_emulator(config: pytest.Config) -> Any:
    run = suite_run(config)
    if run.emulator is None:
        from chime_conformance.emulator.app import EmulatorConfig
        from chime_conformance.emulator.iam import OTHER_TEST_IDENTITY
        from chime_conformance.emulator.server import start_emulator

        # two identities in two accounts: testing/testing and OTHER_TEST_IDENTITY
        emulator = EmulatorConfig(
            host="127.0.0.1", port=0, region=run.config.region, identities=(OTHER_TEST_IDENTITY,)
        )
        run.emulator = start_emulator(emulator)
        config.add_cleanup(run.emulator.stop)
    return run.emulator


@pytest.fixture(scope="session")
def chime_ledger(request: pytest.FixtureRequest) -> Ledger:
    """Every resource this process created and has not deleted yet (what it
    observes tells the operations' implementation statuses too)."""
    from chime_conformance.run.implementation import observing
    from chime_conformance.run.ledger import Ledger

    ledger = Ledger()
    ledger.observe = observing(ledger.observe, suite_run(request.config).answers.observe)  # type: ignore[method-assign]
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
    from chime_conformance.pytest_plugin.guard import EXIT_TARGET_FAILED
    from chime_conformance.wire.client import ClientError

    run = suite_run(request.config)
    client = run.client(chime_target_url, chime_ledger, accounts_url=chime_config.accounts_url)
    if run.worker is not None:
        try:
            client.probe()
        except ClientError as error:
            pytest.exit(f"chime-conformance: {error}", returncode=EXIT_TARGET_FAILED)
    yield client
    if chime_config.target_url is not None:
        # Under xdist a worker deletes what its ledger saw; the List sweep (which
        # would see the other workers' live resources) is the controller's, at the end.
        run.sweep(client, chime_ledger, listing=run.worker is None)
    # else: the embedded emulator keeps no state (no file, no store) and is
    # discarded whole when this process ends: deleting what the run created in
    # it, one request each (about a thousand in a `ci` run), would change nothing


@pytest.fixture(scope="session")
def chime_other_client(
    request: pytest.FixtureRequest,
    chime_config: SuiteConfig,
    chime_target_url: str,
    chime_ledger: Ledger,
) -> ChimeClient | None:
    """A client of the target signed by an identity of another AWS account
    (``--other-identity``; the embedded emulator's second one), or None."""
    keys = chime_config.other_identity
    if keys is None and chime_config.embedded:
        from chime_conformance.emulator.iam import OTHER_TEST_IDENTITY

        keys = (OTHER_TEST_IDENTITY.access_key, OTHER_TEST_IDENTITY.secret_key)
    if keys is None:
        return None
    import botocore.credentials

    credentials = botocore.credentials.Credentials(*keys)
    return suite_run(request.config).client(
        chime_target_url,
        chime_ledger,
        accounts_url=chime_config.accounts_url,
        credentials=credentials,
    )


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

    run = suite_run(request.config)
    ledger = Ledger()
    client = run.client(chime_config.reference_url, ledger)
    yield client
    run.sweep(client, ledger, listing=run.worker is None, reference=True)


@pytest.fixture(scope="session")
def chime_events(request: pytest.FixtureRequest) -> RunEvents:
    """The run's events besides check verdicts (retries, throttled tests,
    leftovers, state-machine rule counts)."""
    return suite_run(request.config).events


@pytest.fixture(scope="session")
def chime_coverage(request: pytest.FixtureRequest) -> ConstraintCoverage:
    """Constraint probes of this process; merged into the report at the end."""
    from chime_conformance.run.coverage import ConstraintCoverage

    run = suite_run(request.config)
    if run.coverage is None:
        run.coverage = ConstraintCoverage()
    return run.coverage


@pytest.fixture(scope="session")
def chime_results(request: pytest.FixtureRequest) -> ResultLog:
    """Every check this process applied; merged into the report at the end."""
    from chime_conformance.run.results import ResultLog

    run = suite_run(request.config)
    if run.results is None:
        run.results = ResultLog()
    return run.results


@pytest.fixture
def chime_shrinks(request: pytest.FixtureRequest) -> bool:
    """Whether this test shrinks its failures (its Hypothesis phases when it
    runs them itself, as the state machines do): not once an operation it may
    reach has only been answered as not implemented."""
    return suite_run(request.config).shrinks(request.node)


@pytest.fixture(scope="session")
def chime_name_scope(request: pytest.FixtureRequest) -> str:
    """This process's part of resource names after the run id: shard and xdist worker."""
    from chime_conformance.run.sharding import name_scope

    run = suite_run(request.config)
    return name_scope(run.config.shard, run.worker)
