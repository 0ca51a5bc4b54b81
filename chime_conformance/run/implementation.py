"""Whether each operation is implemented at all, and a score that cannot flatter.

A check that passes on an HTML 500 proves nothing about an operation, so the
run first asks, for each operation, whether the endpoint speaks the API at
all. Its *implementation status* is

- **implemented** when at least one of its requests got an answer in the
  API's shape (a JSON document, or an error named the AWS way);
- **not implemented** when its requests were answered, but never in the API's
  shape: an HTML or other non-JSON page, a 501, a 404 or 405 that names no
  AWS error, an "unknown operation" or "not yet implemented" message;
- **blocked** when its tests could not send it at all because a resource they
  need could not be created (the prerequisite is named);
- **not run** when no test of it ran (not selected, or deselected).

The score (:func:`honest_score`) counts only cells of implemented operations,
and counts every test that errored without recording a failing check as one
failing cell: an endpoint that implements nothing scores 0 %.

(A check's pass or fail on one exchange is its *verdict*,
:mod:`chime_conformance.run.recorder`; what the whole run concluded is its
*conclusion*, :mod:`chime_conformance.run.conclusion`.)

Nothing here knows about pytest: the plugin feeds it the answers the client
observed (:class:`AnswerLog`), the check records and each test's outcome
(:class:`TestOutcome`).
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from chime_conformance.contract import spec

IMPLEMENTED = "implemented"
NOT_IMPLEMENTED = "not_implemented"
BLOCKED = "blocked"
NOT_RUN = "not_run"
STATUSES = (IMPLEMENTED, NOT_IMPLEMENTED, BLOCKED, NOT_RUN)

# What servers say when they do not implement an operation (LocalStack:
# "… not yet implemented …"; moto: "… has not been implemented"; gateways:
# "Unknown operation", "UnknownOperationException").
UNIMPLEMENTED_MARKER = re.compile(
    r"not\s+(?:yet\s+)?(?:been\s+)?(?:implemented|emulated)|unknown\s*operation"
    r"|unsupported\s*operation|unrecognized\s*operation|no\s+such\s+(?:operation|action)",
    re.IGNORECASE,
)
ERROR_NAME_KEYS = ("__type", "Code", "code")
# statuses that mean "no such route" unless an AWS error name says otherwise
ROUTE_MISSES = (404, 405)

SCORE_DEFINITION = (
    "The score counts only operations that are implemented (answered at least once in the "
    "API's shape): passing cells / (passing cells + failing cells + errored tests), where a "
    "cell is one (operation, check) pair of an implemented operation, and an errored test is "
    "a test of an implemented operation (or of none in particular) that stopped with an error "
    "before any check failed. Cells of operations that are not implemented, blocked or not "
    "run never count as passing; when no operation is implemented the score is 0 %. Read it "
    "beside 'operations implemented: k/n'."
)

PREREQUISITE = re.compile(
    r"could not create the (?P<what>\w+) this test needs: (?P<status>\d{3}) ?(?P<body>.*)",
    re.DOTALL,
)


# --------------------------------------------------------------------------
# Is an answer in the API's shape?


def foreign_answer(
    status: int,
    body: Any,
    *,
    text: str | None = None,
    headers: Mapping[str, str] | None = None,
    success_status: int | None = None,
) -> str | None:
    """None if the answer is in the API's shape; otherwise, in a few words,
    what it was instead ("500 text/html", "501 InternalFailure: not yet
    implemented"). ``body`` is the parsed JSON (None if empty or not JSON);
    ``text`` and ``headers``, when known, sharpen the description."""
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    error_type = (lowered.get("x-amzn-errortype") or "").split(":")[0].strip() or None
    media = (lowered.get("content-type") or "").split(";")[0].strip().lower() or None
    what = f"{status} {error_type or _error_name(body) or media or _sniff(text, body)}".strip()
    marker = _marker(body, text)
    if marker:
        return f"{what}: {marker!r}"
    if status == 501:
        return what
    if 200 <= status < 300:
        empty_ok = body is None and not (text or "").strip() and success_status in (None, 204)
        return None if body is not None or empty_ok else what
    if not isinstance(body, Mapping):
        return what
    # with headers known, an error must name itself in x-amzn-ErrorType; without,
    # a 404/405 must at least name an AWS error in its body
    unnamed = headers is not None or (status in ROUTE_MISSES and _error_name(body) is None)
    if error_type is None and unnamed:
        return f"{status} without x-amzn-ErrorType"
    return None


def _error_name(body: Any) -> str | None:
    if isinstance(body, Mapping):
        for key in ERROR_NAME_KEYS:
            if isinstance(body.get(key), str):
                return str(body[key]).split("#")[-1]
    return None


def _sniff(text: str | None, body: Any) -> str:
    if body is not None:
        return "JSON"
    if text is None:  # only the parsed body is known: it is not JSON
        return "(not JSON)"
    stripped = (text or "").lstrip()[:100].lower()
    if stripped.startswith(("<!doctype html", "<html")) or "<body" in stripped:
        return "HTML page"
    if stripped.startswith("<"):
        return "XML"
    return "(not JSON)" if stripped else "(empty body)"


# Every alternative of UNIMPLEMENTED_MARKER contains one of these (none has an
# i, s or k, the letters that re.IGNORECASE also matches to other characters
# than their lower case): an answer whose lower-cased text has none cannot match.
# Searching a 10 KB page for the pattern itself took about 270 us, and the state
# machines list everything after every step.
_MARKER_PARTS = ("mplemented", "emulated", "perat", "act")


def _marker(body: Any, text: str | None) -> str | None:
    haystack = text if text is not None else (json.dumps(body) if body is not None else "")
    if not haystack:
        return None
    lowered = haystack.lower()
    if not any(part in lowered for part in _MARKER_PARTS):
        return None
    found = UNIMPLEMENTED_MARKER.search(haystack)
    return " ".join(found.group(0).lower().split()) if found else None


def foreign_response(response: Mapping[str, Any] | None) -> str | None:
    """:func:`foreign_answer` of a response as a check record keeps it."""
    if not response or "status" not in response:
        return None
    text = response.get("body")
    text = text if isinstance(text, str) else None
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    return foreign_answer(
        int(response["status"]), body, text=text, headers=response.get("headers") or {}
    )


# --------------------------------------------------------------------------
# What the client saw, per operation


@dataclass
class AnswerLog:
    """Per operation: answers in the API's shape, and the others by kind.
    Fed by every call the suite's client (and schemathesis) makes."""

    in_shape: Counter[str] = field(default_factory=Counter)
    foreign: dict[str, Counter[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def observe(self, operation: str, members: Any, status: int, body: Any) -> None:
        """The client observer's signature: ``(operation, members, status, json)``."""
        op = spec.operation(operation) if operation in _OPERATION_NAMES else None
        why = foreign_answer(status, body, success_status=op.success_status if op else None)
        with self._lock:
            if why is None:
                self.in_shape[operation] += 1
            else:
                self.foreign.setdefault(operation, Counter())[why] += 1

    def never_in_shape(self, operation: str) -> bool:
        """Whether ``operation`` has been answered, and never in the API's shape."""
        with self._lock:
            return operation in self.foreign and not self.in_shape.get(operation)

    def merge(self, other: AnswerLog) -> None:
        with self._lock:
            self.in_shape.update(other.in_shape)
            for operation, kinds in other.foreign.items():
                self.foreign.setdefault(operation, Counter()).update(kinds)

    def to_json(self) -> dict[str, Any]:
        return {
            "in_shape": dict(self.in_shape),
            "foreign": {k: dict(v) for k, v in self.foreign.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AnswerLog:
        return cls(
            Counter(data.get("in_shape", {})),
            {k: Counter(v) for k, v in data.get("foreign", {}).items()},
        )


_OPERATION_NAMES = frozenset(op.name for op in spec.operations())


def observing(*observers: Any) -> Any:
    """One client observer that tells each of ``observers`` in turn."""

    def observe(operation: str, members: Any, status: int, body: Any) -> None:
        for observer in observers:
            observer(operation, members, status, body)

    return observe


# --------------------------------------------------------------------------
# What became of each test


@dataclass(frozen=True)
class TestOutcome:
    """One test as pytest ended it, with what the suite knows about it."""

    __test__ = False  # not a pytest test class

    test_id: str
    operation: str | None  # the operation it is about, if one
    outcome: str  # passed, failed, error, skipped, known (a baselined failure)
    cause: str | None = None  # why it did not pass, when that is not a broken check
    prerequisite: str | None = None  # the resource it could not create
    recorded_failure: bool = False  # a failing check record stands for it

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def prerequisite_cause(message: str) -> tuple[str, str] | None:
    """``(resource, cause)`` of a PrerequisiteFailed message, else None."""
    found = PREREQUISITE.search(message)
    if found is None:
        return None
    body_text = found.group("body")
    try:
        body = json.loads(body_text)
    except ValueError:
        body = None
    status = int(found.group("status"))
    answer = foreign_answer(status, body, text=body_text) or (
        f"{status} {_error_name(body) or _sniff(body_text, body)}"
    )
    return found.group("what"), f"could not create the {found.group('what')} it needs: {answer}"


# --------------------------------------------------------------------------
# Implementation statuses


@dataclass(frozen=True)
class ImplementationStatus:
    """Whether one operation is implemented (one of :data:`STATUSES`), and why."""

    operation: str
    family: str
    status: str
    evidence: str  # one sentence
    in_shape_answers: int = 0
    foreign_answers: int = 0
    prerequisite: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = data.pop("status")  # results.json's name (format_version 1)
        return data


def implementation_statuses(
    answers: AnswerLog,
    outcomes: Sequence[TestOutcome],
    selected: Iterable[str] | None = None,
) -> list[ImplementationStatus]:
    """One status per operation of the spec, in document order."""
    chosen = set(selected) if selected is not None else None
    blocked_by: dict[str, Counter[str]] = {}
    tests_of: Counter[str] = Counter()
    for outcome in outcomes:
        if outcome.operation is None:
            continue
        tests_of[outcome.operation] += 1
        if outcome.prerequisite:
            blocked_by.setdefault(outcome.operation, Counter())[outcome.prerequisite] += 1
    return [
        _status(op, answers, blocked_by.get(op.name), tests_of[op.name], chosen)
        for op in spec.operations()
    ]


def _status(
    op: spec.Operation,
    answers: AnswerLog,
    blocked: Counter[str] | None,
    tests: int,
    chosen: set[str] | None,
) -> ImplementationStatus:
    good = answers.in_shape.get(op.name, 0)
    foreign = answers.foreign.get(op.name, Counter())
    bad = sum(foreign.values())
    make = lambda status, evidence, prerequisite=None: ImplementationStatus(  # noqa: E731
        op.name, op.family, status, evidence, good, bad, prerequisite
    )
    if chosen is not None and op.name not in chosen:
        return make(NOT_RUN, "not selected (--operations)")
    if good:
        return make(IMPLEMENTED, f"{good} of {good + bad} answers in the API's shape")
    if bad:
        kind, count = foreign.most_common(1)[0]
        return make(NOT_IMPLEMENTED, f"no answer in the API's shape: {count} of {bad} were {kind}")
    if blocked:
        what, count = blocked.most_common(1)[0]
        return make(BLOCKED, f"{count} tests could not create the {what} they need", what)
    if tests:
        return make(NOT_RUN, "its tests ran but never sent it")
    return make(NOT_RUN, "no test of it ran")


# --------------------------------------------------------------------------
# The score


@dataclass(frozen=True)
class HonestScore:
    passing_cells: int
    failing_cells: int
    errored_tests: int
    excluded_cells: int  # cells of operations that are not implemented, blocked or not run
    implemented: int
    selected: int  # operations the run was about
    total: int  # operations of the API

    @property
    def value(self) -> float | None:
        """In [0, 1]; 0 when nothing is implemented; None when nothing ran."""
        if not self.implemented:
            return 0.0 if self.selected and self._anything_ran else None
        denominator = self.passing_cells + self.failing_cells + self.errored_tests
        return self.passing_cells / denominator if denominator else None

    @property
    def _anything_ran(self) -> bool:
        return bool(
            self.passing_cells + self.failing_cells + self.errored_tests + self.excluded_cells
        )

    @property
    def headline(self) -> str:
        value = self.value
        score = "n/a" if value is None else f"{100 * value:.1f}%"
        return f"score {score}, operations implemented: {self.implemented}/{self.selected}"


def honest_score(
    cells: Iterable[Any],
    statuses: Sequence[ImplementationStatus],
    outcomes: Sequence[TestOutcome],
) -> HonestScore:
    """``cells`` are the matrix's cells (``operation``, ``state``)."""
    status_of = {s.operation: s.status for s in statuses}
    counts = Counter()  # type: Counter[str]
    for cell in cells:
        if cell.state not in ("pass", "fail"):
            continue
        counted = status_of.get(cell.operation, IMPLEMENTED) == IMPLEMENTED
        counts["excluded" if not counted else cell.state] += 1
    errored = sum(
        1
        for o in outcomes
        if o.outcome in ("failed", "error")
        and not o.recorded_failure
        and status_of.get(o.operation or "", IMPLEMENTED) == IMPLEMENTED
    )
    implemented = sum(s.status == IMPLEMENTED for s in statuses)
    selected = sum(not s.evidence.startswith("not selected") for s in statuses)
    return HonestScore(
        counts["pass"] if implemented else 0,
        counts["fail"] if implemented else 0,
        errored if implemented else 0,
        counts["excluded"],
        implemented,
        selected,
        len(statuses),
    )


# --------------------------------------------------------------------------
# Repeated causes


@dataclass(frozen=True)
class Cause:
    cause: str
    tests: int
    examples: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"cause": self.cause, "tests": self.tests, "examples": list(self.examples)}


def repeated_causes(outcomes: Iterable[TestOutcome], *, examples: int = 3) -> list[Cause]:
    """Causes of tests that did not pass, most frequent first."""
    tests: dict[str, list[str]] = {}
    for outcome in outcomes:
        if outcome.cause and outcome.outcome in ("failed", "error"):
            tests.setdefault(outcome.cause, []).append(outcome.test_id)
    ranked = sorted(tests.items(), key=lambda item: (-len(item[1]), item[0]))
    return [Cause(cause, len(ids), tuple(dict.fromkeys(ids))[:examples]) for cause, ids in ranked]
