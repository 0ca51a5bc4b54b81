"""The suite against the emulator behind a misbehaving proxy, one row of
issue 21's table at a time: prints what the run did (exit code, tests by
outcome, failures that are not the target's fault, resources left on the
emulator behind the proxy, leftovers the run reported, reports written, the
proxy's request count and the run's wall time; for the token bucket, the
ratio of the wall time to request count / R).

    python bench/misbehaving_runs.py ROW [ROW ...] [--json] [--rate=R] [-- PYTEST ARGS]

ROW is a name of ``tests.support.misbehaving_targets.ROWS`` or ``all``;
pytest arguments after ``--`` narrow the run (default: the whole
``conformance`` suite, ``ci`` profile). A figure to read, never an assertion.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chime_conformance.emulator.server import running_emulator  # noqa: E402
from tests.support.misbehaving_targets import ROWS, left_on, proxy  # noqa: E402

REPORTS = ("compliance.html", "results.json", "junit.xml")
# options a row needs to finish in minutes (a hang costs one read timeout)
ROW_OPTIONS = {"hang-1-in-200": ("--read-timeout", "1")}


def junit_counts(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    root = ET.parse(path).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        return {}
    counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    messages = []
    for case in suite.iter("testcase"):
        for child in case:
            if child.tag in ("failure", "error"):
                messages.append((child.get("message") or "")[:160])
    counts["messages"] = messages
    return counts


def run_row(name: str, pytest_args: list[str], rate: float | None = None) -> dict[str, Any]:
    plan = ROWS[name]()
    if rate is not None and plan.rate:
        plan.rate = plan.tokens = rate
    with (
        tempfile.TemporaryDirectory() as scratch,
        running_emulator() as emulator,
        proxy(emulator.url, plan) as url,
    ):
        reports = Path(scratch)
        command = [
            sys.executable, "-m", "pytest", *(pytest_args or ["conformance"]),
            "--target-url", url, "--hypothesis-profile", "ci", "--report-dir", str(reports),
            "-p", "no:cacheprovider", "-q", *ROW_OPTIONS.get(name, ()),
        ]  # fmt: skip
        started = time.monotonic()
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        plan.signal_pid = process.pid
        output, _ = process.communicate(timeout=3600)
        elapsed = time.monotonic() - started
        plan.died.clear()  # the emulator behind it still answers
        left = left_on(emulator.url)
        results_path = reports / "results.json"
        results = json.loads(results_path.read_text()) if results_path.is_file() else {}
        junit = junit_counts(reports / "junit.xml")
        figures: dict[str, Any] = {
            "row": name,
            "exit": process.returncode,
            "seconds": round(elapsed, 1),
            "proxy": plan.counts(),
            "junit": {k: v for k, v in junit.items() if k != "messages"},
            "failure_messages": sorted(set(junit.get("messages", [])))[:8],
            "left_on_target": len(left),
            "left_sample": left[:5],
            "leftovers_reported": len(results.get("leftovers", [])),
            "reports_written": [r for r in REPORTS if (reports / r).is_file()],
            "last_lines": output.strip().splitlines()[-4:],
            "replay_tracebacks": output.count("Inconsistent results from replaying"),
        }
        if plan.rate and plan.first_at is not None and plan.last_at is not None:
            bound = plan.count / plan.rate
            window = plan.last_at - plan.first_at  # first to last request: no start-up
            figures["token_bucket"] = {
                "rate": plan.rate,
                "requests": plan.count,
                "refused": plan.refused_by_bucket,
                "request_window_seconds": round(window, 1),
                "window_over_requests_per_rate": round(window / bound, 2),
                "target": 1.3,
            }
        return figures


def main(argv: list[str]) -> int:
    pytest_args: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, pytest_args = argv[:at], argv[at + 1 :]
    as_json = "--json" in argv
    rates = [float(a.removeprefix("--rate=")) for a in argv if a.startswith("--rate=")]
    names = [a for a in argv if not a.startswith("--")]
    if names == ["all"]:
        names = list(ROWS)
    unknown = [n for n in names if n not in ROWS]
    if not names or unknown:
        print(f"rows: {', '.join(ROWS)} (unknown: {', '.join(unknown) or 'none'})")
        return 2
    for name in names:
        figures = run_row(name, pytest_args, rates[-1] if rates else None)
        if as_json:
            print(json.dumps(figures), flush=True)
            continue
        junit = figures["junit"]
        print(
            f"{name}: exit {figures['exit']}, {figures['seconds']} s, "
            f"tests {junit.get('tests', '-')} (failed {junit.get('failures', '-')}, "
            f"errors {junit.get('errors', '-')}, skipped {junit.get('skipped', '-')}), "
            f"left on target {figures['left_on_target']}, leftovers reported "
            f"{figures['leftovers_reported']}, reports {len(figures['reports_written'])}/3, "
            f"proxy {figures['proxy']}, replay tracebacks {figures['replay_tracebacks']}",
            flush=True,
        )
        for message in figures["failure_messages"]:
            print(f"    {message}")
        for line in figures["last_lines"]:
            print(f"  | {line}")
        if "token_bucket" in figures:
            print(f"  token bucket: {figures['token_bucket']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
