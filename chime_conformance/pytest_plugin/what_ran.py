"""What a pytest session of the suite ran, for its reports.

- :func:`run_scope` reads the session into a
  :class:`~chime_conformance.reporting.run_scope.RunScope`: complete, a
  selection, interrupted after k of N, stopped because the target went away;
- a session that ran no test (``--co``, a selection of nothing) writes no
  report at all, not even the junit.xml the suite points at its report
  directory, and prints no verdict (:func:`nothing_ran`, :func:`drop_own_junit`);
- :func:`target_name`: the label of the endpoint in every report.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import pytest

from chime_conformance.reporting.run_scope import (
    COMPLETE,
    INTERRUPTED,
    STOPPED_EARLY,
    TARGET_GONE,
    RunScope,
    Selection,
)

if TYPE_CHECKING:
    from chime_conformance.pytest_plugin.guard import RunGuard
    from chime_conformance.run.config import SuiteConfig

OWN_JUNIT = pytest.StashKey[bool]()
EMBEDDED = "embedded emulator"


class SuiteRun(Protocol):
    """What this module reads of the session's run (``session.SuiteRun`` has it;
    a Protocol, because that module imports this one)."""

    @property
    def config(self) -> SuiteConfig: ...

    @property
    def guard(self) -> RunGuard: ...

    @property
    def counts(self) -> Mapping[str, int]: ...


def point_junit_at_report_dir(config: pytest.Config, report_dir: Path) -> None:
    """pytest's own JUnit writer, pointed at the report directory, unless the
    user chose a file or the session only collects (``--co`` writes nothing)."""
    if config.option.xmlpath or config.option.collectonly:
        return
    config.option.xmlpath = str(report_dir / "junit.xml")
    config.stash[OWN_JUNIT] = True


def nothing_ran(session: pytest.Session) -> bool:
    """Whether the session ran no test: only collected (``--co``), or its
    selection was empty. Such a session has nothing to report."""
    return bool(session.config.option.collectonly) or not session.testscollected


def drop_own_junit(config: pytest.Config) -> None:
    """Leave the report directory as it was: the junit.xml the suite asked
    for is not written (a stale compliance.html beside a fresh, empty
    junit.xml would mix two runs). Called before pytest's writer ends."""
    if not config.stash.get(OWN_JUNIT, False):
        return
    from _pytest.junitxml import xml_key

    writer = config.stash.get(xml_key, None)
    if writer is not None:
        writer.logfile = os.devnull  # this session-finish call already holds the writer
        config.pluginmanager.unregister(writer)  # and no "generated xml file" line
        del config.stash[xml_key]


def mark_junit(config: pytest.Config, run: SuiteRun) -> None:
    """junit.xml says what ran too, as its testsuite's properties
    ``chime-conformance-scope`` (complete, or interrupted after k of N tests,
    …) and ``chime-conformance-partial``. Called before pytest's writer ends."""
    from _pytest.junitxml import xml_key

    xml = config.stash.get(xml_key, None)
    if xml is not None:
        scope = run_scope(config, run)
        xml.add_global_property("chime-conformance-scope", scope.summary)
        xml.add_global_property("chime-conformance-partial", str(scope.partial).lower())


def run_scope(config: pytest.Config, run: SuiteRun) -> RunScope:
    """What the session ran (on the controller, at its end)."""
    session = run.guard.session
    ran = sum(run.counts.values())
    collected = int(getattr(session, "testscollected", 0) or 0)
    selected = max(collected, ran, run.guard.not_started)
    return RunScope(
        state=_state(session, run.guard, ran, selected),
        tests_run=ran,
        tests_selected=selected,
        selection=selection(config, run).items(),
        reason=run.guard.fatal,
    )


def headline_lines(config: pytest.Config, run: SuiteRun, headline: str) -> list[str]:
    """The verdict's first lines: the score, labelled partial unless the run
    was complete, and what ran."""
    scope = run_scope(config, run)
    return [scope.label(headline)] if scope.partial else [headline, scope.summary]


def _state(session: Any, guard: Any, ran: int, selected: int) -> str:
    if guard.fatal:
        return TARGET_GONE
    if ran >= selected:  # every test ran: a Ctrl-C during the clean-up took nothing away
        return COMPLETE
    status = getattr(session, "exitstatus", None)
    if guard.interrupts or status == pytest.ExitCode.INTERRUPTED:
        return INTERRUPTED
    return STOPPED_EARLY


def selection(config: pytest.Config, run: SuiteRun) -> Selection:
    """The options that narrowed the run, as given."""
    suite = run.config
    return Selection(
        keyword=config.option.keyword or None,
        markers=config.option.markexpr or None,
        operations=",".join(sorted(suite.operations)) if suite.operations is not None else None,
        shard=str(suite.shard) if suite.shard is not None else None,
        paths=_narrower_paths(config),
    )


def _narrower_paths(config: pytest.Config) -> list[str]:
    """Test files or ids given instead of the whole suite, relative to it."""
    from chime_conformance.pytest_plugin.options import SUITE_DIR

    found = []
    for arg in config.args:
        base = arg.split("::")[0]
        path = Path(base).resolve()
        if path == SUITE_DIR and "::" not in arg:
            continue
        try:
            relative = path.relative_to(SUITE_DIR).as_posix()
        except ValueError:
            continue
        found.append(relative + arg[len(base) :])
    return found


def target_name(given: object, target_url: str | None) -> str:
    """The label of the endpoint in reports: ``--target-name``, else the
    target's host:port, else "embedded emulator"."""
    if isinstance(given, str) and given.strip():
        return given.strip()
    if not target_url:
        return EMBEDDED
    return urlsplit(target_url).netloc or target_url
