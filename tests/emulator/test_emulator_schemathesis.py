"""The emulator keeps schemathesis' checks over all 35 operations (ci profile).

Acceptance: schemathesis (not_a_server_error, response_schema_conformance,
status_code_conformance, negative_data_rejection, positive_data_acceptance,
plus content_type_conformance and response_headers_conformance) run against
the emulator over every operation of both specs, positive and negative data,
and along the spec's links: zero failures. The emulator runs as the
``chime-emulator`` command on a free port, so this is the emulator users get.

Strict: none of docs/contract.md's unverified alternatives are accepted (a valid
request naming a missing resource must get 404, never 400 or 403).
"""

from __future__ import annotations

import select
import subprocess
import tempfile
from collections.abc import Iterator
from typing import IO, Any

import botocore.credentials
import pytest
from hypothesis import settings

from chime_conformance.contract import spec
from chime_conformance.pytest_plugin._library_internals import defer_coverage_cases
from chime_conformance.pytest_plugin.profiles import register_hypothesis_profiles
from chime_conformance.wire.client import ChimeClient
from conformance._schemathesis_harness import (
    STATEFUL_CHECKS,
    ClientTarget,
    ContractChecks,
    load_schema,
    signed_state_machine,
)
from tests.support.emulator_helpers import EMULATOR_COMMAND, REGION

pytestmark = pytest.mark.slow

register_hypothesis_profiles()  # idempotent; the plugin normally has done it
CI = settings.get_profile("ci")
# schemathesis' example and coverage cases are built when each test runs, as
# in the suite (conformance/test_schemathesis.py): collected eagerly, they cost
# every xdist worker about 7 s of CPU, whichever worker runs this file
defer_coverage_cases()
SCHEMAS = {api: load_schema(api) for api in spec.APIS}


class EmulatorCommand:
    """``chime-emulator --port 0``; its log goes to a file, as a pipe nobody
    reads would fill up and stall it."""

    def __init__(self, log: IO[str]) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [EMULATOR_COMMAND, "--host", "127.0.0.1", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], 20)
        line = self.process.stdout.readline() if ready else ""
        if "listening on " not in line:
            self.process.kill()
            raise RuntimeError(f"chime-emulator did not start: {line!r}")
        self.url = line.split("listening on ", 1)[1].split()[0]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorCommand]:
    with tempfile.TemporaryFile("w+", encoding="utf-8") as log:
        command = EmulatorCommand(log)
        try:
            yield command
        finally:
            command.stop()


@pytest.fixture(scope="module")
def target(emulator: EmulatorCommand) -> Iterator[ClientTarget]:
    credentials = botocore.credentials.Credentials("testing", "testing")
    with ChimeClient(emulator.url, region=REGION, credentials=credentials) as client:
        yield ClientTarget(client)


@pytest.fixture(scope="module")
def contract_checks(target: ClientTarget) -> ContractChecks:
    return ContractChecks(target, strict=True)


@settings(CI)
def emulator_keeps_contract(case: Any, contract_checks: ContractChecks) -> None:
    __tracebackhide__ = True
    contract_checks.call_and_check(case)


test_identity_operation = SCHEMAS[spec.IDENTITY].parametrize()(emulator_keeps_contract)
test_accounts_operation = SCHEMAS[spec.ACCOUNTS].parametrize()(emulator_keeps_contract)


@pytest.mark.parametrize("api", spec.APIS)
def test_linked_operations(api: str, target: ClientTarget) -> None:
    checks = ContractChecks(target, strict=True, checks=STATEFUL_CHECKS)
    client = target.client
    machine = signed_state_machine(
        SCHEMAS[api], checks, delete=lambda op, members: client.call(op, members).status
    )
    machine.run(settings=settings(CI))
