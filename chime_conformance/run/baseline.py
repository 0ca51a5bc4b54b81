"""Known failures: the baseline a partial implementation runs its nightly CI with.

A baseline is a YAML file listing failures that are known and accepted for
now::

    known_failures:
      - operation: CreateAppInstanceBot
        check: status_code_matches_spec
        constraint: CreateAppInstanceBot:Name:maxLength   # optional
        reason: bots are not implemented yet (PROJ-123)
        until: 2026-12-31                                 # optional

A failing check that an entry lists is *known*: it is reported, but does not
fail the run. An entry whose failure no longer happens is *fixed* (delete it,
so the file only shrinks). An entry past its ``until`` date is *expired*: it
no longer excuses anything, and it fails the run until it is renewed or
removed. ``chime-conformance-report baseline results.json`` writes one from a run.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

KEY = "known_failures"
FIELDS = ("operation", "check", "constraint", "reason", "until")


class BaselineError(ValueError):
    """A baseline file that cannot be used, said in one sentence."""


@dataclass(frozen=True)
class Entry:
    operation: str
    check: str
    reason: str
    constraint: str | None = None
    until: datetime.date | None = None

    def matches(self, operation: str, check: str, constraint: str | None) -> bool:
        return (
            self.operation == operation
            and self.check == check
            and (self.constraint is None or self.constraint == constraint)
        )

    def expired(self, today: datetime.date) -> bool:
        return self.until is not None and self.until < today

    def label(self) -> str:
        where = f" [{self.constraint}]" if self.constraint else ""
        return f"{self.operation} × {self.check}{where}"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"operation": self.operation, "check": self.check}
        if self.constraint:
            data["constraint"] = self.constraint
        data["reason"] = self.reason
        if self.until:
            data["until"] = self.until.isoformat()
        return data


@dataclass(frozen=True)
class Baseline:
    path: str
    entries: tuple[Entry, ...]

    def active(self, today: datetime.date) -> list[Entry]:
        return [e for e in self.entries if not e.expired(today)]

    def expired(self, today: datetime.date) -> list[Entry]:
        return [e for e in self.entries if e.expired(today)]

    def excuse(
        self, operation: str, check: str, constraint: str | None, today: datetime.date
    ) -> Entry | None:
        """The active entry that lists this failure, if any."""
        for entry in self.active(today):
            if entry.matches(operation, check, constraint):
                return entry
        return None

    def fixed(self, records: Iterable[Any], today: datetime.date) -> list[Entry]:
        """Active entries whose check ran and passed, and never failed."""
        passed: list[Entry] = []
        failed: set[Entry] = set()
        records = list(records)
        for entry in self.active(today):
            for record in records:
                if entry.matches(record.operation, record.check, record.constraint):
                    if record.outcome == "fail":
                        failed.add(entry)
                    elif record.outcome == "pass":
                        passed.append(entry)
        return [e for e in dict.fromkeys(passed) if e not in failed]


def load_baseline(path: Path) -> Baseline:
    """Read and check a baseline file; :class:`BaselineError` says what is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise BaselineError(
            f"--baseline {path}: cannot read it ({error.strerror or error})"
        ) from None
    except yaml.YAMLError as error:
        raise BaselineError(f"--baseline {path}: not YAML ({_one_line(str(error))})") from None
    items = data.get(KEY) if isinstance(data, Mapping) else data
    if items is None:
        items = []
    if not isinstance(items, list):
        raise BaselineError(f"--baseline {path}: expected a list under {KEY!r}")
    return Baseline(str(path), tuple(_entry(path, i, item) for i, item in enumerate(items, 1)))


def _entry(path: Path, number: int, item: Any) -> Entry:
    where = f"--baseline {path}: entry {number}"
    if not isinstance(item, Mapping):
        raise BaselineError(f"{where} is not a mapping")
    unknown = sorted(set(item) - set(FIELDS))
    if unknown:
        raise BaselineError(f"{where} has unknown keys {unknown}; allowed: {list(FIELDS)}")
    for required in ("operation", "check", "reason"):
        if not isinstance(item.get(required), str) or not item[required].strip():
            raise BaselineError(f"{where} needs a non-empty {required!r}")
    from chime_conformance.contract import spec

    if item["operation"] not in {op.name for op in spec.operations()} | {"(stateful)"}:
        raise BaselineError(f"{where} names no operation of the API: {item['operation']!r}")
    return Entry(
        operation=item["operation"],
        check=item["check"],
        reason=item["reason"].strip(),
        constraint=item.get("constraint") or None,
        until=_date(where, item.get("until")),
    )


def _date(where: str, value: Any) -> datetime.date | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise BaselineError(
            f"{where}: 'until' must be a date (YYYY-MM-DD), got {value!r}"
        ) from None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def baseline_from_results(
    document: Mapping[str, Any], *, reason: str, until: datetime.date | None = None
) -> list[Entry]:
    """One entry per (operation, check) that failed in a results.json document."""
    failing = dict.fromkeys(
        (r["operation"], r["check"]) for r in document["records"] if r["outcome"] == "fail"
    )
    return [Entry(op, check, reason, None, until) for op, check in failing]


def dump_baseline(entries: Sequence[Entry], *, source: str) -> str:
    header = (
        f"# chime-conformance baseline, written from {source}.\n"
        "# Each entry is a known failure: it is reported but does not fail the run.\n"
        "# Delete entries the run reports as fixed; an entry past 'until' fails the run.\n"
    )
    body = yaml.safe_dump(
        {KEY: [entry.to_json() for entry in entries]}, sort_keys=False, allow_unicode=True
    )
    return header + body
