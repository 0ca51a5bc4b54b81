"""The docs say what the code does: one default port, the CI command the
README gives, every suite option in the README's table, no stale counts."""

from __future__ import annotations

import re
from pathlib import Path

from chime_conformance.emulator.__main__ import parse_arguments
from chime_conformance.emulator.faults import FAULTS
from chime_conformance.pytest_plugin.options import OPTIONS

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = [
    ROOT / "README.md",
    ROOT / "docs" / "nightly.md",
    ROOT / "examples" / "nightly-any-endpoint.yml",
    ROOT / ".github" / "workflows" / "nightly.yml",
]


def test_every_local_url_in_the_docs_uses_the_emulators_default_port() -> None:
    port = parse_arguments([]).port
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for found in re.findall(r"127\.0\.0\.1:(\d+)", text):
            assert int(found) in (port, 4566), f"{doc.name}: 127.0.0.1:{found}"  # 4566: the user's
        if doc.name in ("README.md", "nightly.yml"):  # the ones that start the emulator
            assert f"127.0.0.1:{port}" in text, doc.name


def test_ci_runs_exactly_the_readmes_test_command() -> None:
    quick_start = README.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    tests_command = quick_start.strip().splitlines()[1].split("&& ")[-1].strip()
    assert tests_command == ".venv/bin/pytest tests -n auto"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == tests_command


def test_the_readme_table_lists_every_suite_option() -> None:
    table = README.split("## Running against your endpoint", 1)[1].split("###", 1)[0]
    for option in OPTIONS:
        flag, env = option.flag, option.env
        if flag is None:
            continue  # environment only (examples, strict): documented with their feature
        if flag in ("--connect-timeout", "--read-timeout", "--max-retries", "--max-retry-wait"):
            continue  # ARCHITECTURE.md "How a run ends" documents the transport's
        assert f"`{flag}" in table, flag
        assert env in table, env


def test_no_stale_count_of_faults() -> None:
    for count in re.findall(r"(\d+) (?:deliberate|faults|contract breaks)", README):
        assert int(count) == len(FAULTS), f"README says {count} faults; there are {len(FAULTS)}"
