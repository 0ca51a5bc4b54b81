"""compliance.html opens in a real browser (headless Chromium)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from chime_conformance.contract import spec
from chime_conformance.reporting import write_reports
from tests.support.report_runs import small_run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ISOLATION_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="chromium is not installed (Debian: apt-get install -y chromium)",
    ),
]


def chromium(page: Path, profile: Path, *action: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(CHROMIUM),
        *ISOLATION_FLAGS,
        f"--user-data-dir={profile}",
        *action,
        page.as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = small_run()
    folder = tmp_path_factory.mktemp("browser-report")
    return write_reports(folder, run.info, run.records, run.coverage).compliance_html


def test_the_rendered_page_shows_the_score_and_every_operation(
    report: Path, tmp_path: Path
) -> None:
    dom = chromium(report, tmp_path / "profile", "--dump-dom").stdout
    score = re.search(r'<div class="score" id="score">(\d+\.\d%)</div>', dom)
    assert score, dom[:2000]
    for op in spec.operations():
        assert op.name in dom
    assert "<script>" not in dom  # the hostile strings stayed text


def test_the_page_renders_to_a_screenshot(report: Path, tmp_path: Path) -> None:
    png = report.with_name("compliance.png")
    chromium(report, tmp_path / "profile", f"--screenshot={png}", "--window-size=1400,3000")
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1400, 3000)
    assert len(data) > 50_000  # a blank page of this size compresses to a few kilobytes


def test_the_history_page_shows_three_runs_a_regression_and_a_fix(tmp_path: Path) -> None:
    from chime_conformance.reporting.cli import main
    from tests.support.report_runs import FIXED, REGRESSED, three_runs

    runs = three_runs(tmp_path)
    assert main(["history", *map(str, runs), "--out", str(tmp_path / "out")]) == 0
    dom = chromium(tmp_path / "out" / "history.html", tmp_path / "profile", "--dump-dom").stdout
    scores = re.findall(r'<td class="score" id="score-(\d)">([^<]+)</td>', dom)
    assert scores == [("1", "75.0%"), ("2", "50.0%"), ("3", "50.0%")], dom[:2000]
    rows = re.findall(r'<tr class="(\w+)">\s*<td class="mono">(\w+)</td>', dom)
    assert ("regressed", REGRESSED[0]) in rows and ("fixed", FIXED[0]) in rows
    assert "broke in run 2" in dom and "fixed in run 3" in dom
    assert "<script>" not in dom and "&lt;script&gt;" in dom  # the hostile name stayed text
