"""The fault registry and its consent guard (tests/test_mutation.py proves the
suite catches each fault; these tests prove the faults are well-formed and
impossible to switch on by accident)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from chime_conformance.checks import CHECKS
from chime_conformance.emulator.app import EmulatorApp, EmulatorConfig
from chime_conformance.emulator.faults import (
    ALLOW_FAULTS_ENV,
    CATEGORIES,
    FAULTS,
    FAULTS_HEADER,
    FaultError,
    FaultsNotAllowed,
    UnknownFault,
    fault_table,
)
from chime_conformance.emulator.server import running_emulator
from tests.emulator_helpers import signed_request

ROOT = Path(__file__).resolve().parent.parent


def scenario_checks() -> set[str]:
    """Check names the conformance suite records outside the registry."""
    names: set[str] = set()
    for source in (ROOT / "conformance").rglob("*.py"):
        names.update(re.findall(r'check="(\w+)"', source.read_text()))
    return names


def test_there_are_at_least_30_faults_in_every_category() -> None:
    assert len(FAULTS) >= 30
    assert {f.category for f in FAULTS.values()} == set(CATEGORIES)


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_a_fault_names_real_checks_and_real_tests(name: str) -> None:
    fault = FAULTS[name]
    known = set(CHECKS) | scenario_checks()
    assert fault.caught_by and set(fault.caught_by) <= known, set(fault.caught_by) - known
    assert fault.breaks.endswith(".") and fault.name == name
    for path in fault.tests:
        assert (ROOT / path.split("::")[0]).is_file(), path


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_a_fault_installs_and_the_emulator_still_answers(name: str) -> None:
    app = EmulatorApp(EmulatorConfig(faults=(name,), allow_faults=True))
    assert app.faults == (name,)


def test_a_fault_without_consent_is_refused() -> None:
    with pytest.raises(FaultsNotAllowed, match="allow"):
        EmulatorApp(EmulatorConfig(faults=("untag_ignored",)))


def test_an_unknown_fault_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(UnknownFault, match="untag_ignored"):
        EmulatorApp(EmulatorConfig(faults=("no_such_fault",), allow_faults=True))


def test_a_fault_named_twice_is_refused() -> None:
    with pytest.raises(FaultError, match="twice"):
        EmulatorApp(EmulatorConfig(faults=("untag_ignored",) * 2, allow_faults=True))


def test_a_faulty_emulator_says_so_on_every_answer_and_a_clean_one_does_not() -> None:
    with (
        running_emulator(faults=("untag_ignored", "create_answers_200"), allow_faults=True) as bad,
        running_emulator() as good,
    ):
        health = requests.get(f"{bad.url}/_emulator/health", timeout=10)
        assert health.headers[FAULTS_HEADER] == "untag_ignored,create_answers_200"
        assert health.json()["Faults"] == ["untag_ignored", "create_answers_200"]
        created = signed_request(bad.url, "POST", "/app-instances", APP_INSTANCE)
        assert created.status == 200  # the fault at work
        assert lower(created.headers)[FAULTS_HEADER] == "untag_ignored,create_answers_200"
        # the same process's other emulator keeps every rule
        clean = signed_request(good.url, "POST", "/app-instances", APP_INSTANCE)
        assert clean.status == 201
        assert FAULTS_HEADER not in lower(clean.headers)
        assert FAULTS_HEADER not in requests.get(f"{good.url}/_emulator/health", timeout=10).headers


APP_INSTANCE = b'{"Name": "n", "ClientRequestToken": "token-1"}'


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def emulator_command(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chime_conformance.emulator", "--port", "0", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_command_refuses_a_fault_without_allow_faults() -> None:
    ran = emulator_command("--fault", "untag_ignored")
    assert ran.returncode == 2
    assert "--allow-faults" in ran.stderr and ALLOW_FAULTS_ENV in ran.stderr


def test_the_command_refuses_an_unknown_fault_listing_the_known_ones() -> None:
    ran = emulator_command("--fault", "no_such_fault", "--allow-faults")
    assert ran.returncode == 2
    assert "untag_ignored" in ran.stderr


def test_the_command_lists_the_faults() -> None:
    ran = emulator_command("--list-faults")
    assert ran.returncode == 0
    assert ran.stdout.strip() == fault_table()
    assert all(name in ran.stdout for name in FAULTS)


def test_the_command_takes_consent_from_the_long_environment_variable() -> None:
    command = [sys.executable, "-m", "chime_conformance.emulator", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--fault", "untag_ignored"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, ALLOW_FAULTS_ENV: "1"},
    )
    try:
        assert process.stdout is not None
        listening = process.stdout.readline()
        assert "FAULTS untag_ignored" in listening, listening
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=30)
    assert "FAULTS INJECTED (untag_ignored)" in errors
