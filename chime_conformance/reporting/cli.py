"""``chime-conformance-report``: compare two runs, or re-render a report.

``diff OLD.json NEW.json`` exits 1 when anything regressed, 0 otherwise, and 2
(with a one-line message) when either file is not a readable results.json.
``merge SHARD.json… --out DIR`` writes the report of the run the shards make
up; ``history RUN.json… --out DIR`` the page of the runs side by side. Both
exit 2 with a one-line message on input they refuse.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chime_conformance.reporting.diff import diff_results, format_diff
from chime_conformance.reporting.history import write_history
from chime_conformance.reporting.html_report import render_compliance_html
from chime_conformance.reporting.merge import MergeRefused, merge_results
from chime_conformance.reporting.results_document import UnreadableResults, load_results_document

PROGRAM = "chime-conformance-report"
EXIT_OK = 0
EXIT_REGRESSED = 1
EXIT_UNREADABLE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROGRAM, description="Compare conformance runs, or re-render a compliance report."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    diff = commands.add_parser("diff", help="what regressed and what got fixed between two runs")
    diff.add_argument("old", type=Path, metavar="OLD.json")
    diff.add_argument("new", type=Path, metavar="NEW.json")
    diff.add_argument("--format", choices=("text", "json"), default="text")
    render = commands.add_parser("render", help="write compliance.html from a results.json")
    render.add_argument("results", type=Path, metavar="RESULTS.json")
    render.add_argument("--output", type=Path, help="default: compliance.html next to RESULTS.json")
    merge = commands.add_parser(
        "merge",
        help="merge the results.json of the shards of one run (--shard K/N) into one report",
    )
    merge.add_argument("results", type=Path, nargs="+", metavar="RESULTS.json")
    merge.add_argument("--out", type=Path, required=True, metavar="DIR")
    history = commands.add_parser(
        "history", help="the runs side by side: score, failures, each cell's trend"
    )
    history.add_argument("results", type=Path, nargs="+", metavar="RESULTS.json")
    history.add_argument("--out", type=Path, required=True, metavar="DIR")
    add_baseline_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        arguments = build_parser().parse_args(argv)
    except SystemExit as exit_request:  # --help, or a usage error argparse already printed
        return exit_request.code if isinstance(exit_request.code, int) else EXIT_UNREADABLE
    try:
        if arguments.command == "diff":
            return _diff(arguments.old, arguments.new, arguments.format)
        if arguments.command == "merge":
            return _merge(arguments.results, arguments.out)
        if arguments.command == "history":
            return _history(arguments.results, arguments.out)
        if arguments.command == "baseline":
            return _baseline(arguments)
        return _render(arguments.results, arguments.output)
    except (UnreadableResults, MergeRefused) as error:
        print(f"{PROGRAM}: {_one_line(str(error))}", file=sys.stderr)
        return EXIT_UNREADABLE


def _diff(old_path: Path, new_path: Path, output_format: str) -> int:
    result = diff_results(_load(old_path), _load(new_path))
    if output_format == "json":
        print(json.dumps(result.to_json(), indent=1, ensure_ascii=False))
    else:
        print(format_diff(result))
    return EXIT_REGRESSED if result.has_regressions else EXIT_OK


def _render(results_path: Path, output: Path | None) -> int:
    html = render_compliance_html(_load(results_path))
    target = output or results_path.with_name("compliance.html")
    target.write_text(html, encoding="utf-8")
    print(target)
    return EXIT_OK


def _merge(paths: Sequence[Path], out_dir: Path) -> int:
    report, junit = merge_results(paths, out_dir)
    print(report.results_json)
    print(report.compliance_html)
    print(junit)
    return EXIT_OK


def _history(paths: Sequence[Path], out_dir: Path) -> int:
    print(write_history([_load(path) for path in paths], out_dir))
    return EXIT_OK


def _load(path: Path) -> dict[str, Any]:
    try:
        return load_results_document(path)
    except UnreadableResults as error:
        raise UnreadableResults(f"{path}: {error}") from error


def _one_line(text: str) -> str:
    return " ".join(text.split())


def add_baseline_command(commands: Any) -> None:
    baseline = commands.add_parser(
        "baseline",
        help="write a known-failures baseline (for --baseline) from a run's results.json",
    )
    baseline.add_argument("results", type=Path, metavar="RESULTS.json")
    baseline.add_argument(
        "--output", type=Path, default=Path("chime-baseline.yaml"), help="default: %(default)s"
    )
    baseline.add_argument(
        "--reason", default=None, help="the reason written into every entry (edit it later)"
    )
    baseline.add_argument(
        "--until", default=None, metavar="YYYY-MM-DD", help="expiry date of every entry"
    )


def _baseline(arguments: argparse.Namespace) -> int:
    import datetime

    from chime_conformance.run.baseline import baseline_from_results, dump_baseline

    document = _load(arguments.results)
    try:
        until = datetime.date.fromisoformat(arguments.until) if arguments.until else None
    except ValueError:
        print(
            f"{PROGRAM}: --until must be a date YYYY-MM-DD, got {arguments.until!r}",
            file=sys.stderr,
        )
        return EXIT_UNREADABLE
    run = document["run"]
    reason = arguments.reason or f"failed in run {run['run_id']} against {run['target_url']}"
    entries = baseline_from_results(document, reason=reason, until=until)
    arguments.output.write_text(
        dump_baseline(entries, source=str(arguments.results)), encoding="utf-8"
    )
    print(f"{arguments.output}: {len(entries)} known failures")
    return EXIT_OK
