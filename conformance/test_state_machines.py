"""Random lifecycles of every resource kind, checked step by step against a model.

Each test runs one machine under the selected Hypothesis profile (``ci``:
few short runs; ``nightly``: long ones). The machines only speak about
resources they created themselves, so the target may be shared.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from chime_conformance.pytest_plugin.profiles import without_shrinking
from chime_conformance.run.config import SuiteConfig
from chime_conformance.run.recorder import Verifier
from chime_conformance.wire.client import ChimeClient

from .machines.accounts import AccountsMachine
from .machines.app_instances import AppInstancesMachine
from .machines.harness import Machine, MachineContext
from .machines.members import MembersMachine
from .machines.overlaps import OverlapsMachine

pytestmark = pytest.mark.chime_long_running  # whole runs of a machine: seconds each


@pytest.fixture
def machine_context(
    chime_client: ChimeClient,
    verifier: Verifier,
    chime_config: SuiteConfig,
    chime_name_scope: str,
    chime_events: Any,
) -> MachineContext:
    return MachineContext(
        client=chime_client,
        verifier=verifier,
        run_id=chime_config.run_id,
        strict=chime_config.strict,
        deletion_window=chime_config.deletion_window,
        worker=chime_name_scope,
        events=chime_events,  # rule counts, for the report
    )


def run(machine: type[Machine], context: MachineContext, *, shrink: bool = True) -> None:
    """Run ``machine`` under the loaded profile, with runs long enough for
    every rule to take its turn (at least two steps per rule): rules deep in
    the state (an endpoint needs an instance and a user) otherwise never fire
    in the short runs of ``ci``. Without ``shrink`` (an operation was answered
    only as not implemented), the first failing run is reported as it is."""
    profile = settings.default if shrink else without_shrinking(settings.default)
    steps = max(profile.stateful_step_count, 2 * len(machine.rule_names()))
    run_state_machine_as_test(
        machine.bind(context), settings=settings(profile, stateful_step_count=steps)
    )


def test_app_instances_keep_their_contract_over_random_lifecycles(
    machine_context: MachineContext, chime_shrinks: bool
) -> None:
    run(AppInstancesMachine, machine_context, shrink=chime_shrinks)


def test_members_of_app_instances_keep_their_contract_over_random_lifecycles(
    machine_context: MachineContext, chime_shrinks: bool
) -> None:
    run(MembersMachine, machine_context, shrink=chime_shrinks)


def test_accounts_keep_their_contract_over_random_lifecycles(
    machine_context: MachineContext, chime_shrinks: bool
) -> None:
    run(AccountsMachine, machine_context, shrink=chime_shrinks)


def test_overlapping_requests_keep_the_contract_over_random_lifecycles(
    machine_context: MachineContext, chime_shrinks: bool
) -> None:
    run(OverlapsMachine, machine_context, shrink=chime_shrinks)
