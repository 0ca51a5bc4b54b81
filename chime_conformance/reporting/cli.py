"""``chime-conformance-report``: read runs' results.json files.

``diff`` (what regressed between two runs), ``merge`` (the shards of one run
as one report), ``history`` (each endpoint's runs side by side), ``compare``
(endpoints side by side), ``render`` (compliance.html again) and
``baseline`` (known failures for ``--baseline``). Every command that writes
takes ``--out``; every error reads ``chime-conformance-report: error: <one
sentence>``; output into a closed pipe ends quietly. Exit status: 0 done,
1 ``diff`` found a regression, 2 an input or option was refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chime_conformance.reporting.compare import write_compare
from chime_conformance.reporting.diff import diff_results, format_diff
from chime_conformance.reporting.history import write_history
from chime_conformance.reporting.html_report import render_compliance_html
from chime_conformance.reporting.merge import MergeRefused, merge_results
from chime_conformance.reporting.results_document import UnreadableResults, load_results_document

PROGRAM = "chime-conformance-report"
EXIT_OK = 0
EXIT_REGRESSED = 1
EXIT_UNREADABLE = 2
EXIT_TEXT = "exit status: 0 done; 2 an input or option was refused (one line on stderr)"


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors said as the command's own: one line."""

    def error(self, message: str) -> Any:
        print(f"{PROGRAM}: error: {self.prog.removeprefix(PROGRAM).strip()}"
              f"{': ' if self.prog != PROGRAM else ''}{message} (see --help)", file=sys.stderr)  # fmt: skip
        raise SystemExit(EXIT_UNREADABLE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROGRAM,
        description="Read the results.json of conformance runs: compare, merge, render.",
        epilog=f"{EXIT_TEXT}; diff: 1 when anything regressed",
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _command(
        commands,
        "diff",
        "what regressed and what got fixed between two runs",
        "Compare two runs' results.json: an (operation, check) cell that passed and now "
        "fails, or a constraint that lost its coverage, is a regression.",
        "exit status: 0 nothing regressed; 1 something regressed; 2 a file was refused",
    )
    commands.choices["diff"].add_argument("old", type=Path, metavar="OLD.json")
    commands.choices["diff"].add_argument("new", type=Path, metavar="NEW.json")
    commands.choices["diff"].add_argument("--format", choices=("text", "json"), default="text")
    render = _command(
        commands,
        "render",
        "write compliance.html from a results.json",
        "Render compliance.html (and badge.svg) again from a results.json.",
    )
    render.add_argument("results", type=Path, metavar="RESULTS.json")
    _out(render, "DIR", "default: the directory of RESULTS.json")
    # the old spelling, a file: still accepted, no longer shown
    render.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    merge = _command(
        commands,
        "merge",
        "merge the results.json of the shards of one run (--shard K/N) into one report",
        "Merge the shards of one run into the report of the whole run: results.json, "
        "compliance.html, badge.svg and junit.xml (each shard's, next to its results.json).",
    )
    merge.add_argument("results", type=Path, nargs="+", metavar="RESULTS.json")
    _out(merge, "DIR", required=True)
    history = _command(
        commands,
        "history",
        "each endpoint's runs side by side: score trend, failures, each cell's trend",
        "Write history.html: the runs grouped by the endpoint they tested, oldest first.",
    )
    history.add_argument("results", type=Path, nargs="+", metavar="RESULTS.json")
    _out(history, "DIR", required=True)
    compare = _command(
        commands,
        "compare",
        "endpoints side by side: one column per endpoint, one row per (operation, check)",
        "Write compare.html (the latest run of each endpoint among RESULTS, one column "
        "each) and a badge-<endpoint>.svg per endpoint.",
    )
    compare.add_argument("results", type=Path, nargs="+", metavar="RESULTS.json")
    _out(compare, "DIR", required=True)
    add_baseline_command(commands)
    return parser


def _command(
    commands: Any, name: str, summary: str, description: str, epilog: str = EXIT_TEXT
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=summary, description=description, epilog=epilog
    )
    return parser


def _out(
    parser: argparse.ArgumentParser, metavar: str, help_text: str = "", *, required: bool = False
) -> None:
    parser.add_argument(
        "--out", type=Path, metavar=metavar, required=required, help=help_text or None
    )


def _version() -> str:
    from chime_conformance.console import package_version

    return f"{PROGRAM} {package_version()}"


def main(argv: Sequence[str] | None = None) -> int:
    from chime_conformance.console import quiet_on_closed_pipe

    return quiet_on_closed_pipe(lambda: _main(argv))


def _main(argv: Sequence[str] | None) -> int:
    try:
        arguments = build_parser().parse_args(argv)
    except SystemExit as exit_request:  # --help, or a usage error already printed
        return exit_request.code if isinstance(exit_request.code, int) else EXIT_UNREADABLE
    try:
        if arguments.command == "diff":
            return _diff(arguments.old, arguments.new, arguments.format)
        if arguments.command == "merge":
            return _merge(arguments.results, arguments.out)
        if arguments.command == "history":
            return _history(arguments.results, arguments.out)
        if arguments.command == "compare":
            return _compare(arguments.results, arguments.out)
        if arguments.command == "baseline":
            return _baseline(arguments)
        return _render(arguments.results, arguments.out, arguments.output)
    except (UnreadableResults, MergeRefused) as error:
        return _refused(str(error))
    except BrokenPipeError:
        raise  # the reader went away: quiet_on_closed_pipe
    except OSError as error:
        return _refused(f"{error.filename or ''}: cannot write it ({error.strerror or error})")


def _refused(sentence: str) -> int:
    print(f"{PROGRAM}: error: {_one_line(sentence)}", file=sys.stderr)
    return EXIT_UNREADABLE


def _diff(old_path: Path, new_path: Path, output_format: str) -> int:
    result = diff_results(_load(old_path), _load(new_path))
    if output_format == "json":
        print(json.dumps(result.to_json(), indent=1, ensure_ascii=False))
    else:
        print(format_diff(result))
    return EXIT_REGRESSED if result.has_regressions else EXIT_OK


def _render(results_path: Path, out_dir: Path | None, output: Path | None) -> int:
    from chime_conformance.reporting.badge import render_badge
    from chime_conformance.reporting.write import BADGE_SVG, COMPLIANCE_HTML

    document = _load(results_path)
    target = output or (out_dir or results_path.parent) / COMPLIANCE_HTML
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_compliance_html(document), encoding="utf-8")
    target.with_name(BADGE_SVG).write_text(render_badge(document), encoding="utf-8")
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


