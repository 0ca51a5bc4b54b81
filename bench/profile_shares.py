"""Where a ``pytest conformance`` run spends its time, as shares of py-spy samples.

Record a run, then read the shares (phase of the run by the outermost pytest
hook; within the run phase, a category by the innermost frame that names
one: signing, HTTP, generation by ``strategies/`` or by schemathesis,
checks, recording, reporting, else Hypothesis' engine or pytest)::

    py-spy record -r 50 -f raw -o run.txt -- python -m pytest conformance \\
        --hypothesis-profile ci -p no:cacheprovider --target-url URL
    python bench/profile_shares.py run.txt [--category "generation: strategies/"]

Shares of samples, not seconds: on a shared machine they are what stays
comparable between two profiles. Add ``--gil`` to ``py-spy record`` for shares
of CPU: without it a thread blocked in ``send()``/``recv()`` on a socket is
sampled as busy (the GIL is released, py-spy does not see it as idle), so
"HTTP (client side)" also holds the client's wait for the target: on loopback
``send()`` runs the target's receive path and wakes it, and on two busy cores
the client is descheduled inside it (measured: 2.9 s in ``send`` of which
0.3 s of CPU, in a ``ci`` run). ``--category`` lists the leaf frames of one
category, to see what is left inside it.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterator

PHASES = [
    ("collection", r"pytest_collection \("),
    ("run", r"pytest_runtestloop \("),
    ("summary and reports", r"pytest_terminal_summary|pytest_sessionfinish|pytest_unconfigure"),
    ("configure", r"pytest_configure|pytest_cmdline_main|_preparse|pytest_load_initial"),
]
STARTUP = "start-up (imports, plugins)"
CATEGORIES = [
    ("signing", r"botocore/(auth|signers)\.py|chime_conformance/wire/sigv4\.py|SigV4Auth"),
    (
        "HTTP (client side)",
        r"\(socket\.py|http/client\.py|urllib3/|\(requests/|email/"
        r"|chime_conformance/wire/(client|retries|overlapping)\.py",
    ),
    ("emulator (in-process)", r"chime_conformance/emulator/|werkzeug/|waitress/"),
    ("generation: strategies/", r"\((chime_conformance/)?strategies/"),
    (
        "generation: schemathesis",
        r"schemathesis/(generation|specs/openapi/(_hypothesis|negative|coverage|formats|patterns"
        r"|serialization)|core/jsonschema)",
    ),
    (
        "checks",
        r"chime_conformance/checks/|chime_conformance/run/(implementation|differential)\.py"
        r"|schemathesis/(specs/openapi/checks|checks|engine)",
    ),
    (
        "recording",
        r"chime_conformance/run/(recorder|results|ledger|coverage|conclusion|events|sweep)\.py"
        r"|chime_conformance/wire/(exchange|reproducers)\.py",
    ),
    ("reporting", r"chime_conformance/reporting/|_pytest/junitxml"),
    ("imports", r"<frozen importlib"),
]
FALLBACKS = [("Hypothesis engine", r"hypothesis/"), ("pytest and the rest", r".")]


def samples(path: str) -> Iterator[tuple[list[str], int]]:
    """(frames root first, count) for each line of py-spy's raw output."""
    with open(path, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if count.isdigit():  # an empty stack: no Python frame was sampled
                yield (stack.split(";") if stack else []), int(count)


def phase(frames: list[str]) -> str:
    if not frames:
        return "no Python frame (native code)"
    stack = ";".join(frames)
    return next((name for name, rx in PHASES if re.search(rx, stack)), STARTUP)


def category(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, rx in CATEGORIES:
            if re.search(rx, frame):
                return name
    return next(name for name, rx in FALLBACKS if any(re.search(rx, f) for f in frames))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", help="py-spy record -f raw output")
    parser.add_argument("--category", help="list the leaf frames of this run-phase category")
    arguments = parser.parse_args()
    phases: Counter[str] = Counter()
    run: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for frames, count in samples(arguments.raw):
        where = phase(frames)
        phases[where] += count
        if where == "run":
            kind = category(frames)
            run[kind] += count
            if kind == arguments.category:
                leaves[frames[-1]] += count
    total, in_run = sum(phases.values()), sum(run.values())
    print(f"{total} samples")
    for name, count in phases.most_common():
        print(f"  {100 * count / total:5.1f}%  {name}")
    print("run phase:")
    for name, count in run.most_common():
        print(f"  {100 * count / in_run:5.1f}%  {name}")
    if arguments.category:
        print(f"{arguments.category}, leaf frames:")
        for frame, count in leaves.most_common(20):
            print(f"  {100 * count / run[arguments.category]:5.1f}%  {frame[:140]}")


if __name__ == "__main__":
    main()
