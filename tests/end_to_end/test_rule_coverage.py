"""Every rule of every state machine fires in a ``ci`` run, and the report
says how often each ran (results.json ``rule_counts`` and the page)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conformance.machines.accounts import AccountsMachine
from conformance.machines.app_instances import AppInstancesMachine
from conformance.machines.members import MembersMachine
from conformance.machines.overlaps import OverlapsMachine
from tests.support import pytest_forkserver as forked

ROOT = Path(__file__).resolve().parents[2]
MACHINES = (AccountsMachine, AppInstancesMachine, MembersMachine, OverlapsMachine)


def test_a_ci_run_fires_every_rule_of_every_machine(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "pytest", "conformance/test_state_machines.py",
        "--hypothesis-profile", "ci", "--report-dir", str(tmp_path),
        "-p", "no:cacheprovider", "-q",
    ]  # fmt: skip
    done = forked.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:]
    counts = json.loads((tmp_path / "results.json").read_text())["rule_counts"]
    for machine in MACHINES:
        ran = counts[machine.__name__]
        assert set(ran) == set(machine.rule_names()), machine.__name__
        never = sorted(rule for rule, count in ran.items() if count == 0)
        assert not never, f"{machine.__name__}: never fired under ci: {never}"
        print(machine.__name__, ran)
    page = (tmp_path / "compliance.html").read_text()
    assert 'id="rule-counts"' in page and "deregister_endpoint" in page


def test_every_machine_lists_its_rules_and_initialize_rules() -> None:
    assert "first_app_instance" in MembersMachine.rule_names()  # an @initialize rule
    assert "wait" not in MembersMachine.rule_names()  # the filler is not a rule of the contract
    assert {"create", "update", "delete"} <= set(AccountsMachine.rule_names())
