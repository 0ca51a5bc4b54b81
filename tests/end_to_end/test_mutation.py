"""Mutation testing of the conformance suite: it catches every shipped fault
and cries wolf on none.

For each fault of ``chime_conformance.emulator.faults`` whose entry in the one
fault catalogue (``tests/support/fault_catalogue.py``) names a slice of the suite, an
emulator is started with that fault (``running_emulator(faults=(NAME,),
allow_faults=True)``) and that slice is run against it (``ci`` profile, seed 0):
the run must record a failure of one of the checks the entry names, and of no
other. (Entries with only a state-machine proof are run by
tests/end_to_end/test_state_machines.py.) The clean
emulator must pass the union of those slices under the ``ci`` profile (what the
kills were measured with) and, with ``--deep`` (tests/conftest.py), under the
``default`` profile with three seeds:
``ci`` is derandomized, so seeds change nothing there, while ``default`` draws
other examples per seed (20 a test instead of 8). The union, rather than the
whole suite, keeps the file within its budget on 2 cores; the whole suite runs
in the ``conformance`` tox env.

Runs go ``CHIME_MUTATION_JOBS`` (default: the number of CPUs, at most 4) at a
time, each against its own emulator. Each is a pytest session of its own,
forked by a fork server (tests/support/pytest_forkserver.py) that imported
pytest and the suite once: most slices are a few tests that run in a fraction
of a second, which a fresh interpreter would spend again on imports.
Under xdist the module stays on one worker (``--dist loadfile``, tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from chime_conformance.emulator.faults import FAULTS, FAULTS_HEADER, Fault
from chime_conformance.emulator.iam import OTHER_TEST_IDENTITY as OTHER
from chime_conformance.emulator.server import running_emulator
from tests.support import pytest_forkserver as forked
from tests.support.fault_catalogue import CATALOGUE, Catch
from tests.support.pytest_forkserver import ForkServer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MUTATION_SEED = 0
CLEAN_SEEDS = (1, 2, 3)
JOBS = int(os.environ.get("CHIME_MUTATION_JOBS") or min(4, os.cpu_count() or 1))
RUN_TIMEOUT = 300  # seconds: one slice, even on a slow machine
CLEAN_CI = "clean/ci"
# Mutant slices run the ci profile with --no-shrink: the same examples, in the
# same order, but a failure is reported as found instead of being minimized
# (which takes tens of seconds of requests and proves nothing more here).
# The emulator deletes at once, so a delete it never performs need not be
# awaited for the real service's 20 s (--deletion-window): a second shows it.
DELETION_WINDOW = "1"

# the faults a slice of the suite must catch (the catalogue's entries with a slice)
SUITE_FAULTS = sorted(name for name, catch in CATALOGUE.items() if catch.tests)


@dataclass(frozen=True)
class Slice:
    """What one run executes: pytest arguments, a profile and a seed, whether
    failures are minimized, and the faults (none: the clean emulator) the
    emulator is started with."""

    label: str
    args: tuple[str, ...]
    profile: str = "ci"
    seed: int = MUTATION_SEED
    faults: tuple[str, ...] = ()
    shrink: bool = True


@dataclass
class SliceRun:
    """What came of one slice: pytest's exit code, every failed record's check,
    the seconds until the first failed test, and the run's output."""

    slice: Slice
    returncode: int
    failed_checks: Counter[str] = field(default_factory=Counter)
    first_failure: float | None = None
    wall: float = 0.0
    summary: str = ""
    output: str = ""

    def killed_by(self, catch: Catch) -> list[str]:
        return [check for check in catch.caught_by if self.failed_checks[check]]


def union_slice(catches: Sequence[Catch]) -> tuple[str, ...]:
    """Every test any of ``catches`` selects, as one pytest invocation."""
    files = sorted({path for c in catches for path in c.tests})
    keywords = [c.keyword for c in catches]
    if any(k is None for k in keywords):
        return tuple(files)
    return (*files, "-k", " or ".join(sorted({f"({k})" for k in keywords if k})))


