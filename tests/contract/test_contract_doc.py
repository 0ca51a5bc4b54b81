"""docs/contract.md is the contract, traceable both ways, and the repository
depends on no file outside itself.

- every rule of the shared list has one row, with evidence, checks and tests;
- every check a row names exists, and every check the suite can report
  belongs to a row (and to the row its ``Rule:`` line names);
- every test a row names exists;
- every rule has a check that some emulator fault makes fail (a fault of a
  catalogue, or a proof module that breaks the emulator in that rule);
- no code, spec or document refers to a file outside the repository.
"""

from __future__ import annotations

import importlib
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from chime_conformance import checks
from chime_conformance.run import differential

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "docs" / "contract.md"

# The contract's rule ids are declared once, beside the check registry.
RULE_IDS = checks.RULE_IDS
# The fault catalogues ("module:attribute"): an entry names the checks that
# catch its fault in ``caught_by``, and a state machine's proof in ``machine.check``.
FAULT_CATALOGUES = ("tests.support.fault_catalogue:CATALOGUE",)
# Checks proven to fail outside the catalogues, by the test that breaks a target.
FAULT_PROOFS = {
    # two targets disagreeing is proven by a fault in one of two emulators
    differential.CHECK_NAME: "tests/checks/test_differential.py",
    # tenants kept apart: proven against an emulator whose accounts are mixed
    "other_account_refused": "tests/emulator/test_emulator_tenants.py",
}


@dataclass(frozen=True)
class Row:
    rule: str
    contract: str
    evidence: str
    status: str
    checks: tuple[str, ...]
    tests: tuple[str, ...]


def _ticked(cell: str) -> tuple[str, ...]:
    return tuple(re.findall(r"`([^`]+)`", cell))


def contract_rows(text: str) -> list[Row]:
    """The rule table's rows: ``| `rule` | contract | evidence | status | checks | tests |``."""
    rows = []
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 6 or not re.fullmatch(r"`[a-z0-9.-]+`", cells[0]):
            continue
        rule, contract, evidence, status, named_checks, tests = cells
        rows.append(
            Row(rule.strip("`"), contract, evidence, status, _ticked(named_checks), _ticked(tests))
        )
    return rows


ROWS = contract_rows(CONTRACT.read_text(encoding="utf-8"))
BY_RULE = {row.rule: row for row in ROWS}


def schemathesis_checks() -> set[str]:
    harness = importlib.import_module("conformance._schemathesis_harness")
    return {function.__name__ for function in (*harness.CHECKS, *harness.STATEFUL_CHECKS)}


def known_checks() -> set[str]:
    """Every check name the suite can report: the registry, which the
    schemathesis harness's checks must be declared in too."""
    undeclared = schemathesis_checks() - set(checks.REGISTRY)
    assert not undeclared, f"schemathesis checks missing from the registry: {sorted(undeclared)}"
    return set(checks.REGISTRY)


def checks_caught_by_faults(catalogues: Iterable[str] = FAULT_CATALOGUES) -> set[str]:
    caught: set[str] = set()
    for location in catalogues:
        module_name, _, attribute = location.partition(":")
        try:
            catalogue = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError):
            continue
        for entry in catalogue.values():
            caught.update(entry.caught_by)
            if entry.machine is not None:
                caught.add(entry.machine.check)
    return caught


# ---------------------------------------------------------------- the table


