"""compliance.html: self-contained, escaped, complete and small."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from chime_conformance.contract import spec
from chime_conformance.reporting import write_reports
from chime_conformance.reporting.html_report import MAX_BLOCK_CHARS, clipped, http_text
from chime_conformance.reporting.matrix import SCORE_DEFINITION
from tests.support.report_runs import HOSTILE, full_run, small_run

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
    sections = small_html.split('<section class="failure"')[1:]
    assert len(sections) == 5
    for section in sections:
        assert "Received:" in section and "Documented:" in section
    assert "Signature=[redacted]" in small_html
    assert "curl -sS -X POST --aws-sigv4" in small_html
    assert "SigV4Auth(credentials, &#39;chime&#39;" in small_html


def test_the_stateful_failure_lists_its_steps_in_order(small_html) -> None:
    stateful = small_html.split('id="stateful"')[1].split('id="constraints"')[0]
    steps = re.findall(r"<li>(.*?)</li>", stateful)
    assert steps[0] == "state = AppInstanceLifecycle()"
    assert steps[3] == "state.delete_app_instance_user(user=user_0)"
    assert len(steps) == 6


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
    assert html.count('<section class="failure"') == sum(r.outcome == "fail" for r in run.records)
