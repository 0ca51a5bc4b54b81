"""What the suite adds to pytest's terminal summary, on the controller: a run
stopped early, retries and throttled tests, what was left behind, the
constraint coverage, and last, where the eye lands, the run's conclusion."""

from __future__ import annotations

from collections import Counter
from typing import Any

from chime_conformance.pytest_plugin.session import SuiteRun
from chime_conformance.run.conclusion import RunConclusion
from chime_conformance.run.implementation import BLOCKED, NOT_IMPLEMENTED, NOT_RUN

MAX_CAUSES = 8


def hide_summarised(stats: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Leave tests whose cause is shown in the suite's summary out of pytest's
    ERRORS, FAILURES and short summary (not out of its counts); returns what
    to put back afterwards."""
    hidden = {key: stats[key] for key in ("failed", "error") if stats.get(key)}
    for key, reports in hidden.items():
        stats[key] = [r for r in reports if not getattr(r, "chime_summarised", False)]
    return hidden


def write_summary(terminalreporter: Any, run: SuiteRun) -> None:
    _write_events(terminalreporter, run)
    _write_coverage(terminalreporter, run)
    if run.conclusion is not None:
        write_conclusion(terminalreporter, run, run.conclusion)


def _write_events(terminalreporter: Any, run: SuiteRun) -> None:
    write = terminalreporter.write_line
    if run.guard.fatal is not None:
        write(f"chime-conformance: the run stopped early: {run.guard.fatal}", red=True)
    summary = run.events.to_json()
    retries = summary["retries"]
    if retries["count"] or summary["throttled"]:
        reasons = ", ".join(f"{n}× {why}" for why, n in retries["by_reason"].items())
        write(
            f"chime-conformance: {retries['count']} retries ({reasons or 'none'}; "
            f"{retries['waited_seconds']:g} s waited); {len(summary['throttled'])} "
            "test(s) throttled: no verdict, not a contract failure"
        )
    for line in retries["reconciled"]:
        write(f"chime-conformance: {line}")
    adaptive = retries["adaptive"]
    if adaptive["rate_per_second"] is not None:
        write(
            "chime-conformance: the target throttled, so requests were paced (as "
            f"botocore's adaptive mode does): {adaptive['rate_per_second']:g} requests/s "
            f"at the end, {adaptive['paced_seconds']:g} s held back over "
            f"{adaptive['paced_requests']} requests"
        )
    if run.events.leftovers:  # every process's, less what the last sweep deleted
        terminalreporter.write_sep(
            "!", "chime-conformance: resources of this run left behind", red=True
        )
        for leftover in run.events.leftovers:
            write(str(leftover))


def _write_coverage(terminalreporter: Any, run: SuiteRun) -> None:
    if run.coverage is None:
        return
    from chime_conformance.contract.constraints import all_constraints

    probeable = [c.id for c in all_constraints() if c.probeable]
    covered, total = run.coverage.summary(probeable)
    percent = 100.0 * covered / total if total else 100.0
    terminalreporter.write_sep("-", "chime-conformance constraint coverage")
    terminalreporter.write_line(
        f"constraints probed from both sides: {covered}/{total} ({percent:.1f}%)"
    )


def write_conclusion(terminalreporter: Any, run: SuiteRun, conclusion: RunConclusion) -> None:
    write = terminalreporter.write_line
    terminalreporter.write_sep("=", "chime-conformance verdict")
    by_status: dict[str, list[Any]] = {}
    for status in conclusion.statuses:
        by_status.setdefault(status.status, []).append(status)
    not_run = len([s for s in by_status.get(NOT_RUN, []) if "not selected" not in s.evidence])
    suffix = f" ({not_run} not run)" if not_run else ""
    headline = conclusion.score.headline.replace("score", "compliance score", 1) + suffix
    from chime_conformance.pytest_plugin.what_ran import headline_lines

    for line in headline_lines(terminalreporter.config, run, headline):
        write(line)
    for kind, title in ((NOT_IMPLEMENTED, "not implemented"), (BLOCKED, "blocked")):
        listed = by_status.get(kind, [])
        if listed:
            names = ", ".join(s.operation for s in listed)
            write(f"{title} ({len(listed)}): {names}")
            for evidence, count in Counter(s.evidence for s in listed).most_common(3):
                write(f"  {count} × {evidence}")
    if conclusion.causes:
        write("why tests did not pass (each cause once; details in compliance.html):")
        for cause in conclusion.causes[:MAX_CAUSES]:
            write(f"  {cause.tests} tests: {cause.cause}  (e.g. {cause.examples[0]})")
        if len(conclusion.causes) > MAX_CAUSES:
            write(f"  … and {len(conclusion.causes) - MAX_CAUSES} more causes (compliance.html)")
    _write_baseline(write, conclusion)
    if conclusion.report is not None:
        write(f"compliance report: {conclusion.report}")


def _write_baseline(write: Any, conclusion: RunConclusion) -> None:
    if conclusion.baseline is None:
        return
    write(
        f"baseline {conclusion.baseline}: {len(conclusion.known)} known failures, "
        f"{len(conclusion.fixed)} fixed, {len(conclusion.expired)} expired"
    )
    for entry in conclusion.fixed:
        write(f"  fixed (delete the entry): {entry.label()}")
    for entry in conclusion.expired:
        write(f"  EXPIRED on {entry.until} (fails the run): {entry.label()}: {entry.reason}")
