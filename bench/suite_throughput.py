"""Requests per second of the conformance suite against a plain signed loop, and
what a second xdist worker buys.

One emulator (``chime-emulator`` in a child process, its request log in a
file) serves every measurement:

(a) a plain loop, one thread: ``requests`` signed with the suite's own SigV4
    auth, cycling CreateAppInstanceUser, DescribeAppInstanceUser and
    ListAppInstanceUsers for a few seconds;
(b) ``pytest conformance --hypothesis-profile ci`` in one process: the requests
    the emulator logged, over the run's wall time and over its active window
    (first to last request: without start-up, collection and reports);
(c) the same suite with ``-n 1`` and ``-n 2``: wall times and their ratio.

b/a is what generating inputs and checking answers cost on top of HTTP and
signing; targets: b/a >= 0.5, and -n 2 <= 0.65 x the -n 1 wall time. Figures
to read, not a test.

    python bench/suite_throughput.py [--seconds 5] [--profile ci] [-- PYTEST ARGS]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import requests

from chime_conformance.client import BotocoreSigV4Auth
from chime_conformance.emulator.app import admin_headers

ROOT = Path(__file__).resolve().parent.parent
# chime-emulator logs "%(asctime)s %(message)s": one line per request
REQUEST_LINE = re.compile(
    r"^(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (?P<method>[A-Z]+) (?P<path>\S+) \d{3} "
)


@dataclass
class Emulator:
    url: str
    log: Path

    def reset(self) -> None:
        requests.post(
            f"{self.url}/_emulator/reset", headers=admin_headers(), timeout=10
        ).raise_for_status()

    def api_requests(self) -> list[datetime]:
        """When each API request (not /_emulator/) logged so far was answered."""
        stamps = []
        for line in self.log.read_text(errors="replace").splitlines():
            match = REQUEST_LINE.match(line)
            if match and not match["path"].startswith("/_emulator/"):
                stamps.append(datetime.strptime(match["at"], "%Y-%m-%d %H:%M:%S,%f"))
        return stamps


@contextmanager
def emulator(workdir: Path) -> Iterator[Emulator]:
    log = workdir / "emulator.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "chime_conformance.emulator", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=sink,
            text=True,
        )
        try:
            assert process.stdout is not None
            first_line = process.stdout.readline()
            match = re.search(r"listening on (http://\S+)", first_line)
            if match is None:
                raise SystemExit(f"chime-emulator did not start: {first_line!r} (see {log})")
            yield Emulator(match[1], log)
        finally:
            process.terminate()
            process.wait(timeout=30)


# -- (a) the plain loop --------------------------------------------------------------


def plain_rate(url: str, seconds: float) -> float:
    """Signed requests per second of a bare loop, one thread, one connection."""
    session = requests.Session()
    session.auth = BotocoreSigV4Auth("testing", "testing", "us-east-1", "chime")
    created = session.post(
        f"{url}/app-instances",
        json={"Name": "bench", "ClientRequestToken": uuid.uuid4().hex},
        timeout=10,
    )
    created.raise_for_status()
    instance = created.json()["AppInstanceArn"]
    calls = 0
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        user_id = uuid.uuid4().hex
        answers = [
            session.post(
                f"{url}/app-instance-users",
                json={
                    "AppInstanceArn": instance,
                    "AppInstanceUserId": user_id,
                    "Name": "bench user",
                    "ClientRequestToken": user_id,
                },
                timeout=10,
            ),
            session.get(
                f"{url}/app-instance-users/{quote(f'{instance}/user/{user_id}', safe='')}",
                timeout=10,
            ),
            session.get(
                f"{url}/app-instance-users",
                params={"app-instance-arn": instance, "max-results": "10"},
                timeout=10,
            ),
        ]
        for answer in answers:
            answer.raise_for_status()
        calls += len(answers)
    return calls / (time.perf_counter() - started)


# -- (b) and (c) the suite -------------------------------------------------------------


@dataclass
class SuiteRun:
    wall: float
    requests: int
    active: float  # seconds from the first request to the last
    summary: str

    @property
    def rate(self) -> float:
        return self.requests / self.wall

    @property
    def active_rate(self) -> float:
        return self.requests / self.active if self.active else 0.0


def run_suite(
    target: Emulator, workdir: Path, profile: str, extra: Sequence[str], label: str
) -> SuiteRun:
    target.reset()
    before = len(target.api_requests())
    command = [
        sys.executable,
        "-m",
        "pytest",
        "conformance",
        "--target-url",
        target.url,
        "--hypothesis-profile",
        profile,
        "--report-dir",
        str(workdir / label),
        "-p",
        "no:cacheprovider",
        "-q",
        *extra,
    ]
    started = time.perf_counter()
    ran = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    summary = (ran.stdout.strip().splitlines() or ["(no output)"])[-1].strip("= ")
    if ran.returncode != 0:
        failures = [line for line in ran.stdout.splitlines() if line.startswith("FAILED")]
        print(f"warning: pytest conformance {' '.join(extra)} exited {ran.returncode}: {summary}")
        print("\n".join(f"    {line[:300]}" for line in failures[:10]))
    stamps = target.api_requests()[before:]
    active = (stamps[-1] - stamps[0]).total_seconds() if len(stamps) > 1 else 0.0
    return SuiteRun(wall, len(stamps), active, summary)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the plain loop")
    parser.add_argument("--profile", default="ci", help="Hypothesis profile of the suite runs")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments (after --)")
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="suite-throughput-") as scratch:
        workdir = Path(scratch)
        with emulator(workdir) as target:
            plain_rate(target.url, 0.5)  # warm-up
            plain = plain_rate(target.url, arguments.seconds)
            print(f"(a) plain signed requests loop:     {plain:8.1f} requests/s", flush=True)
            suite = run_suite(target, workdir, arguments.profile, arguments.pytest_args, "n0")
            print(
                f"(b) pytest conformance (1 process): {suite.rate:8.1f} requests/s over "
                f"{suite.wall:.1f} s wall ({suite.requests} requests; {suite.active_rate:.1f}/s "
                f"over the {suite.active:.1f} s between first and last request): {suite.summary}",
                flush=True,
            )
            one = run_suite(
                target, workdir, arguments.profile, [*arguments.pytest_args, "-n", "1"], "n1"
            )
            print(f"    pytest conformance -n 1: {one.wall:6.1f} s wall: {one.summary}", flush=True)
            two = run_suite(
                target, workdir, arguments.profile, [*arguments.pytest_args, "-n", "2"], "n2"
            )
            print(f"    pytest conformance -n 2: {two.wall:6.1f} s wall: {two.summary}", flush=True)
    print(f"b/a = {suite.rate / plain:.2f} over the wall time, "
          f"{suite.active_rate / plain:.2f} over the active window (target >= 0.5)")  # fmt: skip
    print(f"-n 2 / -n 1 wall time = {two.wall / one.wall:.2f} (target <= 0.65)")


if __name__ == "__main__":
    main()
