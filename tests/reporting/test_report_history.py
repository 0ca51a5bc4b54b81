"""``chime-conformance-report history``: the last runs side by side, each
failing cell with its trend (when it broke, when it was fixed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chime_conformance.reporting.cli import main
from chime_conformance.reporting.history import trend
from chime_conformance.run.results import FAIL, PASS
from tests.support.report_runs import (
    FIXED,
    REGRESSED,
    STEADY,
    three_runs,
)


@pytest.fixture
def history(tmp_path: Path) -> Path:
    runs = three_runs(tmp_path)
    # given newest first: the page orders them by start time
    assert main(["history", *map(str, reversed(runs)), "--out", str(tmp_path / "out")]) == 0
    return tmp_path / "out" / "history.html"


def row_of(page: str, operation: str) -> str:
    match = re.search(
        rf"<tr class=\"(\w+)\">\s*<td class=\"mono\">{operation}</td>.*?</tr>", page, re.S
    )
    assert match, operation
    return match.group(0)


def test_the_runs_stand_side_by_side_oldest_first_with_their_scores(history: Path) -> None:
    page = history.read_text(encoding="utf-8")
    assert page.index("night1") < page.index("night2") < page.index("night3")
    scores = re.findall(r'<td class="score" id="score-1-(\d)">([^<]+)</td>', page)
    assert scores == [("1", "75.0%"), ("2", "50.0%"), ("3", "50.0%")]
    assert "score 75.0% → 50.0% → 50.0%" in page  # the endpoint's trend
    assert "Implemented operations" in page


def test_each_failing_cell_shows_when_it_broke_and_when_it_was_fixed(history: Path) -> None:
    page = history.read_text(encoding="utf-8")
    regressed = row_of(page, REGRESSED[0])
    assert 'class="regressed"' in regressed and "broke in run 2" in regressed
    assert re.findall(r"<td class=\"state (\w+)\"", regressed) == ["pass", "fail", "fail"]
    fixed = row_of(page, FIXED[0])
    assert 'class="fixed"' in fixed and "failing since run 1, fixed in run 3" in fixed
    assert re.findall(r"<td class=\"state (\w+)\"", fixed) == ["fail", "fail", "pass"]
    assert STEADY[0] not in page.split('id="cells-1"')[1]  # never failed: not listed


def test_the_page_is_self_contained_and_escapes_what_the_target_said(history: Path) -> None:
    page = history.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(" in page  # shown, as text


def test_trends_in_words() -> None:
    assert trend([PASS, FAIL, FAIL]) == ("broke in run 2", "regressed")
    assert trend([FAIL, PASS]) == ("failing since run 1, fixed in run 2", "fixed")
    assert trend([FAIL, "not_run", FAIL]) == ("failing since run 1", "failing")
    assert trend([PASS, FAIL, PASS, FAIL])[1] == "flapping"


def test_an_unreadable_input_is_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "results.json"
    bad.write_text("{", encoding="utf-8")
    assert main(["history", str(bad), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert str(bad) in error and error.count("\n") == 1