def test_every_rule_has_exactly_one_row() -> None:
    rules = [row.rule for row in ROWS]
    top_level = [rule for rule in rules if "." not in rule]
    assert sorted(top_level) == sorted(RULE_IDS), "rows and the shared rule ids differ"
    assert len(rules) == len(set(rules)), "a rule has two rows"
    for rule in rules:  # a sub-rule sits under a top-level one
        assert rule.split(".")[0] in RULE_IDS, rule


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.rule)
def test_a_row_has_evidence_or_says_unverified(row: Row) -> None:
    assert row.contract and row.evidence, f"{row.rule}: no contract or no evidence"
    assert row.status.startswith(("verified", "*unverified*")), (
        f"{row.rule}: the status is 'verified' or '*unverified*' (with the alternatives "
        f"lenient mode accepts), not {row.status!r}"
    )
    if row.status.startswith("*unverified*"):
        assert "lenient" in row.status or "--strict" in row.status, (
            f"{row.rule}: an unverified rule says what lenient mode accepts"
        )
    for cited in re.findall(r"docs/evidence/[\w./-]+", row.evidence):
        assert (ROOT / cited).is_file(), f"{row.rule}: cites {cited}, which does not exist"


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.rule)
def test_a_row_names_existing_checks(row: Row) -> None:
    assert row.checks, f"{row.rule} names no check"
    unknown = set(row.checks) - known_checks()
    assert not unknown, f"{row.rule} names checks the suite does not have: {sorted(unknown)}"


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.rule)
def test_a_row_names_existing_tests(row: Row) -> None:
    assert row.tests, f"{row.rule} names no test"
    for test in row.tests:
        path, _, name = test.partition("::")
        assert (ROOT / path).is_file(), f"{row.rule}: {path} does not exist"
        if name:
            source = (ROOT / path).read_text(encoding="utf-8")
            assert f"def {name}(" in source, f"{row.rule}: {path} has no test {name}"


def test_every_check_belongs_to_a_rule() -> None:
    stated = {name for row in ROWS for name in row.checks}
    orphans = known_checks() - stated
    assert not orphans, f"checks that no rule of docs/contract.md states: {sorted(orphans)}"


def test_a_checks_declared_rule_names_it() -> None:
    """The registry's rule of every check is the row that states it."""
    for name, declaration in checks.REGISTRY.items():
        row = BY_RULE.get(declaration.rule) or BY_RULE[declaration.rule.split(".")[0]]
        stated_by = [r.rule for r in ROWS if name in r.checks]
        assert declaration.rule in stated_by or row.rule in stated_by, (
            f"{name} is declared with rule {declaration.rule}; docs/contract.md states it under "
            f"{stated_by}"
        )


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.rule)
def test_each_rule_has_a_check_an_emulator_fault_makes_fail(row: Row) -> None:
    caught = checks_caught_by_faults() | set(FAULT_PROOFS)
    assert set(row.checks) & caught, (
        f"{row.rule}: no fault makes any of {list(row.checks)} fail; add a fault that breaks "
        "this rule to a catalogue"
    )


def test_the_fault_proofs_exist_and_name_their_check() -> None:
    for check_name, path in FAULT_PROOFS.items():
        source = (ROOT / path).read_text(encoding="utf-8")
        assert check_name in source or (
            check_name == differential.CHECK_NAME and "differential" in source
        ), f"{path} does not prove {check_name}"


def test_the_fault_mapping_reads_the_catalogue() -> None:
    caught = checks_caught_by_faults()
    assert {"error_shape_is_aws", "pagination", "timestamps_monotonic"} <= caught


# ------------------------------------------------ nothing outside the repository


def repository_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    suffixes = {".py", ".md", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".txt", ".j2", ".json"}
    return [ROOT / name for name in listed if Path(name).suffix in suffixes or "/" not in name]


def references(pattern: str) -> list[str]:
    found = []
    this_file = Path(__file__).resolve()
    for path in repository_files():
        if path.resolve() == this_file or not path.is_file():
            continue
        for number, line in enumerate(
            path.read_text(encoding="utf-8", errors="replace").splitlines(), 1
        ):
            if re.search(pattern, line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    return found


# Paths that only exist on the machine the project was built on.
OUTSIDE_PATHS = r"(/work/|\.\./shared\b|shared/seeds\b|/home/\w+/)"


def test_nothing_refers_to_a_path_outside_the_repository() -> None:
    found = references(OUTSIDE_PATHS)
    assert not found, "references to files outside the repository:\n" + "\n".join(found)


def test_nothing_cites_the_design_document_outside_the_repository() -> None:
    """The contract lives in docs/contract.md; DESIGN.md is not in the repository."""
    found = references(r"DESIGN\.md")
    assert not found, f"{len(found)} references to DESIGN.md:\n" + "\n".join(found)
