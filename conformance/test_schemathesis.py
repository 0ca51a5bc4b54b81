"""schemathesis' checks on every operation of both APIs, SigV4-signed.

``test_*_operation``: one test item per operation
(``test_identity_operation[POST /app-instances]``), positive and negative
inputs from the spec's examples and schemathesis' coverage and fuzzing phases;
the Hypothesis profile (``--hypothesis-profile ci|default|nightly``) bounds
the fuzzing phase. ``test_linked_operations``: schemathesis' state machine
over the spec's ``links`` (create → describe, update, list, delete …), as
many scenarios and steps as the profile allows.

Every call is written in the ledger, so whatever schemathesis creates is
deleted at the end of the session. ``_schemathesis_harness`` says which checks
run and why each is configured as it is.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import settings

from chime_conformance.contract import spec
from chime_conformance.pytest_plugin._library_internals import defer_coverage_cases
from chime_conformance.run.config import SuiteConfig
from chime_conformance.run.recorder import Recorder
from chime_conformance.run.results import ResultLog
from chime_conformance.wire.client import ChimeClient

from ._schemathesis_harness import (
    STATEFUL_CHECKS,
    ClientTarget,
    ContractChecks,
    load_schema,
    signed_state_machine,
)

# schemathesis' coverage cases are built as each test runs, not while pytest
# collects all 35 (start-up, and each xdist worker's share of them)
defer_coverage_cases()

# Loaded at import: the spec files do not change during a run.
SCHEMAS = {api: load_schema(api) for api in spec.APIS}


@pytest.fixture(scope="session")
def signed_target(chime_client: ChimeClient) -> ClientTarget:
    """The target, through the run's client: signed, retried, and every call
    written in the ledger as for every other request."""
    return ClientTarget(chime_client)


@pytest.fixture(scope="session")
def contract_checks(
    signed_target: ClientTarget, chime_config: SuiteConfig, chime_results: ResultLog
) -> ContractChecks:
    """schemathesis' checks, recorded in the run's results."""
    return ContractChecks(
        signed_target, strict=chime_config.strict, recorder=Recorder(chime_results)
    )


def operation_keeps_contract(case: Any, contract_checks: ContractChecks) -> None:
    """Every case schemathesis makes for the operation passes every check."""
    __tracebackhide__ = True
    contract_checks.call_and_check(case)


test_identity_operation = SCHEMAS[spec.IDENTITY].parametrize()(operation_keeps_contract)
test_accounts_operation = SCHEMAS[spec.ACCOUNTS].parametrize()(operation_keeps_contract)


@pytest.mark.chime_long_running
@pytest.mark.parametrize("api", spec.APIS)
def test_linked_operations(
    api: str,
    signed_target: ClientTarget,
    chime_client: ChimeClient,
    chime_config: SuiteConfig,
    chime_results: ResultLog,
) -> None:
    """Chains of calls along the spec's links keep every check, and what one
    step created or deleted is seen so by the next."""
    checks = ContractChecks(
        signed_target,
        strict=chime_config.strict,
        recorder=Recorder(chime_results),
        checks=STATEFUL_CHECKS,
    )
    machine = signed_state_machine(
        SCHEMAS[api], checks, delete=lambda op, members: chime_client.call(op, members).status
    )
    # The loaded profile (--hypothesis-profile) bounds scenarios and steps.
    machine.run(settings=settings(settings.default))
