"""What a run ran: all of the suite, a selection of it, or less than it meant to.

A score read off 208 of 1,009 tests is not the endpoint's score. Every report
says which of these its run was, and labels the score *partial* unless the
run was complete:

- **complete**: every test of the suite ran to an outcome;
- **a selection**: only part of the suite was asked for (``-k``, ``-m``,
  ``--operations``, ``--shard``, named test files or ids);
- **interrupted** after k of N tests (Ctrl-C, SIGTERM);
- **target gone**: the target stopped answering and the run stopped;
- **stopped early**: ``-x`` / ``--maxfail`` ended it after a failure.

Nothing here knows about pytest: :mod:`chime_conformance.pytest_plugin.what_ran` reads a
session into a :class:`RunScope`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

COMPLETE = "complete"
INTERRUPTED = "interrupted"
TARGET_GONE = "target_gone"
STOPPED_EARLY = "stopped_early"
STATES = (COMPLETE, INTERRUPTED, TARGET_GONE, STOPPED_EARLY)
# the worse of two states a merge keeps
_RANK = {COMPLETE: 0, STOPPED_EARLY: 1, INTERRUPTED: 2, TARGET_GONE: 3}
SHARD_PREFIX = "--shard "


@dataclass(frozen=True)
class RunScope:
    state: str
    tests_run: int  # tests that ended with an outcome
    tests_selected: int  # tests the run was to run (after any selection)
    selection: tuple[str, ...] = ()  # how the run was narrowed, one item per option
    reason: str | None = None  # why it stopped, in one sentence (target gone)

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"state must be one of {STATES}, got {self.state!r}")

    @property
    def partial(self) -> bool:
        return self.state != COMPLETE or bool(self.selection)

    @property
    def summary(self) -> str:
        """What ran, in one sentence."""
        of = f"{self.tests_run} of {self.tests_selected} tests"
        narrowed = f" of a selection ({'; '.join(self.selection)})" if self.selection else ""
        if self.state == INTERRUPTED:
            return f"interrupted after {of}{narrowed} (Ctrl-C or SIGTERM)"
        if self.state == TARGET_GONE:
            why = f": {self.reason}" if self.reason else ""
            return f"stopped because the target went away, after {of}{narrowed}{why}"
        if self.state == STOPPED_EARLY:
            return f"stopped early (-x or --maxfail) after {of}{narrowed}"
        if self.selection:
            return f"a selection ({'; '.join(self.selection)}): {of} selected ran"
        return f"complete: all {self.tests_selected} tests of the suite ran"

    def label(self, headline: str) -> str:
        """``headline`` (a score), marked partial when the run was not complete."""
        return f"PARTIAL RUN ({self.summary}): {headline}" if self.partial else headline

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "partial": self.partial,
            "tests_run": self.tests_run,
            "tests_selected": self.tests_selected,
            "selection": list(self.selection),
            "reason": self.reason,
            "summary": self.summary,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunScope:
        return cls(
            state=str(data["state"]),
            tests_run=int(data["tests_run"]),
            tests_selected=int(data["tests_selected"]),
            selection=tuple(data.get("selection") or ()),
            reason=data.get("reason"),
        )


def merged_scope(scopes: Sequence[RunScope], shard: Mapping[str, Any] | None = None) -> RunScope:
    """The scope of the run that shards make up: the worst state; the
    selections less each shard's ``--shard``, plus the shards still missing."""
    selection: dict[str, None] = {}
    for scope in scopes:
        selection.update(
            dict.fromkeys(s for s in scope.selection if not s.startswith(SHARD_PREFIX))
        )
    if shard is not None:
        missing = sorted(set(range(1, int(shard["total"]) + 1)) - set(shard["indices"]))
        if missing:
            held = ",".join(str(i) for i in sorted(shard["indices"]))
            selection[
                f"{SHARD_PREFIX}{held}/{shard['total']} (missing {', '.join(map(str, missing))})"
            ] = None
    worst = max(scopes, key=lambda s: _RANK[s.state]) if scopes else None
    return RunScope(
        state=worst.state if worst else COMPLETE,
        tests_run=sum(s.tests_run for s in scopes),
        tests_selected=sum(s.tests_selected for s in scopes),
        selection=tuple(selection),
        reason=next((s.reason for s in scopes if s.reason), None),
    )


def scope_of(document: Mapping[str, Any]) -> RunScope | None:
    """The scope a results document records (None: written before format 2)."""
    scope = document.get("run", {}).get("scope")
    return RunScope.from_json(scope) if scope else None


@dataclass(frozen=True)
class Selection:
    """How a run was narrowed, as the options said it (collected by the adapter)."""

    keyword: str | None = None
    markers: str | None = None
    operations: str | None = None
    shard: str | None = None
    paths: Iterable[str] = field(default_factory=tuple)

    def items(self) -> tuple[str, ...]:
        found = []
        if self.keyword:
            found.append(f"-k {self.keyword}")
        if self.markers:
            found.append(f"-m {self.markers}")
        if self.operations:
            found.append(f"--operations {self.operations}")
        if self.shard:
            found.append(f"{SHARD_PREFIX}{self.shard}")
        paths = list(self.paths)
        if paths:
            found.append(f"only {', '.join(paths)}")
        return tuple(found)
