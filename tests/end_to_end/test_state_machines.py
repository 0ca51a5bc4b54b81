"""The state machines catch each family of sequence-level breaks, and their
reproducer replays the break.

Each case serves the emulator with one fault of the emulator's registry: the
faults with a ``machine`` proof in the one fault catalogue
(``tests/support/fault_catalogue.py``). It runs the machine that should notice, checks
which named check fired and that the record carries the step sequence, then
runs the printed script against the faulty target (the break shows) and
against a healthy emulator (it does not). The machine searches in an
interpreter of its own (``tests/support/machine_proof.py`` says why), so what
other test files imported into this process cannot change its examples.
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
from pathlib import Path
from typing import Any

import pytest

from chime_conformance.emulator.server import running_emulator
from chime_conformance.run.results import CheckRecord
from tests.support.fault_catalogue import CATALOGUE
from tests.support.machine_proof import MACHINES, MachineRun, run_apart


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


# the faults a state machine must catch, from the one fault catalogue
MACHINE_PROOFS = {name: c.machine for name, c in CATALOGUE.items() if c.machine is not None}


@contextmanager
def serving(fault: str | None) -> Iterator[str]:
    """The emulator (with ``fault`` installed) on a free loopback port."""
    faults = (fault,) if fault else ()
    with running_emulator(faults=faults, allow_faults=bool(faults)) as emulator:
        yield emulator.url


def failure_of(run: MachineRun, check: str) -> CheckRecord:
    """The recorded failure of ``check`` that the run raised in the end (while
    shrinking, other examples may have failed the same check on other operations)."""
    failures = [r for r in run.failures if r.check == check]
    assert failures, f"no failure of {check}: {[r.check for r in run.failures]}"
    raised = [r for r in failures if r.reproducer_python and r.reproducer_python in str(run.raised)]
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


def test_every_machine_proof_names_a_machine_and_one_of_the_faults_checks() -> None:
    assert MACHINE_PROOFS
    for name, proof in MACHINE_PROOFS.items():
        assert proof.machine in MACHINES, name
        assert proof.check in CATALOGUE[name].caught_by, name


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MACHINE_PROOFS))
def test_a_machine_catches_the_fault_and_its_script_replays_it(name: str, tmp_path: Path) -> None:
    proof = MACHINE_PROOFS[name]
    with serving(name) as faulty_url:
        run = run_apart(proof.machine, faulty_url, tmp_path / "run.json", shrink=proof.shrink)
        assert run.raised is not None, f"{proof.machine} found nothing wrong with {name}"
        assert f"[{proof.check}]" in run.raised
        assert "Steps:\n  state." in run.raised
        record = failure_of(run, proof.check)
        assert record.steps and all(line.startswith("state.") for line in record.steps)
        script = record.reproducer_python
        assert script is not None and script in run.raised
        on_faulty = replay(script, faulty_url)
    with serving(None) as healthy_url:
        on_healthy = replay(script, healthy_url)
    assert proof.shows_break(on_faulty), on_faulty[-3:]
    assert not proof.shows_break(on_healthy), on_healthy[-3:]


def test_the_machines_pass_on_the_healthy_emulator(tmp_path: Path) -> None:
    """The proofs' search (five examples a machine) finds nothing on the
    emulator without a fault. Apart, as the proofs: the emulator answers in
    this process while the machine searches in its own."""
    with serving(None) as url:
        for name in MACHINES:
            run = run_apart(name, url, tmp_path / f"{name}.json", shrink=False, examples=5)
            assert run.raised is None and not run.failures, run.raised
