"""``chime-conformance-report history``: the last runs side by side.

One self-contained page (same Content-Security-Policy as compliance.html):
score, implemented operations, failures and constraint coverage of each run,
oldest first, and every (operation, check) cell that failed in any of them
with its state in each run and its trend — when the break appeared and when
it was fixed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chime_conformance.reporting.html_report import CELL_LOOKS, _environment
from chime_conformance.reporting.matrix import NOT_RUN
from chime_conformance.run.results import FAIL, PASS

HISTORY_HTML = "history.html"


@dataclass(frozen=True)
class RunColumn:
    """One run, as a column of the history."""

    label: str  # "run 2"
    run_id: str
    started: str
    profile: str
    score_percent: str
    passing_cells: int
    failing_cells: int
    implemented: str  # "33 of 35", or "n/a" when results do not say
    failed_tests: int
    coverage: str  # "412/530"


@dataclass(frozen=True)
class CellHistory:
    """One (operation, check) cell across the runs, oldest first."""

    operation: str
    check: str
    states: tuple[str, ...]
    trend: str  # in words: "broke in run 2, fixed in run 3"
    trend_class: str  # regressed, fixed, failing, flapping


def ordered(documents: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Runs oldest first (by start time; ties keep the given order)."""
    return sorted(documents, key=lambda document: str(document["run"]["started"]))


def run_columns(documents: Sequence[Mapping[str, Any]]) -> list[RunColumn]:
    columns = []
    for number, document in enumerate(documents, start=1):
        score = document["score"]
        value = score["value"]
        coverage = document["constraint_coverage"]
        outcomes = document["run"].get("pytest_outcomes") or {}
        columns.append(
            RunColumn(
                label=f"run {number}",
                run_id=str(document["run"]["run_id"]),
                started=str(document["run"]["started"])[:19].replace("T", " "),
                profile=str(document["run"].get("hypothesis_profile", "")),
                score_percent="n/a" if value is None else f"{100 * value:.1f}%",
                passing_cells=int(score["passing_cells"]),
                failing_cells=int(score["failing_cells"]),
                implemented=implemented_operations(document),
                failed_tests=int(outcomes.get("failed", 0)) + int(outcomes.get("error", 0)),
                coverage=f"{coverage['covered']}/{coverage['total']}",
            )
        )
    return columns


def implemented_operations(document: Mapping[str, Any]) -> str:
    """ "N of M" operations the target implements, when the results say so."""
    operations = document.get("operations") or []
    verdicts = [op.get("verdict") for op in operations if "verdict" in op]
    if verdicts:
        return f"{sum(v == 'implemented' for v in verdicts)} of {len(verdicts)}"
    listed = document.get("implemented_operations")
    if isinstance(listed, list):
        return f"{len(listed)} of {len(operations)}"
    return "n/a"


def cell_histories(documents: Sequence[Mapping[str, Any]]) -> list[CellHistory]:
    """Every cell that failed in at least one run, in the newest run's row order."""
    states: list[dict[tuple[str, str], str]] = [
        {(c["operation"], c["check"]): c["state"] for c in d["matrix"]} for d in documents
    ]
    order: dict[tuple[str, str], None] = {}
    for document in reversed(documents):
        for cell in document["matrix"]:
            order.setdefault((cell["operation"], cell["check"]), None)
    rows = []
    for key in order:
        row = tuple(run.get(key, NOT_RUN) for run in states)
        if FAIL in row:
            rows.append(CellHistory(key[0], key[1], row, *trend(row)))
    return rows


def trend(states: Sequence[str]) -> tuple[str, str]:
    """``(words, css class)`` for one cell's states, oldest first."""
    events = []
    previous = None
    for number, state in enumerate(states, start=1):
        if state == FAIL and previous != FAIL:
            events.append(
                f"failing since run {number}" if number == 1 else f"broke in run {number}"
            )
        elif state == PASS and previous == FAIL:
            events.append(f"fixed in run {number}")
        if state in (PASS, FAIL):
            previous = state
    words = ", ".join(events)
    breaks = sum(e.startswith(("broke", "failing")) for e in events)
    if breaks > 1:
        return words, "flapping"
    if previous == PASS:
        return words, "fixed"
    if events and events[0].startswith("broke"):
        return words, "regressed"
    return words, "failing"


def render_history_html(documents: Sequence[Mapping[str, Any]]) -> str:
    runs = ordered(documents)
    template = _environment().get_template("history.html.j2")
    return template.render(
        columns=run_columns(runs),
        cells=cell_histories(runs),
        cell_looks=CELL_LOOKS,
    )


def write_history(documents: Sequence[Mapping[str, Any]], out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / HISTORY_HTML
    target.write_text(render_history_html(documents), encoding="utf-8")
    return target