def _compare(paths: Sequence[Path], out_dir: Path) -> int:
    for written in write_compare([_load(path) for path in paths], out_dir):
        print(written)
    return EXIT_OK


def _load(path: Path) -> dict[str, Any]:
    try:
        return load_results_document(path)
    except UnreadableResults as error:
        raise UnreadableResults(f"{path}: {error}") from error


def _one_line(text: str) -> str:
    return " ".join(text.split())


def add_baseline_command(commands: Any) -> None:
    baseline = _command(
        commands,
        "baseline",
        "write a known-failures baseline (for --baseline) from a run's results.json",
        "Write a baseline listing every (operation, check) that failed in RESULTS.json, "
        "for `chime-conformance run --baseline FILE`.",
    )
    baseline.add_argument("results", type=Path, metavar="RESULTS.json")
    baseline.add_argument(
        "--out",
        type=Path,
        default=Path("chime-baseline.yaml"),
        metavar="FILE",
        help="default: %(default)s",
    )
    baseline.add_argument(
        "--output", type=Path, dest="out", default=argparse.SUPPRESS, help=argparse.SUPPRESS
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
        return _refused(f"--until must be a date YYYY-MM-DD, got {arguments.until!r}")
    run = document["run"]
    reason = arguments.reason or f"failed in run {run['run_id']} against {run['target_url']}"
    entries = baseline_from_results(document, reason=reason, until=until)
    arguments.out.write_text(
        dump_baseline(entries, source=str(arguments.results)), encoding="utf-8"
    )
    print(f"{arguments.out}: {len(entries)} known failures")
    return EXIT_OK
