"""Reports of a conformance run: compliance.html, results.json and ``diff``.

Reporting only reads results (:mod:`chime_conformance.run.results`,
:mod:`chime_conformance.run.coverage`); the plugin calls :func:`write_reports` at
the end of a run.
"""

from chime_conformance.reporting.run_info import RunInfo, documented_spec_versions
from chime_conformance.reporting.write import ReportPaths, write_reports

__all__ = ["ReportPaths", "RunInfo", "documented_spec_versions", "write_reports"]
