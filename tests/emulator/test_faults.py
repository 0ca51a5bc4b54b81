"""The fault registry, its consent guard and the one fault catalogue
(tests/end_to_end/test_mutation.py and tests/end_to_end/test_state_machines.py prove the suite
catches each fault; these tests prove the faults are well-formed, reach the
emulator only through its public hooks, are impossible to switch on by
accident, and that the catalogue and the registry name the same faults)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from werkzeug.test import Client

from chime_conformance.checks import REGISTRY
from chime_conformance.emulator import faults as faults_package
from chime_conformance.emulator.app import EmulatorApp, EmulatorConfig
from chime_conformance.emulator.faults import (
    ALLOW_FAULTS_ENV,
    CATEGORIES,
    FAULTS,
    FAULTS_HEADER,
    FaultError,
    FaultsNotAllowed,
    UnknownFault,
    fault_extensions,
    fault_table,
)
from chime_conformance.emulator.server import running_emulator
from tests.support.emulator_helpers import signed_request
from tests.support.fault_catalogue import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
FAULT_SOURCES = sorted(Path(faults_package.__file__).parent.glob("*.py"))


def built(config: EmulatorConfig) -> EmulatorApp:
    """The app as ``server.start_emulator`` builds it."""
    return EmulatorApp(config, extensions=fault_extensions(config))


def test_there_are_at_least_30_faults_in_every_category() -> None:
    assert len(FAULTS) >= 30
    assert {f.category for f in FAULTS.values()} == set(CATEGORIES)


def catalogue_keys() -> list[str]:
    """The catalogue's keys as written (a dict literal would hide a repeated one)."""
    tree = ast.parse((ROOT / "tests" / "support" / "fault_catalogue.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "CATALOGUE":
            assert isinstance(node.value, ast.Dict)
            return [key.value for key in node.value.keys if isinstance(key, ast.Constant)]
    raise AssertionError("tests/support/fault_catalogue.py has no CATALOGUE")


def test_every_registered_fault_has_exactly_one_catalogue_entry_and_vice_versa() -> None:
    keys = catalogue_keys()
    repeated = {key for key in keys if keys.count(key) > 1}
    assert not repeated, f"catalogued twice: {repeated}"
    assert set(keys) == set(CATALOGUE)
    assert set(FAULTS) - set(CATALOGUE) == set(), "registered faults missing from the catalogue"
    assert set(CATALOGUE) - set(FAULTS) == set(), "catalogued faults the emulator does not have"


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_a_catalogue_entry_names_real_checks_and_real_tests(name: str) -> None:
    catch = CATALOGUE[name]
    known = set(REGISTRY)  # every check the suite can report is declared there
    assert catch.caught_by and set(catch.caught_by) <= known, set(catch.caught_by) - known
    assert catch.tests or catch.machine, f"{name}: neither a slice nor a machine proof"
    assert (catch.keyword is None) or catch.tests, f"{name}: a -k expression without files"
    for path in catch.tests:
        assert (ROOT / path.split("::")[0]).is_file(), path
    fault = FAULTS[name]
    assert fault.breaks.endswith(".") and fault.name == name


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_a_fault_installs_and_the_emulator_still_answers(name: str) -> None:
    app = built(EmulatorConfig(faults=(name,), allow_faults=True))
    health = Client(app).get("/_emulator/health")
    assert health.status_code == 200 and health.json["Faults"] == [name]
    assert health.headers[FAULTS_HEADER] == name


def test_a_fault_without_consent_is_refused() -> None:
    with pytest.raises(FaultsNotAllowed, match="allow"):
        built(EmulatorConfig(faults=("untag_ignored",)))


def test_an_unknown_fault_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(UnknownFault, match="untag_ignored"):
        built(EmulatorConfig(faults=("no_such_fault",), allow_faults=True))


def test_a_fault_named_twice_is_refused() -> None:
    with pytest.raises(FaultError, match="twice"):
        built(EmulatorConfig(faults=("untag_ignored",) * 2, allow_faults=True))


def test_an_app_asked_for_faults_without_their_extension_refuses_to_serve_clean() -> None:
    with pytest.raises(ValueError, match="fault_extensions"):
        EmulatorApp(EmulatorConfig(faults=("untag_ignored",), allow_faults=True))


def test_the_emulator_does_not_import_the_faults() -> None:
    """faults import the app and models, never the reverse (no import cycle)."""
    probe = (
        "import sys; import chime_conformance.emulator.app, chime_conformance.emulator.models, "
        "chime_conformance.emulator.hooks; "
        "print(sorted(m for m in sys.modules if m.startswith('chime_conformance.emulator.faults')))"
    )
    ran = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert ran.stdout.strip() == "[]"


@pytest.mark.parametrize("source", FAULT_SOURCES, ids=lambda path: path.name)
def test_a_fault_module_uses_no_private_member(source: Path) -> None:
    """Faults reach the emulator only through public hooks: no ``x._name``."""
    private = [
        f"{source.name}:{node.lineno} .{node.attr}"
        for node in ast.walk(ast.parse(source.read_text()))
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
    ]
    assert not private


@pytest.mark.parametrize("source", FAULT_SOURCES, ids=lambda path: path.name)
def test_the_emulator_knows_no_test_of_the_suite(source: Path) -> None:
    """Which tests catch a fault lives in tests/support/fault_catalogue.py, not here."""
    strings = [
        node.value
        for node in ast.walk(ast.parse(source.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    assert not [s for s in strings if re.search(r"\btest_|conformance/|caught_by", s)]


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
