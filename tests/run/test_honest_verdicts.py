"""The implementation statuses alone: which answers are in the API's shape, which
operations are implemented, blocked or not, and a score that cannot flatter."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chime_conformance.contract import spec
from chime_conformance.emulator.unimplemented import NOT_FOUND_PAGE, refusal
from chime_conformance.reporting.matrix import Cell
from chime_conformance.run.baseline import BaselineError, load_baseline
from chime_conformance.run.implementation import (
    BLOCKED,
    IMPLEMENTED,
    NOT_IMPLEMENTED,
    NOT_RUN,
    UNIMPLEMENTED_MARKER,
    AnswerLog,
    TestOutcome,
    _marker,
    foreign_answer,
    foreign_response,
    honest_score,
    implementation_statuses,
    prerequisite_cause,
    repeated_causes,
)
from chime_conformance.run.results import CheckRecord

HTML_500 = "<!doctype html><html><body><h1>Internal Server Error</h1></body></html>"


def test_json_answers_and_aws_errors_are_in_the_api_shape() -> None:
    assert foreign_answer(201, {"AppInstanceArn": "arn"}) is None
    assert foreign_answer(204, None, success_status=204) is None
    assert foreign_answer(404, {"Code": "NotFound", "Message": "no"}) is None
    headers = {"x-amzn-ErrorType": "BadRequestException", "Content-Type": "application/json"}
    assert foreign_answer(400, {"Code": "BadRequest"}, text="{}", headers=headers) is None


@pytest.mark.parametrize(
    ("status", "body", "text", "headers", "expected"),
    [
        (500, None, HTML_500, {"Content-Type": "text/html"}, "500 text/html"),
        (500, None, None, None, "500 (not JSON)"),
        (500, None, HTML_500, None, "500 HTML page"),
        (404, None, NOT_FOUND_PAGE.decode(), {"Content-Type": "text/html"}, "404 text/html"),
        (404, {"message": "nope"}, None, None, "404 without x-amzn-ErrorType"),
        (
            400,
            {"Code": "X"},
            "{}",
            {"Content-Type": "application/json"},
            "400 without x-amzn-ErrorType",
        ),
        (501, {"__type": "InternalFailure"}, None, None, "501 InternalFailure"),
        (
            400,
            {"__type": "InternalFailure", "message": "API action 'X' not yet implemented"},
            None,
            None,
            "400 InternalFailure: 'not yet implemented'",
        ),
        (200, None, "<html></html>", {"Content-Type": "text/html"}, "200 text/html"),
    ],
)
def test_other_answers_are_named_in_a_few_words(
    status: int, body: object, text: str | None, headers: dict[str, str] | None, expected: str
) -> None:
    assert foreign_answer(status, body, text=text, headers=headers) == expected


def test_the_emulators_unimplemented_answers_are_foreign() -> None:
    for style in ("501", "404"):
        found = refusal("CreateAppInstance", ("CreateAppInstance",), style)
        assert found is not None
        status, body, headers = found
        response = {"status": status, "headers": dict(headers), "body": body.decode()}
        assert foreign_response(response) is not None
    assert refusal("ListAppInstances", ("CreateAppInstance",), "501") is None


def _log(*answers: tuple[str, int, object]) -> AnswerLog:
    log = AnswerLog()
    for operation, status, body in answers:
        log.observe(operation, {}, status, body)
    return log


def _statuses(log: AnswerLog, outcomes: list[TestOutcome], selected: set[str] | None = None):
    return {s.operation: s for s in implementation_statuses(log, outcomes, selected)}


def test_an_operation_is_implemented_once_it_answers_in_shape() -> None:
    log = _log(("ListAppInstances", 500, None), ("ListAppInstances", 200, {"AppInstances": []}))
    status = _statuses(log, [])["ListAppInstances"]
    assert status.status == IMPLEMENTED
    assert status.in_shape_answers == 1 and status.foreign_answers == 1


def test_an_operation_never_answered_in_shape_is_not_implemented_and_says_how() -> None:
    log = _log(*[("CreateAppInstance", 500, None)] * 3)
    status = _statuses(log, [])["CreateAppInstance"]
    assert status.status == NOT_IMPLEMENTED
    assert "3 of 3 were 500 (not JSON)" in status.evidence


def test_an_operation_whose_tests_could_not_create_their_resources_is_blocked() -> None:
    what, cause = prerequisite_cause(
        "could not create the AppInstanceBot this test needs: 404 " + HTML_500
    ) or ("", "")
    assert what == "AppInstanceBot"
    assert cause == "could not create the AppInstanceBot it needs: 404 HTML page"
    outcome = TestOutcome("t1", "DescribeAppInstanceBot", "error", cause, what)
    statuses = _statuses(AnswerLog(), [outcome])
    assert statuses["DescribeAppInstanceBot"].status == BLOCKED
    assert statuses["DescribeAppInstanceBot"].prerequisite == "AppInstanceBot"
    assert statuses["ListAppInstances"].status == NOT_RUN


def test_unselected_operations_are_not_run_whatever_was_seen() -> None:
    log = _log(("CreateAppInstance", 201, {"AppInstanceArn": "a"}))
    statuses = _statuses(log, [], {"ListAppInstances"})
    assert statuses["CreateAppInstance"].status == NOT_RUN
    assert statuses["ListAppInstances"].status == NOT_RUN


def _cell(operation: str, check: str, state: str) -> Cell:
    return Cell(operation, check, state, int(state == "pass"), int(state == "fail"), 0)


def test_nothing_implemented_scores_zero_even_when_checks_passed() -> None:
    log = _log(*[(op.name, 500, None) for op in spec.operations()])
    statuses = implementation_statuses(log, [])
    cells = [_cell(op.name, "status_code_matches_spec", "pass") for op in spec.operations()]
    score = honest_score(cells, statuses, [])
    assert score.value == 0.0
    assert score.implemented == 0 and score.selected == 35
    assert score.excluded_cells == 35
    assert score.headline == "score 0.0%, operations implemented: 0/35"


def test_only_implemented_operations_count_and_errored_tests_count_as_failing() -> None:
    log = _log(("ListAppInstances", 200, {}), ("CreateAppInstance", 501, None))
    statuses = implementation_statuses(log, [])
    cells = [
        _cell("ListAppInstances", "a", "pass"),
        _cell("ListAppInstances", "b", "pass"),
        _cell("CreateAppInstance", "a", "fail"),
        _cell("ListAppInstances", "c", "not_applicable"),
    ]
    outcomes = [
        TestOutcome("t1", "ListAppInstances", "error", "TimeoutError: slow"),
        TestOutcome("t2", "ListAppInstances", "failed", None, recorded_failure=True),
        TestOutcome("t3", "CreateAppInstance", "error", "x"),  # not implemented: excluded
        TestOutcome("t4", None, "error", "y"),  # no single operation: counts
    ]
    score = honest_score(cells, statuses, outcomes)
    assert (score.passing_cells, score.failing_cells, score.errored_tests) == (2, 0, 2)
    assert score.value == pytest.approx(0.5)
    assert score.excluded_cells == 1


def test_repeated_causes_come_once_with_a_count() -> None:
    outcomes = [TestOutcome(f"t{i}", None, "error", "answered 500 text/html") for i in range(5)]
    outcomes.append(TestOutcome("u", None, "failed", "TimeoutError"))
    outcomes.append(TestOutcome("v", None, "passed"))
    causes = repeated_causes(outcomes)
    assert [(c.cause, c.tests) for c in causes] == [
        ("answered 500 text/html", 5),
        ("TimeoutError", 1),
    ]
    assert causes[0].examples == ("t0", "t1", "t2")


def test_answer_logs_merge_across_workers() -> None:
    one, two = _log(("ListAppInstances", 200, {})), _log(("ListAppInstances", 500, None))
    one.merge(AnswerLog.from_json(json.loads(json.dumps(two.to_json()))))
    assert one.in_shape["ListAppInstances"] == 1
    assert sum(one.foreign["ListAppInstances"].values()) == 1


def test_a_baseline_excuses_listed_failures_until_its_date(tmp_path: Path) -> None:
    path = tmp_path / "baseline.yaml"
    path.write_text(
        "known_failures:\n"
        "  - {operation: DescribeAppInstance, check: timestamps_are_plausible, reason: r1}\n"
        "  - {operation: ListAppInstances, check: response_matches_schema, reason: r2,"
        " until: 2020-01-01}\n"
    )
    baseline = load_baseline(path)
    today = datetime.date(2026, 1, 1)
    assert baseline.excuse("DescribeAppInstance", "timestamps_are_plausible", None, today)
    assert baseline.excuse("ListAppInstances", "response_matches_schema", None, today) is None
    assert [e.reason for e in baseline.expired(today)] == ["r2"]
    passing = CheckRecord("t", "DescribeAppInstance", "timestamps_are_plausible", "pass")
    assert [e.reason for e in baseline.fixed([passing], today)] == ["r1"]
    failing = CheckRecord("u", "DescribeAppInstance", "timestamps_are_plausible", "fail")
    assert baseline.fixed([passing, failing], today) == []


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("known_failures: 3\n", "is not of type 'array'"),
        ("known_failures:\n  - {operation: Nope, check: c, reason: r}\n", "not a known operation"),
        (
            "known_failures:\n  - {operation: ListAppInstances, check: c, reason: r}\n",
            "not a known check",
        ),
        ("hello: world\n", "'known_failures' is a required property"),
        ("known_failures: []\nhello: world\n", "('hello' was unexpected)"),
        ("known_failures:\n  - {operation: ListAppInstances, chek: c, reason: r}\n", "'check'"),
        ("known_failures:\n  - {operation: ListAppInstances, check: c}\n", "'reason'"),
        (
            "known_failures:\n  - {operation: ListAppInstances, check: status_code_matches_spec,"
            " reason: r, until: soon}\n",
            "must be a date",
        ),
        ("known_failures: [\n", "not YAML"),
        ("known_failures: [\n", "baseline.yaml"),  # the YAML error names the file
    ],
)
def test_a_bad_baseline_is_refused_in_one_sentence(
    tmp_path: Path, text: str, complaint: str
) -> None:
    path = tmp_path / "baseline.yaml"
    path.write_text(text)
    with pytest.raises(BaselineError, match="--baseline") as caught:
        load_baseline(path)
    assert complaint in str(caught.value)
    assert "\n" not in str(caught.value)


def test_statuses_are_json_ready() -> None:
    statuses = implementation_statuses(_log(("ListAppInstances", 200, {})), [])
    json.dumps([v.to_json() for v in statuses])


MARKER_PHRASES = [
    "not implemented", "not yet implemented", "has not been implemented", "not emulated",
    "unknown operation", "UnknownOperation", "unsupported operation", "unrecognized operation",
    "no such operation", "no such action",
]  # fmt: skip


# what re.IGNORECASE also matches to i, s and k, besides their upper case
OTHER_CASES = {"i": ["I", "ı", "İ"], "s": ["S", "ſ"], "k": ["K", "\u212a"]}


def _cased(draw: st.DrawFn, phrase: str) -> str:
    cased = "".join(
        draw(st.sampled_from([c, *OTHER_CASES.get(c.lower(), [c.swapcase()])])) for c in phrase
    )
    return cased.replace(" ", draw(st.sampled_from([" ", "  ", "\t", "\n", " \r\n "])))


@st.composite
def answer_texts(draw: st.DrawFn) -> str:
    around = st.text(st.characters(codec="utf-8"), max_size=40)
    parts = [draw(around)]
    if draw(st.booleans()):
        parts += [_cased(draw, draw(st.sampled_from(MARKER_PHRASES))), draw(around)]
    return "".join(parts)


@settings(max_examples=400, deadline=None)
@given(text=answer_texts())
def test_the_marker_prefilter_finds_what_the_pattern_alone_finds(text: str) -> None:
    """_marker skips the pattern when the lower-cased text lacks every word any
    match needs; it finds exactly what the pattern finds on its own."""
    found = UNIMPLEMENTED_MARKER.search(text)
    expected = " ".join(found.group(0).lower().split()) if found else None
    assert _marker(None, text) == expected
    assert _marker({"message": text}, None) == _pattern_only({"message": text})


def _pattern_only(body: dict) -> str | None:
    found = UNIMPLEMENTED_MARKER.search(json.dumps(body))
    return " ".join(found.group(0).lower().split()) if found else None
