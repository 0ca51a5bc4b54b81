"""Fixtures of the conformance suite: resources on the target and a verifier.

Options live in chime_conformance.pytest_plugin.options (never in a nested conftest);
the session-wide layers (config, client, ledger, results) are
chime_conformance.pytest_plugin.fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chime_conformance.run.config import SuiteConfig
from chime_conformance.run.ledger import Ledger
from chime_conformance.run.recorder import Verifier
from chime_conformance.run.results import ResultLog
from chime_conformance.wire.client import ChimeClient

from .resources import Reference, Resources, Targets, World, build_world
from .scenario import Scenario


@pytest.fixture(scope="session")
def resources(
    chime_client: ChimeClient, chime_config: SuiteConfig, chime_name_scope: str
) -> Resources:
    """Creates run-tagged resources on the target (this worker's and shard's own)."""
    return Resources(chime_client, chime_config.run_id, chime_name_scope)


@pytest.fixture(scope="session")
def world(resources: Resources) -> World:
    """One shared resource of each kind, for requests that only read."""
    return build_world(resources)


@pytest.fixture(scope="session")
def account_id(world: World) -> str:
    """The AWS account of the target, read off an ARN it returned."""
    return world.app_instance_arn.split(":")[4]


@pytest.fixture
def verifier(
    request: pytest.FixtureRequest,
    chime_results: ResultLog,
    chime_config: SuiteConfig,
    account_id: str,
) -> Verifier:
    """Applies checks to exchanges and records them under this test's id."""
    return Verifier(
        results=chime_results,
        test_id=request.node.nodeid,
        strict=chime_config.strict,
        region=chime_config.region,
        account_id=account_id,
    )


@pytest.fixture(scope="session")
def reference(
    chime_reference_client: ChimeClient | None, chime_config: SuiteConfig, chime_name_scope: str
) -> Reference | None:
    """The --reference-url side of a differential run (None in a plain run):
    its own resources, mirroring the target's."""
    if chime_reference_client is None:
        return None
    resources = Resources(chime_reference_client, chime_config.run_id, chime_name_scope)
    return Reference(chime_reference_client, resources, build_world(resources))


@pytest.fixture(scope="session")
def targets(
    chime_client: ChimeClient, reference: Reference | None, resources: Resources
) -> Targets:
    """Sends each request to the target and, in a differential run, the
    reference; a create's generated name carries the run's prefix."""
    return Targets(chime_client, reference, resources.name_prefix)


@pytest.fixture
def scenario(chime_client: ChimeClient, verifier: Verifier, chime_config: SuiteConfig) -> Scenario:
    """A multi-step conversation with the target, every answer checked."""
    return Scenario(
        chime_client,
        verifier,
        strict=chime_config.strict,
        deletion_window=chime_config.deletion_window,
    )


@pytest.fixture
def app_instances_deleted_after(chime_ledger: Ledger, chime_client: ChimeClient) -> Iterator[None]:
    """The AppInstances a test creates are deleted when it ends (unchecked, as a
    state machine's teardown): the account's global lists, which later tests
    walk to their end, stay as long as they were. Those made before it (the
    session's world, a module's fixtures) stay."""
    before = {r for r in chime_ledger.live() if r.kind == "app-instance"}
    yield
    for made in chime_ledger.live():
        if made.kind == "app-instance" and made not in before:
            chime_client.call("DeleteAppInstance", made.members)
