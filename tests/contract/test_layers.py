"""The layering of ARCHITECTURE.md holds: import-linter's contracts in
pyproject.toml (layers top to bottom, the emulator independent of the suite,
nothing below the pytest adapter importing pytest, no import cycle between
the package's modules at any depth) are kept, and they do refuse a
deliberately added upward import, so a kept contract means something."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` over the package found first on the path at ``root``."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "COLUMNS": "500"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def copy_of_the_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("layers")
    shutil.copytree(
        REPO / "chime_conformance",
        root / "chime_conformance",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def verdicts(output: str, word: str) -> list[str]:
    """The names of the contracts ``lint-imports`` printed as ``word`` (KEPT or BROKEN)."""
    return [line.rsplit(" ", 1)[0] for line in output.splitlines() if line.endswith(f" {word}")]


def test_every_contract_is_kept() -> None:
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert len(verdicts(result.stdout, "KEPT")) == len(contracts["contracts"]), result.stdout


@pytest.mark.parametrize(
    ("importer", "imported", "contract"),
    [
        # the contract layer reaching up into the pytest adapter
        ("contract/spec.py", "chime_conformance.pytest_plugin", "Layers"),
        # reporting reading the adapter instead of the run's results
        ("reporting/matrix.py", "chime_conformance.pytest_plugin", "Layers"),
        # the emulator depending on the suite's checks
        ("emulator/models.py", "chime_conformance.checks", "emulator is independent"),
        # the run layer importing pytest
        ("run/ledger.py", "pytest", "imports pytest"),
        # a cycle inside one layer: the client importing the module that imports it
        ("wire/retries.py", "chime_conformance.wire.client", "No import cycle"),
    ],
)
def test_a_deliberately_added_import_breaks_its_contract(
    copy_of_the_package: Path, importer: str, imported: str, contract: str
) -> None:
    unchanged = lint_imports(copy_of_the_package)
    module = copy_of_the_package / "chime_conformance" / importer
    original = module.read_text()
    try:
        module.write_text(original + f"\nimport {imported}  # noqa: E402, F401\n")
        result = lint_imports(copy_of_the_package)
    finally:
        module.write_text(original)
    assert any(contract in name for name in verdicts(unchanged.stdout, "KEPT")), unchanged.stdout
    assert result.returncode != 0, result.stdout
    assert any(contract in name for name in verdicts(result.stdout, "BROKEN")), result.stdout
