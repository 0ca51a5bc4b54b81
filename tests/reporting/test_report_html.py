"""compliance.html: self-contained, escaped, complete and small."""

from __future__ import annotations

import dataclasses
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from chime_conformance.contract import spec
from chime_conformance.reporting import write_reports
from chime_conformance.reporting.html_report import MAX_BLOCK_CHARS, clipped, http_text
from chime_conformance.reporting.matrix import SCORE_DEFINITION
from chime_conformance.reporting.run_scope import COMPLETE, INTERRUPTED, RunScope
from chime_conformance.run.results import CheckRecord
from tests.support.report_runs import HOSTILE, TARGET, full_run, small_run

MAX_REPORT_BYTES = 2 * 1024 * 1024


class _Elements(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(html: str) -> _Elements:
    elements = _Elements()
    elements.feed(html)
    return elements


@pytest.fixture(scope="module")
def small_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    run = small_run()
    paths = write_reports(tmp_path_factory.mktemp("report"), run.info, run.records, run.coverage)
    return paths.compliance_html.read_text(encoding="utf-8")


def test_the_page_names_every_operation_and_shows_the_score_and_its_definition(small_html) -> None:
    text = " ".join(parsed(small_html).text)
    for op in spec.operations():
        assert op.name in text
    assert re.search(r"\d+\.\d%", text)
    assert SCORE_DEFINITION in text


def test_the_page_shows_the_run_facts(small_html) -> None:
    text = " ".join(parsed(small_html).text)
    for fact in (
        "http://127.0.0.1:8642",
        "cc1a2b3c4d5e",
        "20250601",
        "nightly",
        "2021-04-20",
        "2018-05-01",
        "727.0 s",
    ):
        assert fact in text


def test_the_page_loads_nothing_and_runs_nothing(small_html) -> None:
    elements = parsed(small_html)
    names = {tag for tag, _ in elements.tags}
    assert not names & {"script", "link", "img", "iframe", "object", "embed"}
    for tag, attributes in elements.tags:
        assert not any(name.startswith("on") for name in attributes), tag
        assert (attributes.get("href") or "#").startswith("#"), attributes
        assert "src" not in attributes
    assert "url(http" not in small_html and "@import" not in small_html
    assert "default-src 'none'" in small_html  # a second line of defence


def test_strings_from_the_target_are_escaped_and_shown_as_text(small_html) -> None:
    assert HOSTILE not in small_html
    assert "&lt;script&gt;alert(" in small_html
    text = "".join(parsed(small_html).text)
    assert '<script>alert("pwned")</script>' in text


def test_each_failure_has_its_received_vs_documented_text_exchange_and_reproducers(
    small_html,
) -> None:
    cards = [
        c.split("</section>")[0] for c in small_html.split('<section class="card failure"')[1:]
    ]
    assert len(cards) == 5  # four check failures and one stateful, each its own cause
    for card in cards:
        assert "Received:" in card and "Documented:" in card
        assert "Minimal example" in card
    assert "Signature=[redacted]" in small_html
    assert "curl -sS -X POST --aws-sigv4" in small_html
    assert "SigV4Auth(credentials, &#39;chime&#39;" in small_html


def test_the_stateful_failure_lists_its_steps_in_order(small_html) -> None:
    cards = [c.split("</section>")[0] for c in small_html.split('<section class="card failure"')]
    (stateful,) = [c for c in cards[1:] if "(stateful)</span>" in c]
    steps = re.findall(r"<li>(.*?)</li>", stateful.split('class="steps"')[1].split("</ol>")[0])
    assert steps[0] == "state = AppInstanceLifecycle()"
    assert steps[3] == "state.delete_app_instance_user(user=user_0)"
    assert len(steps) == 6


def test_a_cause_repeated_by_many_tests_is_one_card_with_its_count(tmp_path: Path) -> None:
    """The same HTML 500 from 40 tests of one (operation, check): one card,
    "× 40", the shortest request as its example, the other 39 folded behind
    it; results.json keeps all 40 whole."""
    run = small_run()
    html_500 = {
        "status": 500,
        "headers": {"Content-Type": "text/html"},
        "body": "<html>oops</html>",
    }
    repeated = [
        CheckRecord(
            f"conformance/test_requests.py::test_x[CreateAccount-{n}]", "CreateAccount",
            "status_code_matches_spec", "fail", message=f"Received: 500. Documented: 201 ({n})",
            request={"method": "POST", "url": TARGET + "/accounts", "headers": {}, "body": "x" * (50 - n)},
            response=html_500,
        )
        for n in range(40)
    ]  # fmt: skip
    paths = write_reports(tmp_path, run.info, [*run.records, *repeated], run.coverage)
    html = paths.compliance_html.read_text(encoding="utf-8")
    (card,) = [
        c for c in html.split('<section class="card failure"') if "CreateAccount</span>" in c
    ]
    assert '<span class="count">× 40</span>' in card and "(40 tests)" in card
    example = card.split("Minimal example:")[1].split("</summary>")[0]
    assert "CreateAccount-39]" in example  # the shortest body
    assert "39 more examples" in card
    assert all(f"CreateAccount-{n}]" in card for n in range(40))  # every test reachable
    assert html.count("<h3>answered 500 text/html ") == 1  # the cause is a heading once
    document = json.loads(paths.results_json.read_text(encoding="utf-8"))
    assert sum(r["check"] == "status_code_matches_spec" for r in document["records"]) == 40


def test_a_partial_run_is_labelled_partial_on_the_page_and_in_results(tmp_path: Path) -> None:
    run = small_run()
    scope = RunScope(INTERRUPTED, tests_run=208, tests_selected=1009)
    info = dataclasses.replace(run.info, scope=scope)
    paths = write_reports(tmp_path, info, run.records, run.coverage)
    html = paths.compliance_html.read_text(encoding="utf-8")
    banner = html.split('id="run-scope">')[1].split("</div>")[0]
    assert "PARTIAL RUN" in banner and "interrupted after 208 of 1009 tests" in banner
    assert "<small>partial</small>" in html.split('id="score"')[1].split("</div>")[0]
    document = json.loads(paths.results_json.read_text(encoding="utf-8"))
    assert document["score"]["partial"] is True
    assert document["run"]["scope"]["summary"].startswith("interrupted after 208 of 1009")
    complete = dataclasses.replace(run.info, scope=RunScope(COMPLETE, 1009, 1009))
    html = write_reports(tmp_path / "c", complete, run.records, run.coverage).compliance_html
    text = html.read_text(encoding="utf-8")
    assert 'id="run-scope"' not in text
    assert "complete: all 1009 tests of the suite ran" in text


def test_each_cell_state_has_its_own_symbol_and_word_not_only_a_colour(small_html) -> None:
    matrix = small_html.split('id="matrix"')[1].split('id="failures"')[0]
    for css_class, symbol in (("pass", "✓"), ("fail", "✗"), ("na", "–"), ("notrun", "○")):
        assert re.search(rf'class="state {css_class}"[^>]*>(<a [^>]*>)?{symbol}<', matrix), (
            css_class
        )
    for word in ("pass", "FAIL", "not applicable", "not run"):
        assert word in matrix


def test_failing_cells_link_to_their_failure_section(small_html) -> None:
    anchors = set(re.findall(r'<a href="#(failure-\d+)">', small_html))
    ids = set(re.findall(r'id="(failure-\d+)"', small_html))
    assert anchors and anchors <= ids


def test_the_family_chart_is_inline_svg_with_every_family(small_html) -> None:
    svg = small_html.split("<svg")[1].split("</svg>")[0]
    for family in {op.family for op in spec.operations()}:
        assert f">{family}</text>" in svg
    assert "cells pass)" in svg and "constraints covered)" in svg


def test_long_bodies_are_cut_in_the_page() -> None:
    text = http_text({"status": 500, "headers": {}, "body": "x" * (MAX_BLOCK_CHARS * 3)})
    assert text.startswith("HTTP 500")
    assert "more characters in results.json" in clipped(text)


def test_a_full_run_report_stays_under_two_megabytes(tmp_path: Path) -> None:
    run = full_run()
    paths = write_reports(tmp_path, run.info, run.records, run.coverage)
    size = paths.compliance_html.stat().st_size
    print(f"compliance.html of a full run: {size} bytes")
    assert size < MAX_REPORT_BYTES
    html = paths.compliance_html.read_text(encoding="utf-8")
    cards = html.count('<section class="card failure"')
    assert 0 < cards <= sum(r.outcome == "fail" for r in run.records)
