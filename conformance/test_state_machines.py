"""Random lifecycles of every resource kind, checked step by step against a model.

Each test runs one machine under the selected Hypothesis profile (``ci``:
few short runs; ``nightly``: long ones). The machines only speak about
resources they created themselves, so the target may be shared.
"""

from __future__ import annotations

import pytest
from hypothesis.stateful import run_state_machine_as_test

from chime_conformance.client import ChimeClient
from chime_conformance.target import SuiteConfig
from chime_conformance.verdicts import Verifier
from conformance.machines.accounts import AccountsMachine
from conformance.machines.app_instances import AppInstancesMachine
from conformance.machines.harness import Machine, MachineContext
from conformance.machines.members import MembersMachine


@pytest.fixture
def machine_context(
    chime_client: ChimeClient, verifier: Verifier, chime_config: SuiteConfig, chime_name_scope: str
) -> MachineContext:
    return MachineContext(
        client=chime_client,
        verifier=verifier,
        run_id=chime_config.run_id,
        strict=chime_config.strict,
        worker=chime_name_scope,
    )


def run(machine: type[Machine], context: MachineContext) -> None:
    run_state_machine_as_test(machine.bind(context))


def test_app_instances_keep_their_contract_over_random_lifecycles(
    machine_context: MachineContext,
) -> None:
    run(AppInstancesMachine, machine_context)


def test_members_of_app_instances_keep_their_contract_over_random_lifecycles(
    machine_context: MachineContext,
) -> None:
    run(MembersMachine, machine_context)


def test_accounts_keep_their_contract_over_random_lifecycles(
    machine_context: MachineContext,
) -> None:
    run(AccountsMachine, machine_context)
