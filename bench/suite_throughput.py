"""Every speed figure of the suite, each next to its target, from one run.

Figures to read, not tests: each ratio is measured in this one run, both sides
under the same load (on a shared machine absolute seconds mean little; the
load average is printed with them). One ``chime-emulator`` child process, its
request log in a file, serves the measurements that need one:

- **plain loop** (the reference): ``requests`` signed with the suite's own
  SigV4 auth, one thread, one session, cycling CreateAppInstanceUser,
  DescribeAppInstanceUser and ListAppInstanceUsers.
- **suite ÷ plain loop** (target >= 0.5): ``pytest conformance
  --hypothesis-profile ci`` in one process; the requests the emulator logged,
  per second of the run's wall time and of its active window (first to last
  request: without start-up, collection and reports).
- **start-up** (target <= 2 s): from launching ``pytest conformance`` to the
  first request of a test (the reachability probes, unsigned ``GET
  /app-instances`` answered before routing, do not count), in one process
  and under ``-n 2``; and ``--collect-only``'s wall time, CPU time and peak memory.
- **-n 2 ÷ -n 1** (target <= 0.6): wall times of the same ``ci`` run with
  one and two xdist workers, against the separately started emulator and
  against the embedded one (each worker then starts its own); and their CPU
  seconds, what the second worker repeats (near 1: it repeats little).
- **CPU per request** (load-independent): CPU seconds of the suite process(es)
  and of the emulator per request answered, against the plain loop's.
- **emulator** figures: ``bench/emulator_throughput.py --json``, run as is.
- ``.ci/run`` (target <= 5 min): only with ``--ci-run`` (it runs all of ``tests/``).

Children run with Python's bytecode cache allowed (PYTHONDONTWRITEBYTECODE
unset), after one warm-up collection: a user's second run, not a first one.

    python bench/suite_throughput.py [--seconds 5] [--profile ci] [--json]
                                     [--skip-emulator-bench] [--ci-run] [-- PYTEST ARGS]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import botocore.credentials
import requests

from chime_conformance.emulator.app import admin_headers
from chime_conformance.wire import sigv4

ROOT = Path(__file__).resolve().parent.parent
# chime-emulator logs "%(asctime)s %(message)s", the message being
# "METHOD PATH STATUS OPERATION ELAPSED": one line per request
REQUEST_LINE = re.compile(
    r"^(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (?P<method>[A-Z]+) (?P<path>\S+) "
    r"(?P<status>\d{3}) (?P<operation>\S+) "
)
SUITE_TARGET = 0.5
WORKERS_TARGET = 0.6
STARTUP_TARGET = 2.0
CI_RUN_TARGET = 300.0


@dataclass
class Figure:
    name: str
    value: float | None
    target: str
    met: bool | None
    detail: str


# -- the separately started emulator ----------------------------------------------------


@dataclass
class LoggedRequest:
    at: datetime
    path: str
    operation: str


@dataclass
class Emulator:
    url: str
    log: Path
    pid: int

    def reset(self) -> None:
        requests.post(
            f"{self.url}/_emulator/reset", headers=admin_headers(), timeout=10
        ).raise_for_status()

    def api_requests(self) -> list[LoggedRequest]:
        """Every API request (not /_emulator/) logged so far, in order."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            match = REQUEST_LINE.match(line)
            if match and not match["path"].startswith("/_emulator/"):
                at = datetime.strptime(match["at"], "%Y-%m-%d %H:%M:%S,%f")
                found.append(LoggedRequest(at, match["path"], match["operation"]))
        return found

    def cpu_seconds(self) -> float:
        """User and system CPU time the emulator process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
            yield Emulator(match[1], log, process.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)


# -- the plain loop ---------------------------------------------------------------------


@dataclass
class PlainLoop:
    rate: float  # requests/s
    cpu_per_request: float  # this process's and the emulator's CPU seconds per request


def _signed(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """Signed as the suite's client signs (requests' auth hook)."""
    body = request.body.encode() if isinstance(request.body, str) else request.body
    headers = {k: v for k, v in request.headers.items() if k.lower() == "content-type"}
    signed = sigv4.sign(
        str(request.method),
        str(request.url),
        headers,
        body,
        signing=sigv4.Signing.SIGNED,
        credentials=botocore.credentials.Credentials(*sigv4.DEFAULT_CREDENTIALS),
        region="us-east-1",
        now=datetime.now(UTC),
    )
    request.headers.update(signed.headers)
    return request


def plain_loop(target: Emulator, seconds: float) -> PlainLoop:
    """Signed requests per second of a bare loop, one thread, one session."""
    session = requests.Session()
    session.auth = _signed
    url = target.url
    created = session.post(
        f"{url}/app-instances",
        json={"Name": "bench", "ClientRequestToken": uuid.uuid4().hex},
        timeout=10,
    )
    created.raise_for_status()
    instance = created.json()["AppInstanceArn"]
    calls = 0
    cpu_before = time.process_time() + target.cpu_seconds()
    started = time.perf_counter()
    deadline = started + seconds
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
    elapsed = time.perf_counter() - started
    cpu = time.process_time() + target.cpu_seconds() - cpu_before
    return PlainLoop(calls / elapsed, cpu / calls)


# -- pytest runs ------------------------------------------------------------------------


@dataclass
class SuiteRun:
    label: str
    wall: float
    cpu: float  # CPU seconds of pytest and its workers
    peak_kb: int  # the largest peak resident set of a child so far (ru_maxrss)
    summary: str
    requests: list[LoggedRequest] = field(default_factory=list)
    started_at: datetime | None = None
    emulator_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.requests) / self.wall

    @property
    def active(self) -> float:
        if len(self.requests) < 2:
            return 0.0
        return (self.requests[-1].at - self.requests[0].at).total_seconds()

    @property
    def active_rate(self) -> float:
        return len(self.requests) / self.active if self.active else 0.0

    @property
    def first_test_request(self) -> float | None:
        """Seconds from launch to the first request a test sent (not a probe)."""
        for request in self.requests:
            if request.operation != "-" and self.started_at is not None:
                return (request.at - self.started_at).total_seconds()
        return None

    @property
    def cpu_per_request(self) -> float:
        return (self.cpu + self.emulator_cpu) / len(self.requests) if self.requests else 0.0


def child_environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's second run: cached bytecode
    return environment


def run_pytest(
    label: str,
    arguments: Sequence[str],
    workdir: Path,
    target: Emulator | None = None,
) -> SuiteRun:
    if target is not None:
        target.reset()
        before = len(target.api_requests())
        emulator_cpu = target.cpu_seconds()
    command = [
        sys.executable,
        "-m",
        "pytest",
        "conformance",
        *(["--target-url", target.url] if target is not None else []),
        "--report-dir",
        str(workdir / label),
        "-p",
        "no:cacheprovider",
        "-q",
        *arguments,
    ]
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started_at = datetime.now()
    started = time.perf_counter()
    ran = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, env=child_environment(), check=False
    )
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime)
    lines = ran.stdout.strip().splitlines() or ["(no output)"]
    summary = next((line for line in reversed(lines) if " in " in line), lines[-1]).strip("= ")
    coverage = re.search(r"constraints probed from both sides: (\d+/\d+)", ran.stdout)
    if coverage:
        summary += f"; constraints probed {coverage[1]}"
    if ran.returncode not in (0, 5) or "error" in summary:
        failures = [
            line for line in ran.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))
        ]
        print(f"warning: pytest {label} exited {ran.returncode}: {summary}", file=sys.stderr)
        print("\n".join(f"    {line[:300]}" for line in failures[:10]), file=sys.stderr)
    run = SuiteRun(label, wall, cpu, usage.ru_maxrss, summary, started_at=started_at)
    if target is not None:
        run.requests = target.api_requests()[before:]
        run.emulator_cpu = target.cpu_seconds() - emulator_cpu
    return run


def collected(summary: str) -> int | None:
    match = re.search(r"(\d+) (?:tests? collected|passed)", summary)
    return int(match[1]) if match else None


# -- the other benches ------------------------------------------------------------------


def emulator_figures() -> list[Figure]:
    """bench/emulator_throughput.py's own figures, or one saying why there are none."""
    script = ROOT / "bench" / "emulator_throughput.py"
    ran = subprocess.run(
        [sys.executable, str(script), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=child_environment(),
    )
    try:
        figures = json.loads(ran.stdout)["figures"]
        return [Figure(**{**f, "name": f"emulator: {f['name']}"}) for f in figures]
    except (ValueError, KeyError, TypeError):
        why = (ran.stderr.strip().splitlines() or ["no JSON output"])[-1]
        return [Figure("emulator figures", None, "", None, f"{script.name} --json: {why}")]


def ci_test_arguments() -> list[str]:
    """The arguments .ci/run gives pytest (its last ``.venv/bin/pytest`` line)."""
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    command = next(line for line in reversed(lines) if line.startswith(".venv/bin/pytest "))
    return command.split()[1:]


def ci_run_figure() -> Figure:
    """pytest as .ci/run runs it (without its installs), timed."""
    started = time.perf_counter()
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", *ci_test_arguments(), "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=child_environment(),
    )
    wall = time.perf_counter() - started
    summary = (ran.stdout.strip().splitlines() or ["(no output)"])[-1].strip("= ")
    return Figure(
        "pytest tests (.ci/run) wall s",
        wall,
        f"<= {CI_RUN_TARGET:.0f}",
        wall <= CI_RUN_TARGET,
        summary,
    )


