"""``chime-conformance-report compare``: implementations side by side.

One self-contained page (the same Content-Security-Policy as compliance.html)
with one column per endpoint (the latest run of each, as its results name it:
``--target-name``) and one row per (operation, check) that any of them ran to
a verdict: pass, fail, not implemented, blocked, not run. Above the matrix,
each endpoint's score, implemented operations and what its run covered;
below it, the rows where the endpoints differ, with each failing endpoint's
cause. What Bowtie does for JSON Schema implementations, for this API.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chime_conformance.reporting.badge import badge_file_name, render_badge
from chime_conformance.reporting.endpoints import (
    ENDPOINT_CELL_LOOKS,
    EndpointSummary,
    cell_state,
    cell_states,
    latest_per_endpoint,
    summarize,
)
from chime_conformance.reporting.failure_groups import failure_cause
from chime_conformance.reporting.html_report import _environment
from chime_conformance.run.results import FAIL, PASS

COMPARE_HTML = "compare.html"
MAX_CAUSES_PER_CELL = 2


@dataclass(frozen=True)
class Column:
    summary: EndpointSummary
    badge_data_uri: str
    badge_file: str


@dataclass(frozen=True)
class Row:
    operation: str
    check: str
    states: tuple[str, ...]  # one per column
    causes: tuple[tuple[str, ...], ...]  # per column: why it failed, when it did

    @property
    def differs(self) -> bool:
        return len(set(self.states)) > 1


def compare_rows(documents: Sequence[Mapping[str, Any]]) -> list[Row]:
    """One row per (operation, check) that some endpoint ran to pass or fail,
    in the first document's matrix order."""
    states = [cell_states(document) for document in documents]
    ran = [
        {key for key, cell in _raw_states(document).items() if cell in (PASS, FAIL)}
        for document in documents
    ]
    order: dict[tuple[str, str], None] = {}
    for document, keys in zip(documents, ran, strict=True):
        for cell in document["matrix"]:
            key = (cell["operation"], cell["check"])
            if key in keys:
                order.setdefault(key, None)
    causes = [_causes(document) for document in documents]
    return [
        Row(
            key[0],
            key[1],
            tuple(_state(d, s, key) for d, s in zip(documents, states, strict=True)),
            tuple(tuple(c.get(key, ())) for c in causes),
        )
        for key in order
    ]


def _state(
    document: Mapping[str, Any], states: Mapping[tuple[str, str], str], key: tuple[str, str]
) -> str:
    """A cell the document's matrix lacks (its run recorded no check of it) is
    still not implemented or blocked when its operation is."""
    return states.get(key) or cell_state(document, *key)


def _raw_states(document: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    return {(c["operation"], c["check"]): c["state"] for c in document["matrix"]}


def _causes(document: Mapping[str, Any]) -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for record in document["records"]:
        if record["outcome"] != FAIL:
            continue
        listed = found.setdefault((record["operation"], record["check"]), [])
        cause = failure_cause(record)
        if cause not in listed and len(listed) < MAX_CAUSES_PER_CELL:
            listed.append(cause)
    return found


def columns(documents: Sequence[Mapping[str, Any]]) -> list[Column]:
    found = []
    for document in documents:
        svg = render_badge(document)
        uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
        summary = summarize(document)
        found.append(Column(summary, uri, badge_file_name(summary.name)))
    return found


def render_compare_html(documents: Sequence[Mapping[str, Any]]) -> str:
    """The page comparing the latest run of each endpoint among ``documents``."""
    latest = latest_per_endpoint(documents)
    rows = compare_rows(latest)
    template = _environment().get_template("compare.html.j2")
    return template.render(
        columns=columns(latest),
        rows=rows,
        differing=[row for row in rows if row.differs],
        cell_looks=ENDPOINT_CELL_LOOKS,
        runs_given=len(documents),
    )


def write_compare(documents: Sequence[Mapping[str, Any]], out_dir: Path) -> list[Path]:
    """``compare.html`` and each endpoint's badge into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / COMPARE_HTML
    page.write_text(render_compare_html(documents), encoding="utf-8")
    written = [page]
    for document in latest_per_endpoint(documents):
        badge = out_dir / badge_file_name(summarize(document).name)
        badge.write_text(render_badge(document), encoding="utf-8")
        written.append(badge)
    return written
