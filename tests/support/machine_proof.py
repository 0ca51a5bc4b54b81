"""One state machine's search for a fault, run in a process of its own, for
the fault proofs of tests/end_to_end/test_state_machines.py.

Why a process of its own: while it generates, Hypothesis draws some values
(short strings, large integers) from a pool of constants it reads out of every
module of this project in ``sys.modules``, a pool that only grows. A
derandomized search therefore depends on what its process imported before:
an xdist worker, which collects every test file, searched other examples
than the file run alone, and (as of 07bebb6) the ``cascade_keeps_users``
proof missed its fault within its 40 examples once tests/adapter/test_cli.py
was merely collected beside it. A process forked from the fork server
(tests/support/pytest_forkserver.py) starts from the same imports whatever
ran before it, as a fresh interpreter would, so the same code searches the
same examples in every run.

    python -m tests.support.machine_proof MACHINE URL OUT.json [--shrink] [--examples=N]

writes what the run raised (``ContractBroken``'s text, or null when it found
nothing) and the failures it recorded to ``OUT.json``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from chime_conformance.run.recorder import ContractBroken, Verifier
from chime_conformance.run.results import FAIL, CheckRecord, ResultLog
from chime_conformance.wire.client import ChimeClient
from conformance.machines.accounts import AccountsMachine
from conformance.machines.app_instances import AppInstancesMachine
from conformance.machines.harness import Machine, MachineContext
from conformance.machines.members import MembersMachine
from conformance.machines.overlaps import OverlapsMachine
from tests.support import pytest_forkserver as forked

ROOT = Path(__file__).resolve().parents[2]
MACHINES: dict[str, type[Machine]] = {
    machine.__name__: machine
    for machine in (AppInstancesMachine, MembersMachine, AccountsMachine, OverlapsMachine)
}
# Hypothesis' own defaults, whatever profile is loaded (CI=true loads its ``ci``)
SEARCH = settings(
    parent=settings.get_profile("default"),
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    report_multiple_bugs=False,
)


def search_settings(
    machine: type[Machine], *, shrink: bool = False, examples: int | None = None
) -> settings:
    """:data:`SEARCH`, with runs of twice as many steps as ``machine`` has rules.

    A rule runs again only once every rule has had its turn (the harness'
    take-turns precondition), so a run shorter than the machine's rules leaves
    most of them out: in randomized searches of 40 examples, MembersMachine
    (18 rules) caught ``cascade_keeps_users`` (a user created in an
    AppInstance, then the AppInstance deleted) in 17 of 20 with 10 steps, 18 of
    20 with 20, and in all 25 with 36."""
    return settings(
        SEARCH,
        max_examples=examples or SEARCH.max_examples,
        stateful_step_count=max(10, 2 * len(machine.rule_names())),
        phases=[Phase.generate, Phase.shrink] if shrink else [Phase.generate],
    )


@dataclass(frozen=True)
class MachineRun:
    """What one search raised, and the failures it recorded (shrinking may
    record several of the same check)."""

    raised: str | None  # the ContractBroken's text; None: the search found nothing
    failures: list[CheckRecord]


def run_here(
    machine: type[Machine], url: str, *, shrink: bool, examples: int | None = None
) -> MachineRun:
    """Search with ``machine`` against ``url`` in this process (``examples``:
    fewer than :data:`SEARCH`'s)."""
    results = ResultLog()
    verifier = Verifier(results=results, test_id="machine", account_id="123456789012")
    # a deletion the fault never performs must not be awaited 20 s per example
    context = MachineContext(
        client=ChimeClient(url), verifier=verifier, run_id="cctest", deletion_window=0.1
    )
    try:
        run_state_machine_as_test(
            machine.bind(context),
            settings=search_settings(machine, shrink=shrink, examples=examples),
        )
        raised = None
    except ContractBroken as broken:
        raised = str(broken)
    failures = [r for r in results.records() if r.outcome == FAIL]
    return MachineRun(raised, failures)


def run_apart(
    machine: str, url: str, out: Path, *, shrink: bool, examples: int | None = None
) -> MachineRun:
    """:func:`run_here` in a process of its own, forked from the fork server's
    interpreter (tests/support/pytest_forkserver.py): the same modules
    imported in every run, whatever this process imported (see the module's
    docstring), without paying the imports each time."""
    flags = [*(["--shrink"] * shrink), *([f"--examples={examples}"] if examples else [])]
    done = forked.run(
        [sys.executable, "-m", __name__, machine, url, str(out), *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"the {machine} run ended with {done.returncode}: {done.stderr}"
    data = json.loads(out.read_text(encoding="utf-8"))
    return MachineRun(data["raised"], [CheckRecord.from_json(r) for r in data["failures"]])


def main(argv: list[str]) -> None:
    from conformance import scenario

    machine, url, out, *flags = argv
    scenario.POLL_SECONDS = 0.02  # this process runs nothing else
    examples = [int(f.split("=", 1)[1]) for f in flags if f.startswith("--examples=")]
    run = run_here(
        MACHINES[machine], url, shrink="--shrink" in flags, examples=next(iter(examples), None)
    )
    data = {"raised": run.raised, "failures": [r.to_json() for r in run.failures]}
    Path(out).write_text(json.dumps(data), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
