"""`pip install .` (not only editable) gives a working package: the wheel
carries the spec documents, the report's template and schema, and declares
the console scripts and the pytest plugin."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_wheel_ships_the_spec_the_report_assets_and_the_entry_points(built_wheel: Path) -> None:
    wheel = built_wheel  # pip wheel of the checkout (tests/end_to_end/conftest.py)
    names = set(zipfile.ZipFile(wheel).namelist())
    for packaged in (
        "chime_conformance/_spec/chime-sdk-identity.openapi.yaml",
        "chime_conformance/_spec/chime-accounts.openapi.yaml",
        "chime_conformance/reporting/results.schema.json",
        "chime_conformance/reporting/templates/compliance.html.j2",
        "chime_conformance/emulator/__main__.py",
        "chime_conformance/testing/__init__.py",
    ):
        assert packaged in names, f"{packaged} is missing from {wheel.name}"
    spec_copy = zipfile.ZipFile(wheel).read(
        "chime_conformance/_spec/chime-sdk-identity.openapi.yaml"
    )
    assert spec_copy == (REPO / "spec" / "chime-sdk-identity.openapi.yaml").read_bytes()
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    declared = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "chime-emulator = chime_conformance.emulator.__main__:main" in declared
    assert "chime-conformance-report = chime_conformance.reporting.cli:main" in declared
    assert (
        "[pytest11]" in declared
        and "chime_conformance = chime_conformance.pytest_plugin.plugin" in declared
    )
    assert "chime_emulator = chime_conformance.testing.pytest_fixtures" in declared