def slices_for(fault_names: Sequence[str], seeds: Sequence[int], *, clean_ci: bool) -> list[Slice]:
    union = union_slice([CATALOGUE[name] for name in SUITE_FAULTS])
    clean = [Slice(CLEAN_CI, union)] if clean_ci else []
    clean += [Slice(f"clean/default/{seed}", union, "default", seed) for seed in seeds]
    mutants = [
        Slice(name, tuple(CATALOGUE[name].pytest_args()), faults=(name,), shrink=False)
        for name in fault_names
    ]
    return clean + mutants  # the long clean runs first: they pack better


def run(slice_: Slice, workdir: Path, server: ForkServer) -> SliceRun:
    """Run ``slice_`` against its own emulator (in this process: it starts in
    milliseconds and idles while the suite generates), in a session forked by
    ``server``; read its results.json."""
    workdir.mkdir(parents=True, exist_ok=True)
    with running_emulator(
        faults=slice_.faults, allow_faults=bool(slice_.faults), identities=(OTHER,)
    ) as emulator:
        answered = requests.get(f"{emulator.url}/_emulator/health", timeout=10)
        announced = answered.headers.get(FAULTS_HEADER, "")
        assert announced == ",".join(slice_.faults), f"{FAULTS_HEADER}: {announced!r}"
        return _run_pytest(slice_, emulator.url, workdir, server)


def _run_pytest(slice_: Slice, url: str, workdir: Path, server: ForkServer) -> SliceRun:
    args = [
        *slice_.args,
        "--target-url",
        url,
        # the second account the embedded emulator has too: the tenant tests sign with it
        "--other-identity",
        f"{OTHER.access_key}:{OTHER.secret_key}",
        "--hypothesis-profile",
        slice_.profile,
        "--hypothesis-seed",
        str(slice_.seed),
        "--deletion-window",
        DELETION_WINDOW,
        "--report-dir",
        str(workdir / "report"),
        "-p",
        "no:cacheprovider",
        *([] if slice_.shrink else ["--no-shrink"]),
        "-v",
        "--tb=line",
    ]
    started = time.monotonic()
    first_failure = None
    lines: list[str] = []
    process = server.popen(
        [sys.executable, "-m", "pytest", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    overdue = threading.Timer(RUN_TIMEOUT, process.kill)
    overdue.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:  # -v: one line per test, as it finishes
            lines.append(line)
            if first_failure is None and re.search(r" (FAILED|ERROR)\b", line):
                first_failure = time.monotonic() - started
        returncode = process.wait()
    finally:
        overdue.cancel()
        process.close_pipes()
    outcome = SliceRun(slice_, returncode, first_failure=first_failure)
    outcome.wall = time.monotonic() - started
    outcome.output = "".join(lines[-60:])
    outcome.summary = lines[-1].strip(" =\n") if lines else ""
    if returncode < 0:  # killed when overdue, or it crashed
        outcome.summary = f"ended by signal {-returncode}"
        outcome.output += f"\nslice {slice_.label} did not finish within {RUN_TIMEOUT} s"
    outcome.failed_checks = _failed_checks(workdir / "report" / "results.json")
    (workdir / "pytest.log").write_text("".join(lines))
    return outcome


def _failed_checks(results: Path) -> Counter[str]:
    if not results.exists():
        return Counter()
    records = json.loads(results.read_text())["records"]
    return Counter(r["check"] for r in records if r["outcome"] == "fail")


def selected_plan(request: pytest.FixtureRequest) -> list[Slice]:
    """The slices this module's selected tests need (all of them for the score)."""
    items = [
        i
        for i in request.session.items
        if i.module is sys.modules[__name__] and i.get_closest_marker("skip") is None
    ]
    names = {item.originalname for item in items}
    if test_mutation_score.__name__ in names:
        return slices_for(SUITE_FAULTS, values_of(items, "seed"), clean_ci=True)

    clean_ci = test_the_clean_emulator_passes_the_slices_the_faults_were_caught_in.__name__
    return slices_for(
        values_of(items, "fault_name"), values_of(items, "seed"), clean_ci=clean_ci in names
    )


def values_of(items: list[pytest.Item], parameter: str) -> list[Any]:
    """The values of ``parameter`` that ``items`` run with."""
    return [
        item.callspec.params[parameter]
        for item in items
        if parameter in getattr(getattr(item, "callspec", None), "params", {})
    ]


@pytest.fixture(scope="module")
def runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, SliceRun]]:
    """The selected slices, run JOBS at a time."""
    plan = selected_plan(request)
    root = tmp_path_factory.mktemp("mutation")
    started = time.monotonic()
    server = forked.shared()
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        done = pool.map(lambda s: run(s, root / s.label.replace("/", "-"), server), plan)
        results = {outcome.slice.label: outcome for outcome in done}
    results["(wall)"] = SliceRun(Slice("(wall)", ()), 0, wall=time.monotonic() - started)
    yield results


