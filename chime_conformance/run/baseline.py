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
SCHEMA_PATH = Path(__file__).with_name("baseline.schema.json")
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
    """Read and check a baseline file against ``baseline.schema.json`` (unknown
    keys, operations and checks refused); :class:`BaselineError` says what is
    wrong, in one sentence naming the file."""
    try:
        with path.open(encoding="utf-8") as stream:  # a YAML error then names the file
            data = yaml.safe_load(stream)
    except OSError as error:
        raise BaselineError(
            f"--baseline {path}: cannot read it ({error.strerror or error})"
        ) from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise BaselineError(f"--baseline {path}: not YAML ({_one_line(str(error))})") from None
    if data is None:
        data = {KEY: []}
    elif isinstance(data, list):  # older files: the entries alone
        data = {KEY: data}
    _refuse_off_schema(path, _dates_as_text(data))
    items = data.get(KEY) or []
    return Baseline(str(path), tuple(_entry(path, i, item) for i, item in enumerate(items, 1)))


def _refuse_off_schema(path: Path, data: Any) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(baseline_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is None:
        return
    where = "".join(
        f" entry {part + 1}" if isinstance(part, int) else f" {part}"
        for part in error.absolute_path
        if part != KEY
    ).strip()
    message = _one_line(error.message)
    field = error.absolute_path[-1] if error.absolute_path else "name"
    if error.validator == "enum":  # not the whole list of names
        message = f"{error.instance!r} is not a known {field} name"
    elif field == "until":
        message = f"'until' must be a date (YYYY-MM-DD), got {error.instance!r}"
    raise BaselineError(f"--baseline {path}: {where + ': ' if where else ''}{message}")


def baseline_schema() -> dict[str, Any]:
    """The schema of a baseline file, with the names of the API's operations
    and of the registry's checks as the only ones an entry may use."""
    import json

    from chime_conformance.checks import REGISTRY
    from chime_conformance.contract import spec

    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    entry = schema["$defs"]["entry"]["properties"]
    entry["operation"]["enum"] = [op.name for op in spec.operations()] + ["(stateful)"]
    entry["check"]["enum"] = sorted(REGISTRY)
    return schema


def _dates_as_text(data: Any) -> Any:
    """YAML reads ``until: 2026-12-31`` as a date: as the schema sees it, text."""
    if isinstance(data, Mapping):
        return {k: _dates_as_text(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_dates_as_text(v) for v in data]
    if isinstance(data, datetime.date):
        return data.isoformat()[:10]
    return data


def _entry(path: Path, number: int, item: Mapping[str, Any]) -> Entry:
    where = f"--baseline {path}: entry {number}"
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
