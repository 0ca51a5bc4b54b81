"""What ``mock_chime`` and the ``chime_emulator`` fixture cost a test. Figures to
read (for the closing note of issue 24), not tests.

- **first answered call**: from entering ``with mock_chime():`` to the answer of
  the first call of a boto3 client made inside (``boto3.client(...)``, then
  ``list_app_instances()``). Cold: in a fresh interpreter, the first block of
  the process (``chime_conformance.testing`` and boto3 imported before the clock
  starts; botocore's first load of the service model is inside). Warm: the median
  of the following blocks of the same process.
- **block end**: leaving the block (the environment restored, the server stopped).
- **per-test reset**: what the fixture does before each test, ``reset()`` of the
  session's emulator then the environment patched (and restored after): on an
  empty state, after 200 records, and with a snapshot as the starting state
  (reloaded at each reset); the admin reset over HTTP
  (``POST /_emulator/reset``) for comparison.

    python bench/mock_chime.py [--rounds 30] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

FIRST_CALL = """
import time, boto3
from chime_conformance.testing import mock_chime
import chime_conformance.testing._mock  # the imports before the clock, as in a test module
started = time.perf_counter()
with mock_chime():
    boto3.client("chime-sdk-identity").list_app_instances()
    print(time.perf_counter() - started)
"""


def milliseconds(seconds: float) -> float:
    return round(seconds * 1000, 2)


def median_of(rounds: int, measure: Callable[[], float]) -> float:
    return milliseconds(statistics.median(measure() for _ in range(rounds)))


def cold_first_call() -> float:
    done = subprocess.run(
        [sys.executable, "-c", FIRST_CALL], capture_output=True, text=True, check=True
    )
    return milliseconds(float(done.stdout))


def warm_block(rounds: int) -> tuple[float, float]:
    import boto3

    from chime_conformance.testing import mock_chime

    first_calls, ends = [], []
    for _ in range(rounds + 1):
        started = time.perf_counter()
        mock = mock_chime()
        mock.start()
        boto3.client("chime-sdk-identity").list_app_instances()
        answered = time.perf_counter()
        mock.stop()
        first_calls.append(answered - started)
        ends.append(time.perf_counter() - answered)
    # the first block of the process is the cold one: left out
    return milliseconds(statistics.median(first_calls[1:])), milliseconds(
        statistics.median(ends[1:])
    )


def per_test_reset(rounds: int) -> dict[str, float]:
    from chime_conformance.emulator.app import admin_headers
    from chime_conformance.testing._activation import activate, deactivate
    from chime_conformance.testing._emulator import EmulatorOptions, launch

    def fixture_step(emulator: object, fill: Callable[[], None] | None = None) -> float:
        if fill:
            fill()
        started = time.perf_counter()
        emulator.reset()  # type: ignore[attr-defined]
        deactivate(activate(emulator, "bench"))  # type: ignore[arg-type]
        return time.perf_counter() - started

    figures = {}
    emulator = launch(EmulatorOptions())
    try:
        figures["empty"] = median_of(rounds, lambda: fixture_step(emulator))

        def fill() -> None:
            room = emulator.seed.app_instance("room")
            for index in range(199):
                room.user(f"user-{index}")

        figures["after 200 records"] = median_of(5, lambda: fixture_step(emulator, fill))

        def over_http() -> float:
            request = urllib.request.Request(
                f"{emulator.url}/_emulator/reset", method="POST", headers=admin_headers()
            )
            started = time.perf_counter()
            urllib.request.urlopen(request).read()
            return time.perf_counter() - started

        figures["POST /_emulator/reset (HTTP)"] = median_of(rounds, over_http)
        with tempfile.TemporaryDirectory() as folder:
            fill()
            snapshot = Path(folder) / "seed.json"
            emulator.save_snapshot(snapshot)
            seeded = launch(EmulatorOptions(snapshot=snapshot))
            try:
                figures["snapshot of 200 records"] = median_of(rounds, lambda: fixture_step(seeded))
            finally:
                seeded._stop()
    finally:
        emulator._stop()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    cold = cold_first_call()
    warm, end = warm_block(arguments.rounds)
    resets = per_test_reset(arguments.rounds)
    figures = {
        "with mock_chime(): to the first answered call, cold (ms)": cold,
        "with mock_chime(): to the first answered call, warm median (ms)": warm,
        "leaving the block, median (ms)": end,
        **{f"per-test reset, {name}, median (ms)": value for name, value in resets.items()},
    }
    if arguments.json:
        print(json.dumps(figures, indent=1))
    else:
        width = max(map(len, figures))
        for name, value in figures.items():
            print(f"{name:<{width}}  {value:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