@pytest.mark.parametrize("fault_name", SUITE_FAULTS)
def test_the_suite_catches_the_fault(fault_name: str, runs: dict[str, SliceRun]) -> None:
    fault, catch = FAULTS[fault_name], CATALOGUE[fault_name]
    outcome = runs[fault_name]
    assert outcome.returncode in (0, 1), outcome.output  # 2+: the run itself broke
    assert outcome.killed_by(catch), (
        f"fault {fault_name} ({fault.breaks}) survived: no failure of "
        f"{', '.join(catch.caught_by)} in {' '.join(catch.pytest_args())}; "
        f"failed checks: {dict(outcome.failed_checks) or 'none'}\n{outcome.output}"
    )
    # a fault breaks its fact and nothing else: no other check notices it
    unexpected = set(outcome.failed_checks) - set(catch.caught_by)
    assert not unexpected, f"fault {fault_name} also failed {unexpected}\n{outcome.output}"


def test_the_clean_emulator_passes_the_slices_the_faults_were_caught_in(
    runs: dict[str, SliceRun],
) -> None:
    outcome = runs[CLEAN_CI]
    assert outcome.returncode == 0 and not outcome.failed_checks, outcome.output


@pytest.mark.parametrize(
    "seed",
    # with --deep only: each is a minute of CPU on 2 cores (CI runs the clean ci slice)
    [pytest.param(seed, marks=pytest.mark.deep) for seed in CLEAN_SEEDS],
)
def test_the_clean_emulator_passes_with_any_seed(seed: int, runs: dict[str, SliceRun]) -> None:
    outcome = runs[f"clean/default/{seed}"]
    assert outcome.returncode == 0 and not outcome.failed_checks, outcome.output


def test_mutation_score(runs: dict[str, SliceRun], capsys: pytest.CaptureFixture[str]) -> None:
    """Prints the score table (fault, killed by which check, time to first failure)."""
    mutants = [(FAULTS[label], run) for label, run in runs.items() if label in FAULTS]
    with capsys.disabled():
        print("\n" + score_table(mutants, runs))
    survivors = [fault.name for fault, run in mutants if not run.killed_by(CATALOGUE[fault.name])]
    assert not survivors, f"surviving faults: {', '.join(survivors)}"


def score_table(mutants: list[tuple[Fault, SliceRun]], runs: dict[str, SliceRun]) -> str:
    rows = [
        (
            fault.name,
            fault.category,
            ", ".join(run.killed_by(CATALOGUE[fault.name])) or "SURVIVED",
            f"{run.first_failure:.1f} s" if run.first_failure is not None else "-",
            f"{run.wall:.1f} s",
        )
        for fault, run in sorted(mutants, key=lambda m: (m[0].category, m[0].name))
    ]
    header = ("fault", "category", "killed by", "first failure", "run")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))

    def line(row: tuple[str, ...]) -> str:
        cells = [
            cell.ljust(w) if i < 3 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells)

    killed = sum(1 for fault, run in mutants if run.killed_by(CATALOGUE[fault.name]))
    lines = [line(header), rule, *map(line, rows), rule]
    lines.append(f"mutation score: {killed}/{len(mutants)} ({100 * killed / len(mutants):.0f}%)")
    for label, run in runs.items():
        if label.startswith("clean/"):
            lines.append(f"{label}: {run.summary} ({run.wall:.1f} s)")
    lines.append(f"wall time of the matrix: {runs['(wall)'].wall:.1f} s with {JOBS} job(s)")
    return "\n".join(lines)
