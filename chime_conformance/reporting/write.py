"""The entry point the plugin calls at session end, on the controller."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chime_conformance.reporting.badge import render_badge
from chime_conformance.reporting.html_report import render_compliance_html
from chime_conformance.reporting.results_document import (
    build_results_document,
    validate_results_document,
    write_results_document,
)
from chime_conformance.reporting.run_info import RunInfo
from chime_conformance.run.coverage import ConstraintCoverage
from chime_conformance.run.events import RunEvents
from chime_conformance.run.results import CheckRecord

if TYPE_CHECKING:
    from chime_conformance.run.conclusion import RunConclusion

COMPLIANCE_HTML = "compliance.html"
RESULTS_JSON = "results.json"
BADGE_SVG = "badge.svg"


@dataclass(frozen=True)
class ReportPaths:
    """Where :func:`write_reports` wrote the run's reports."""

    compliance_html: Path
    results_json: Path


def write_reports(
    report_dir: Path,
    run: RunInfo,
    records: Sequence[CheckRecord],
    coverage: ConstraintCoverage,
    *,
    events: RunEvents | None = None,
    conclusion: RunConclusion | None = None,
    promises: dict[str, Any] | None = None,
) -> ReportPaths:
    """Write ``results.json``, ``compliance.html`` and ``badge.svg`` of one run
    into ``report_dir`` (created if needed), replacing earlier ones."""
    document = build_results_document(
        run, records, coverage, events=events, conclusion=conclusion, promises=promises
    )
    validate_results_document(document)  # a schema drift is our bug: fail loudly
    report_dir.mkdir(parents=True, exist_ok=True)
    paths = ReportPaths(report_dir / COMPLIANCE_HTML, report_dir / RESULTS_JSON)
    write_results_document(document, paths.results_json)
    paths.compliance_html.write_text(render_compliance_html(document), encoding="utf-8")
    (report_dir / BADGE_SVG).write_text(render_badge(document), encoding="utf-8")
    return paths
