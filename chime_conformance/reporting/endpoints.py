"""Runs read as endpoints: which endpoint a results document tested, and the
state of each (operation, check) cell *for that endpoint*.

An operation the endpoint does not implement fails every check that touches
it; drawn as a column of failures it hides what the endpoint does implement.
So :func:`cell_state` says ``not_implemented`` (or ``blocked``) for every cell
of such an operation, whatever its checks recorded, and ``compare``,
``history`` and the badge read cells only through it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chime_conformance.reporting.html_report import CELL_LOOKS, CellLook
from chime_conformance.reporting.matrix import NOT_RUN

NOT_IMPLEMENTED = "not_implemented"
BLOCKED = "blocked"
# every state a cell of an endpoint can be in, as it shows
ENDPOINT_CELL_LOOKS: Mapping[str, CellLook] = {
    **CELL_LOOKS,
    NOT_IMPLEMENTED: CellLook("notimpl", "∅", "not implemented"),
    BLOCKED: CellLook("blocked", "⊘", "blocked"),
}


def endpoint_name(document: Mapping[str, Any]) -> str:
    """The endpoint a results document tested: its ``target_name`` (format 2),
    else its target URL."""
    run = document["run"]
    return str(run.get("target_name") or run.get("target_url") or "(unnamed endpoint)")


def operation_verdicts(document: Mapping[str, Any]) -> dict[str, str]:
    """``{operation: verdict}`` where the document's run judged them."""
    return {op["name"]: op["verdict"] for op in document["operations"] if "verdict" in op}


def cell_state(document: Mapping[str, Any], operation: str, check: str) -> str:
    """The cell as the endpoint earned it: ``not_implemented`` or ``blocked``
    for every cell of such an operation, else the matrix's state."""
    verdict = operation_verdicts(document).get(operation)
    if verdict in (NOT_IMPLEMENTED, BLOCKED):
        return verdict
    return _matrix(document).get((operation, check), NOT_RUN)


def _matrix(document: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    return {(c["operation"], c["check"]): c["state"] for c in document["matrix"]}


def cell_states(document: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """Every cell of the document's matrix, as :func:`cell_state` says it."""
    verdicts = operation_verdicts(document)
    return {
        key: verdicts[key[0]] if verdicts.get(key[0]) in (NOT_IMPLEMENTED, BLOCKED) else state
        for key, state in _matrix(document).items()
    }


@dataclass(frozen=True)
class EndpointSummary:
    """What a results document says of its endpoint, in a few figures."""

    name: str
    run_id: str
    started: str
    score_percent: str
    headline: str
    implemented: int | None  # None: the results do not say
    operations: int
    partial: bool
    what_ran: str

    @property
    def implemented_text(self) -> str:
        return "n/a" if self.implemented is None else f"{self.implemented}/{self.operations}"


def summarize(document: Mapping[str, Any]) -> EndpointSummary:
    score = document["score"]
    value = score["value"]
    verdicts = operation_verdicts(document)
    implemented = sum(v == "implemented" for v in verdicts.values()) if verdicts else None
    scope = document["run"].get("scope") or {}
    percent = "n/a" if value is None else f"{100 * value:.1f}%"
    return EndpointSummary(
        name=endpoint_name(document),
        run_id=str(document["run"]["run_id"]),
        started=str(document["run"]["started"])[:19].replace("T", " "),
        score_percent=percent,
        headline=str(score.get("headline") or f"score {percent}"),
        implemented=implemented,
        operations=int(
            score.get("operations_total") or sum(bool(op["api"]) for op in document["operations"])
        ),
        partial=bool(score.get("partial", False)),
        what_ran=str(scope.get("summary") or "(not recorded)"),
    )


def by_endpoint(documents: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Documents grouped by endpoint, each group oldest run first; endpoints
    in the order they first appear."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for document in documents:
        groups.setdefault(endpoint_name(document), []).append(document)
    return {
        name: sorted(runs, key=lambda d: str(d["run"]["started"])) for name, runs in groups.items()
    }


def latest_per_endpoint(documents: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The newest run of each endpoint."""
    return [runs[-1] for runs in by_endpoint(documents).values()]
