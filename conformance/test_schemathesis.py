"""schemathesis' checks on every operation of both APIs, SigV4-signed.

One test item per operation (``test_identity_operation[POST /app-instances]``),
with positive and negative inputs from the spec's examples and schemathesis'
coverage and fuzzing phases; the Hypothesis profile (``--hypothesis-profile
ci|default|nightly``) bounds the fuzzing phase. A second test runs
schemathesis' state machine over the spec's ``links`` (create → describe,
update, list, delete …).

Every call is written in the ledger, so whatever schemathesis creates is
deleted at the end of the session. ``_schemathesis_harness`` says which checks
run and why each is configured as it is.
"""

from __future__ import annotations

from typing import Any

import pytest

from chime_conformance import spec
from chime_conformance.client import ChimeClient
from chime_conformance.ledger import Ledger
from chime_conformance.results import ResultLog
from chime_conformance.target import SuiteConfig
from conformance._schemathesis_harness import ContractChecks, SigV4Target, load_schema

# Loaded at import: the spec files do not change during a run.
identity = load_schema(spec.IDENTITY)
accounts = load_schema(spec.ACCOUNTS)


@pytest.fixture(scope="session")
def schemathesis_results(request: pytest.FixtureRequest) -> Any:
    """Where check records go: the plugin's ``chime_results`` when it has one,
    else a log kept by this session only."""
    try:
        return request.getfixturevalue("chime_results")
    except pytest.FixtureLookupError:
        return ResultLog()


@pytest.fixture(scope="session")
def signed_target(
    chime_config: SuiteConfig,
    chime_target_url: str,
    chime_client: ChimeClient,  # probes the target; its teardown empties the ledger
    chime_ledger: Ledger,
) -> SigV4Target:
    """The target, with the run's region and credentials; every call goes to the ledger."""
    return SigV4Target(
        target_url=chime_target_url,
        accounts_url=chime_config.accounts_url or chime_target_url,
        region=chime_config.region,
        credentials=chime_client.credentials,
        observer=chime_ledger.observe,
    )


@pytest.fixture(scope="session")
def contract_checks(
    signed_target: SigV4Target, chime_config: SuiteConfig, schemathesis_results: Any
) -> ContractChecks:
    return ContractChecks(
        signed_target, strict=chime_config.strict, record=schemathesis_results.record
    )


def operation_keeps_contract(case: Any, contract_checks: ContractChecks) -> None:
    """Every case schemathesis makes for the operation passes every check."""
    __tracebackhide__ = True
    contract_checks.call_and_check(case)


test_identity_operation = identity.parametrize()(operation_keeps_contract)
test_accounts_operation = accounts.parametrize()(operation_keeps_contract)
