"""``chime-conformance-report merge``: the shards of one run, as one run's report.

Nothing of the report is merged by hand: the shards' raw material (check
records, constraint probes, test outcomes, run settings) is put together and
handed to :func:`~chime_conformance.reporting.write_reports`, the function a
normal run ends with, so cells, coverage and score are computed exactly as for
an unsharded run over the same tests. Merging is associative: a merged
document can be merged again with the remaining shards.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from chime_conformance.reporting import matrix
from chime_conformance.reporting.constraint_table import BROKEN, HELD
from chime_conformance.reporting.promise_table import merged_promise_table
from chime_conformance.reporting.results_document import (
    UnreadableResults,
    document_records,
    load_results_document,
)
from chime_conformance.reporting.run_info import RunInfo
from chime_conformance.reporting.run_scope import RunScope, merged_scope
from chime_conformance.reporting.write import ReportPaths, write_reports
from chime_conformance.run.conclusion import merged_conclusion
from chime_conformance.run.coverage import INSIDE, OUTSIDE, ConstraintCoverage
from chime_conformance.run.results import CheckRecord

JUNIT_XML = "junit.xml"
# run settings every shard of one run must share (a difference means two runs)
SHARED_SETTINGS = ("run_id", "seed", "hypothesis_profile", "strict", "spec_versions")
# settings that may differ per machine (each shard's embedded emulator has its port)
PER_MACHINE = ("target_url", "reference_url")
SEPARATOR = "; "


class MergeRefused(ValueError):
    """Inputs that are not distinct shards of one run, said in one sentence."""


@dataclass(frozen=True)
class Shard:
    """One input: where it came from and its results document."""

    path: Path
    document: Mapping[str, Any]

    @property
    def run(self) -> Mapping[str, Any]:
        return self.document["run"]

    @property
    def indices(self) -> set[int]:
        shard = self.run.get("shard") or {}
        return set(shard.get("indices", ()))

    @property
    def total(self) -> int | None:
        shard = self.run.get("shard") or {}
        total = shard.get("total")
        return int(total) if total is not None else None

    @property
    def test_ids(self) -> set[str]:
        # not the records' test ids: schemathesis' items of all operations share one
        return set(self.run.get("tests") or ())


def load_shards(paths: Sequence[Path]) -> list[Shard]:
    shards = []
    for path in paths:
        try:
            shards.append(Shard(path, load_results_document(path)))
        except UnreadableResults as error:
            raise UnreadableResults(f"{path}: {error}") from error
    return shards


def refuse_unmergeable(shards: Sequence[Shard]) -> None:
    """Raise :class:`MergeRefused` unless ``shards`` are distinct parts of one run."""
    if len(shards) < 2:
        raise MergeRefused("merge needs at least two results.json files, the shards of one run")
    seen: dict[Path, Path] = {}
    for shard in shards:
        resolved = shard.path.resolve()
        if resolved in seen:
            raise MergeRefused(f"{shard.path} is given twice: give each shard once")
        seen[resolved] = shard.path
    first = shards[0]
    for other in shards[1:]:
        for setting in SHARED_SETTINGS:
            if first.run.get(setting) != other.run.get(setting):
                raise MergeRefused(
                    f"{first.path} and {other.path} differ in {setting} "
                    f"({first.run.get(setting)!r} vs {other.run.get(setting)!r}): "
                    "they are not shards of one run"
                )
    for index, one in enumerate(shards):
        for other in shards[index + 1 :]:
            _refuse_overlap(one, other)


def _refuse_overlap(one: Shard, other: Shard) -> None:
    totals: set[int] = {s.total for s in (one, other) if s.total is not None}
    if len(totals) > 1:
        raise MergeRefused(
            f"{one.path} and {other.path} split the run into different numbers of shards "
            f"({' and '.join(str(t) for t in sorted(totals))})"
        )
    both = one.indices & other.indices
    if both:
        which = ", ".join(str(i) for i in sorted(both))
        if one.document == other.document:
            raise MergeRefused(
                f"{one.path} and {other.path} are the same shard ({which}): give it once"
            )
        raise MergeRefused(f"{one.path} and {other.path} both hold shard {which} of the run")
    common = one.test_ids & other.test_ids
    if common:
        raise MergeRefused(
            f"{one.path} and {other.path} both ran {len(common)} test(s), e.g. "
            f"{min(common)}: a test must be in exactly one shard"
        )


def merged_run(shards: Sequence[Shard]) -> RunInfo:
    """The RunInfo of the run the shards make up."""
    runs = [shard.run for shard in shards]
    fields = {f.name for f in dataclasses.fields(RunInfo) if f.init}
    values: dict[str, Any] = {k: v for k, v in runs[0].items() if k in fields}
    values["started"] = min(datetime.fromisoformat(run["started"]) for run in runs)
    values["finished"] = max(datetime.fromisoformat(run["finished"]) for run in runs)
    for name in PER_MACHINE:
        values[name] = _joined(run.get(name) for run in runs)
    values["target_url"] = values["target_url"] or ""
    outcomes: Counter[str] = Counter()
    for run in runs:
        outcomes.update(run.get("pytest_outcomes") or {})
    values["pytest_outcomes"] = dict(sorted(outcomes.items()))
    tests: dict[str, str] = {}
    for run in runs:
        tests.update(run.get("tests") or {})
    values["tests"] = dict(sorted(tests.items()))
    totals = {shard.total for shard in shards if shard.total is not None}
    indices = sorted({i for shard in shards for i in shard.indices})
    values["shard"] = {"total": totals.pop(), "indices": indices} if totals else None
    values["target_name"] = _joined(run.get("target_name") for run in runs)
    scopes = [RunScope.from_json(run["scope"]) for run in runs if run.get("scope")]
    values["scope"] = merged_scope(scopes, values["shard"]) if len(scopes) == len(runs) else None
    return RunInfo(**values)


def _joined(values: Any) -> str | None:
    """Distinct values of a per-machine setting, sorted: associative."""
    parts = {part for value in values if value for part in str(value).split(SEPARATOR)}
    return SEPARATOR.join(sorted(parts)) or None


def merged_records(shards: Sequence[Shard]) -> list[CheckRecord]:
    return [record for shard in shards for record in document_records(shard.document)]


def merged_coverage(shards: Sequence[Shard]) -> ConstraintCoverage:
    """The probes of every shard, read back from their constraint rows."""
    coverage = ConstraintCoverage()
    for shard in shards:
        for row in shard.document["constraint_coverage"]["constraints"]:
            for side in (INSIDE, OUTSIDE):
                if row[side] in (HELD, BROKEN):
                    coverage.record(row["id"], side, row[side] == HELD)
    return coverage


def merge_results(paths: Sequence[Path], out_dir: Path) -> tuple[ReportPaths, Path]:
    """Merge the shards' results.json (and the junit.xml beside each) into
    ``out_dir``; return the reports' paths and the junit.xml's."""
    shards = load_shards(paths)
    refuse_unmergeable(shards)
    run = merged_run(shards)
    records = merged_records(shards)
    conclusion = merged_conclusion(
        [shard.document for shard in shards], records, matrix.cells(records)
    )
    promises = merged_promise_table(shard.document.get("promises") for shard in shards)
    report = write_reports(
        out_dir, run, records, merged_coverage(shards), conclusion=conclusion, promises=promises
    )
    junit = out_dir / JUNIT_XML
    write_merged_junit(shards, run, junit)
    return report, junit


def write_merged_junit(shards: Sequence[Shard], run: RunInfo, target: Path) -> None:
    """One junit.xml: the test cases of every shard's junit.xml (next to its
    results.json) in one suite, counts summed; a shard without one gets its
    cases from the test outcomes in its results.json."""
    cases: list[ElementTree.Element] = []
    for shard in shards:
        source = shard.path.with_name(JUNIT_XML)
        if not source.is_file():
            tests = shard.run.get("tests") or {}
            cases.extend(_case_from_outcome(test_id, tests[test_id]) for test_id in sorted(tests))
            continue
        try:
            root = ElementTree.parse(source).getroot()
        except ElementTree.ParseError as error:
            raise UnreadableResults(f"{source}: is not JUnit XML: {error}") from error
        cases.extend(root.iter("testcase"))
    suite = ElementTree.Element("testsuite", name="pytest")
    counts = Counter(_case_outcome(case) for case in cases)
    suite.set("errors", str(counts["error"]))
    suite.set("failures", str(counts["failure"]))
    suite.set("skipped", str(counts["skipped"]))
    suite.set("tests", str(len(cases)))
    suite.set("time", f"{sum(float(c.get('time', 0) or 0) for c in cases):.3f}")
    suite.set("timestamp", run.started.isoformat())
    for case in sorted(cases, key=lambda c: (c.get("classname", ""), c.get("name", ""))):
        suite.append(case)
    root = ElementTree.Element("testsuites", name="chime-conformance (merged shards)")
    root.append(suite)
    ElementTree.indent(root)
    target.parent.mkdir(parents=True, exist_ok=True)
    ElementTree.ElementTree(root).write(target, encoding="utf-8", xml_declaration=True)


def _case_outcome(case: ElementTree.Element) -> str:
    for kind in ("error", "failure", "skipped"):
        if case.find(kind) is not None:
            return kind
    return "passed"


_JUNIT_ELEMENT = {"failed": "failure", "error": "error", "skipped": "skipped", "xfailed": "skipped"}


def _case_from_outcome(test_id: str, outcome: str) -> ElementTree.Element:
    path, _, name = test_id.partition("::")
    classname = path.removesuffix(".py").replace("/", ".")
    case = ElementTree.Element("testcase", classname=classname, name=name, time="0")
    if outcome in _JUNIT_ELEMENT:
        ElementTree.SubElement(
            case, _JUNIT_ELEMENT[outcome], message=f"{outcome} (from results.json)"
        )
    return case