# -- main -------------------------------------------------------------------------------


def at_most(value: float | None, bound: float) -> bool | None:
    return None if value is None else value <= bound


def at_least(value: float | None, bound: float) -> bool | None:
    return None if value is None else value >= bound


def measure(arguments: argparse.Namespace, say: Any) -> tuple[list[Figure], dict[str, Any]]:
    profile = ["--hypothesis-profile", arguments.profile, *arguments.pytest_args]
    figures: list[Figure] = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="suite-throughput-") as scratch:
        workdir = Path(scratch)
        with emulator(workdir) as target:
            plain_loop(target, 0.5)  # warm-up
            plain = plain_loop(target, arguments.seconds)
            say(f"plain loop: {plain.rate:.1f} requests/s")
            run_pytest("warm-up", ["--collect-only", *profile], workdir)
            collect = run_pytest("collect", ["--collect-only", *profile], workdir)
            say(f"collect-only: {collect.wall:.1f} s wall: {collect.summary}")
            one_process = run_pytest("n0", profile, workdir, target)
            say(f"one process: {one_process.wall:.1f} s wall: {one_process.summary}")
            runs = {}
            for label, extra, where in [
                ("n1-separate", ["-n", "1"], target),
                ("n2-separate", ["-n", "2"], target),
                ("n1-embedded", ["-n", "1"], None),
                ("n2-embedded", ["-n", "2"], None),
            ]:
                runs[label] = run_pytest(label, [*profile, *extra], workdir, where)
                say(f"{label}: {runs[label].wall:.1f} s wall: {runs[label].summary}")

    figures.append(
        Figure(
            "plain signed loop requests/s",
            plain.rate,
            "(the reference)",
            None,
            "one thread, one requests.Session, SigV4 as the suite signs",
        )
    )
    wall_ratio = one_process.rate / plain.rate
    active_ratio = one_process.active_rate / plain.rate
    figures += [
        Figure(
            "suite / plain loop, over wall",
            wall_ratio,
            f">= {SUITE_TARGET}",
            at_least(wall_ratio, SUITE_TARGET),
            f"{one_process.rate:.1f} requests/s: {len(one_process.requests)} requests in "
            f"{one_process.wall:.1f} s wall ({one_process.summary})",
        ),
        Figure(
            "suite / plain loop, over active window",
            active_ratio,
            f">= {SUITE_TARGET}",
            at_least(active_ratio, SUITE_TARGET),
            f"{one_process.active_rate:.1f} requests/s over the {one_process.active:.1f} s "
            "between the first and the last request",
        ),
    ]
    cpu_ratio = plain.cpu_per_request / one_process.cpu_per_request
    figures.append(
        Figure(
            "suite / plain loop, requests per CPU second",
            cpu_ratio,
            "(load-independent view of the above)",
            None,
            f"suite {one_process.cpu_per_request * 1000:.2f} ms, plain loop "
            f"{plain.cpu_per_request * 1000:.2f} ms of CPU (client and emulator) per request",
        )
    )
    for label, run in (("one process", one_process), ("-n 2", runs["n2-separate"])):
        first = run.first_test_request
        figures.append(
            Figure(
                f"start-up to first test request ({label}) s",
                first,
                f"<= {STARTUP_TARGET:g}",
                at_most(first, STARTUP_TARGET),
                "from launching pytest to the first request a test sent",
            )
        )
    figures.append(
        Figure(
            "pytest conformance --collect-only wall s",
            collect.wall,
            "(information)",
            None,
            f"{collect.cpu:.2f} s CPU, peak {collect.peak_kb / 1024:.0f} MB: {collect.summary}",
        )
    )
    for where in ("separate", "embedded"):
        one, two = runs[f"n1-{where}"], runs[f"n2-{where}"]
        ratio = two.wall / one.wall
        figures.append(
            Figure(
                f"-n 2 / -n 1 wall, {where} emulator",
                ratio,
                f"<= {WORKERS_TARGET}",
                at_most(ratio, WORKERS_TARGET),
                f"{two.wall:.1f} s / {one.wall:.1f} s; -n 2: {two.summary}",
            )
        )
        cpu = (two.cpu + two.emulator_cpu) / (one.cpu + one.emulator_cpu)
        figures.append(
            Figure(
                f"-n 2 / -n 1 CPU seconds, {where} emulator",
                cpu,
                "(what a second worker repeats; ~1: -n 2 can halve the wall on 2 idle cores)",
                None,
                f"{two.cpu + two.emulator_cpu:.1f} s / {one.cpu + one.emulator_cpu:.1f} s "
                "of CPU (pytest, workers, emulator)",
            )
        )
    counts = {label: collected(run.summary) for label, run in [("collect", collect), *runs.items()]}
    context = {
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "cpu_count": os.cpu_count(),
        "tests": counts,
    }
    return figures, context


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the plain loop")
    parser.add_argument("--profile", default="ci", help="Hypothesis profile of the suite runs")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--skip-emulator-bench", action="store_true", help="leave out emulator_throughput.py"
    )
    parser.add_argument("--ci-run", action="store_true", help="also time `pytest tests` (minutes)")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments (after --)")
    arguments = parser.parse_args(argv)

    def say(text: str) -> None:
        print(f"  ... {text}", file=sys.stderr, flush=True)

    figures, context = measure(arguments, say)
    if not arguments.skip_emulator_bench:
        say("bench/emulator_throughput.py --json")
        figures += emulator_figures()
    if arguments.ci_run:
        say("pytest tests")
        figures.append(ci_run_figure())
    else:
        figures.append(
            Figure(
                "pytest tests (.ci/run) wall s",
                None,
                f"<= {CI_RUN_TARGET:.0f}",
                None,
                "not measured: pass --ci-run (runs all of tests/)",
            )
        )
    if arguments.json:
        print(json.dumps({"figures": [asdict(f) for f in figures], **context}, indent=1))
        return
    load = ", ".join(f"{x:.1f}" for x in context["load_average_before"])
    print(
        f"load average {load} on {context['cpu_count']} CPUs: ratios, not seconds, are the figures"
    )
    for figure in figures:
        value = "   n/a" if figure.value is None else f"{figure.value:7.2f}"
        verdict = "" if figure.met is None else ("  met" if figure.met else "  NOT MET")
        print(f"{figure.name:46} {value}  target {figure.target}{verdict}")
        print(f"{'':46} {figure.detail}")


if __name__ == "__main__":
    main()
