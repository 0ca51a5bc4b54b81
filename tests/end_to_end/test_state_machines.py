"""The state machines catch each family of sequence-level breaks, and their
reproducer replays the break.

Each case serves the emulator with one fault of the emulator's registry: the
faults with a ``machine`` proof in the one fault catalogue
(``tests/support/fault_catalogue.py``). It runs the machine that should notice, checks
which named check fired and that the record carries the step sequence, then
runs the printed script against the faulty target (the break shows) and
against a healthy emulator (it does not).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from chime_conformance.emulator.server import running_emulator
from chime_conformance.run.recorder import ContractBroken, Verifier
from chime_conformance.run.results import CheckRecord, ResultLog
from chime_conformance.wire.client import ChimeClient
from conformance import scenario
from conformance.machines.accounts import AccountsMachine
from conformance.machines.app_instances import AppInstancesMachine
from conformance.machines.harness import Machine, MachineContext
from conformance.machines.members import MembersMachine
from conformance.machines.overlaps import OverlapsMachine
from tests.support.fault_catalogue import CATALOGUE


@dataclass(frozen=True)
class Replayed:
    """One request of a replayed script: what it sent and what it got."""

    operation: str
    sent: Any
    status: int
    answer: Any
    together: int | None = None  # the group of requests it was sent at once with


Replay = list[Replayed]


# --------------------------------------------------------------------------
# Targets, machine runs, script replays


MACHINES: dict[str, type[Machine]] = {
    machine.__name__: machine
    for machine in (AppInstancesMachine, MembersMachine, AccountsMachine, OverlapsMachine)
}
# the faults a state machine must catch, from the one fault catalogue
MACHINE_PROOFS = {name: c.machine for name, c in CATALOGUE.items() if c.machine is not None}


@contextmanager
def serving(fault: str | None) -> Iterator[str]:
    """The emulator (with ``fault`` installed) on a free loopback port."""
    faults = (fault,) if fault else ()
    with running_emulator(faults=faults, allow_faults=bool(faults)) as emulator:
        yield emulator.url


def run_machine(
    machine: type[Machine], url: str, *, shrink: bool
) -> tuple[ContractBroken, ResultLog]:
    results = ResultLog()
    verifier = Verifier(results=results, test_id="machine", account_id="123456789012")
    # a deletion the fault never performs must not be awaited 20 s per example
    context = MachineContext(
        client=ChimeClient(url), verifier=verifier, run_id="cctest", deletion_window=0.1
    )
    quick = settings(
        max_examples=40,
        stateful_step_count=10,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate, Phase.shrink] if shrink else [Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    with pytest.raises(ContractBroken) as broken:
        run_state_machine_as_test(machine.bind(context), settings=quick)
    return broken.value, results


def failure_of(results: ResultLog, check: str, broken: BaseException) -> CheckRecord:
    """The recorded failure of ``check`` that the run raised in the end (while
    shrinking, other examples may have failed the same check on other operations)."""
    failures = [r for r in results.records() if r.outcome == "fail" and r.check == check]
    assert failures, (
        f"no failure of {check}: {[r.check for r in results.records() if r.outcome == 'fail']}"
    )
    raised = [r for r in failures if r.reproducer_python and r.reproducer_python in str(broken)]
    return raised[-1] if raised else failures[-1]


def replay(script: str, url: str) -> Replay:
    """Run the reproducer against ``url``; the (status, answer) of each request."""
    base = re.search(r"'(http://127\.0\.0\.1:\d+)", script).group(1)  # type: ignore[union-attr]
    environment = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    environment.pop("AWS_SESSION_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-c", script.replace(base, url)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=True,
    )
    return _parse_replay(done.stdout)


def _parse_replay(output: str) -> Replay:
    lines = output.splitlines()
    return [
        Replayed(
            operation=request.split(": ", 1)[0].split(" ", 1)[1],
            sent=_json(sent.split("sent:", 1)[1]),
            status=int(status),
            answer=_json(got.split("got:", 1)[1]),
            together=int(group) if group else None,
        )
        for request, sent, got in zip(lines[::3], lines[1::3], lines[2::3], strict=True)
        for status, group in [_STATUS_LINE.search(request).groups()]  # type: ignore[union-attr]
    ]


# "3 CreateAppInstanceUser: POST http://… -> 201 (together 2)"
_STATUS_LINE = re.compile(r"-> (\d+)(?: \(together (\d+)\))?$")


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text.strip() else {}
    except ValueError:
        return text.strip()


# --------------------------------------------------------------------------
# The proofs


@pytest.fixture(autouse=True)
def quick_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scenario, "POLL_SECONDS", 0.02)


def test_every_machine_proof_names_a_machine_and_one_of_the_faults_checks() -> None:
    assert MACHINE_PROOFS
    for name, proof in MACHINE_PROOFS.items():
        assert proof.machine in MACHINES, name
        assert proof.check in CATALOGUE[name].caught_by, name


# KNOWN DEFECT, open: under `pytest tests -n auto` this one case misses its fault
# (DID NOT RAISE) after another file's tests ran on the same worker; alone, or
# this file alone, it passes (also with CI=true). Some state one of those files
# leaves behind changes the machine's run; not yet found. Not strict, so the
# case still runs and reports; the mutation matrix still proves the suite
# catches cascade_keeps_users.
ORDER_DEPENDENT = {"cascade_keeps_users"}


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            marks=pytest.mark.xfail(
                reason="order-dependent under xdist, open defect (see the comment above)",
                strict=False,
            ),
        )
        if name in ORDER_DEPENDENT
        else name
        for name in sorted(MACHINE_PROOFS)
    ],
)
def test_a_machine_catches_the_fault_and_its_script_replays_it(name: str) -> None:
    proof = MACHINE_PROOFS[name]
    with serving(name) as faulty_url:
        broken, results = run_machine(MACHINES[proof.machine], faulty_url, shrink=proof.shrink)
        assert f"[{proof.check}]" in str(broken)
        assert "Steps:\n  state." in str(broken)
        record = failure_of(results, proof.check, broken)
        assert record.steps and all(line.startswith("state.") for line in record.steps)
        script = record.reproducer_python
        assert script is not None and script in str(broken)
        on_faulty = replay(script, faulty_url)
    with serving(None) as healthy_url:
        on_healthy = replay(script, healthy_url)
    assert proof.shows_break(on_faulty), on_faulty[-3:]
    assert not proof.shows_break(on_healthy), on_healthy[-3:]


def test_the_machines_pass_on_the_healthy_emulator() -> None:
    """The same settings find nothing on the emulator without a fault."""
    quick = settings(
        max_examples=5,
        stateful_step_count=10,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    with serving(None) as url:
        for machine in MACHINES.values():
            verifier = Verifier(results=ResultLog(), test_id="machine", account_id="123456789012")
            context = MachineContext(client=ChimeClient(url), verifier=verifier, run_id="cctest")
            run_state_machine_as_test(machine.bind(context), settings=quick)
