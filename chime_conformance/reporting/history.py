"""``chime-conformance-report history``: the last runs of each endpoint.

One self-contained page (same Content-Security-Policy as compliance.html),
one section per endpoint (the ``target_name`` its results record), because
which endpoint a run tested is what a reader compares: its runs oldest
first (score, implemented operations, what ran, failures, constraint
coverage), the trend of its score, and every (operation, check) cell that
failed in any of its runs with its state per run and its trend — when the
break appeared and when it was fixed. A cell of an operation the endpoint
did not implement in a run shows as *not implemented*, never as a failure
(:func:`chime_conformance.reporting.endpoints.cell_state`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chime_conformance.reporting.endpoints import (
    ENDPOINT_CELL_LOOKS,
    by_endpoint,
    cell_state,
    cell_states,
    summarize,
)
from chime_conformance.reporting.html_report import _environment
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
    what_ran: str = ""
    partial: bool = False


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
                what_ran=summarize(document).what_ran,
                partial=summarize(document).partial,
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
    states = [cell_states(document) for document in documents]
    order: dict[tuple[str, str], None] = {}
    for document in reversed(documents):
        for cell in document["matrix"]:
            order.setdefault((cell["operation"], cell["check"]), None)
    rows = []
    for key in order:
        row = tuple(
            run.get(key) or cell_state(document, *key)
            for run, document in zip(states, documents, strict=True)
        )
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


@dataclass(frozen=True)
class EndpointHistory:
    """One endpoint's runs, oldest first."""

    name: str
    columns: list[RunColumn]
    cells: list[CellHistory]
    scores: list[float | None]

    @property
    def score_trend(self) -> str:
        """The scores in words, oldest first: "75.0% → 50.0% → 50.0%"."""
        return " → ".join(column.score_percent for column in self.columns)

    def sparkline(self, width: int = 160, height: int = 28) -> str:
        """The polyline's points of the score per run (0 % at the bottom)."""
        known = [(i, v) for i, v in enumerate(self.scores) if v is not None]
        if not known:
            return ""
        step = width / max(1, len(self.scores) - 1)
        return " ".join(f"{i * step:.1f},{(1 - v) * (height - 4) + 2:.1f}" for i, v in known)


def endpoint_histories(documents: Sequence[Mapping[str, Any]]) -> list[EndpointHistory]:
    histories = []
    for name, runs in by_endpoint(documents).items():
        histories.append(
            EndpointHistory(
                name=name,
                columns=run_columns(runs),
                cells=cell_histories(runs),
                scores=[run["score"]["value"] for run in runs],
            )
        )
    return histories


def render_history_html(documents: Sequence[Mapping[str, Any]]) -> str:
    template = _environment().get_template("history.html.j2")
    return template.render(
        endpoints=endpoint_histories(documents),
        runs=len(documents),
        cell_looks=ENDPOINT_CELL_LOOKS,
    )


def write_history(documents: Sequence[Mapping[str, Any]], out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / HISTORY_HTML
    target.write_text(render_history_html(documents), encoding="utf-8")
    return target
