"""The reports open in a real browser (headless Chromium): compliance.html of
small runs and of real runs (a partial endpoint, an interrupted run) within
the page bounds, and compare/history of three real endpoints."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest

from chime_conformance.contract import spec
from chime_conformance.emulator.server import running_emulator
from chime_conformance.reporting import write_reports
from chime_conformance.reporting.failure_groups import failure_cause
from tests.end_to_end.test_partial_endpoints import moto_url, run_suite  # noqa: F401 (a fixture)
from tests.support import pytest_forkserver as forked
from tests.support.report_runs import small_run

REPO = Path(__file__).resolve().parents[2]
SCREEN = 1080  # px: the bound is in screens of a 1080 px window
MAX_SCREENS = 30
MAX_PAGE_BYTES = 1_000_000
PAGE_WIDTH = 1400
MISSING = "UpdateAccount,UpdateAppInstance,PutAppInstanceRetentionSettings"

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
    scores = re.findall(r'<td class="score" id="score-1-(\d)">([^<]+)</td>', dom)
    assert scores == [("1", "75.0%"), ("2", "50.0%"), ("3", "50.0%")], dom[:2000]
    rows = re.findall(r'<tr class="(\w+)">\s*<td class="mono">(\w+)</td>', dom)
    assert ("regressed", REGRESSED[0]) in rows and ("fixed", FIXED[0]) in rows
    assert "broke in run 2" in dom and "fixed in run 3" in dom
    assert "<script>" not in dom and "&lt;script&gt;" in dom  # the hostile name stayed text


def rendered_height(page: Path, profile: Path) -> int:
    """The page's height as Chromium lays it out PAGE_WIDTH px wide. The page
    runs no script (its CSP forbids it), so a wrapper page next to it frames
    it and writes the framed document's height into its own DOM."""
    with tempfile.TemporaryDirectory() as folder:
        wrapper = Path(folder) / "measure.html"
        wrapper.write_text(
            f'<!DOCTYPE html><html><body><iframe id="f" src="{page.resolve().as_uri()}" '
            f'style="width:{PAGE_WIDTH}px;height:{SCREEN}px;border:0"></iframe><pre id="out"></pre>'
            "<script>addEventListener('load',function(){var d=document.getElementById('f')"
            ".contentDocument;document.getElementById('out').textContent='HEIGHT='+"
            "(d?d.documentElement.scrollHeight:'none');});</script></body></html>",
            encoding="utf-8",
        )
        dom = chromium(
            wrapper, profile, "--allow-file-access-from-files", "--virtual-time-budget=20000",
            "--dump-dom",
        ).stdout  # fmt: skip
    found = re.search(r"HEIGHT=(\d+)", dom)
    assert found, dom[-2000:]
    return int(found.group(1))


def assert_within_bounds(page: Path, profile: Path) -> tuple[int, int]:
    size, height = page.stat().st_size, rendered_height(page, profile)
    print(f"{page}: {size} bytes, {height} px ({height / SCREEN:.1f} screens)")
    assert size <= MAX_PAGE_BYTES, size
    assert 0 < height <= MAX_SCREENS * SCREEN, height
    return size, height


def assert_each_cause_once_with_its_count(dom: str, document: dict) -> None:
    """Every repeated cause of tests is listed once with its count; every
    (operation, check, cause) is one card, whose count is its failing records'."""
    for cause in document["verdict"]["causes"]:
        shown = re.findall(r'<li class="cause"><strong>(\d+) tests</strong>: ([^<]+?) <', dom)
        assert [(int(n), text) for n, text in shown].count(
            (cause["tests"], _html(cause["cause"]))
        ) == 1
    expected = Counter(
        (r["operation"] + " " + r["check"], failure_cause(r)) for r in document["records"]
    )
    seen: Counter[tuple[str, str]] = Counter()
    for cause, group in re.findall(
        r'data-cause="([^"]*)">(.*?)(?=<section class="cause-group"|<h2 id="constraints")',
        dom,
        re.S,
    ):
        for cell, count in re.findall(r'data-cell="([^"]+)" data-count="(\d+)"', group):
            key = (_text(cell), _text(cause))
            assert key not in seen, f"{key} has two cards"
            seen[key] = int(count)
    assert seen == expected, set(seen) ^ set(expected)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _text(html: str) -> str:
    for entity, char in (
        ("&quot;", '"'),
        ("&#34;", '"'),
        ("&#39;", "'"),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&amp;", "&"),
    ):
        html = html.replace(entity, char)
    return html


@pytest.fixture(scope="module")
def partial_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole suite (ci profile) against the emulator missing three operations."""
    report = tmp_path_factory.mktemp("partial")
    with running_emulator(unimplemented=tuple(MISSING.split(","))) as emulator:
        done, _ = run_suite(
            "--target-url", emulator.url, "--report-dir", str(report), timeout=900
        )  # fmt: skip
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    return report


@pytest.mark.deep  # a whole-suite run; the pages of slices below render in CI
def test_a_partial_endpoints_page_is_within_bounds_and_shows_each_cause_once(
    partial_run: Path, tmp_path: Path
) -> None:
    page = partial_run / "compliance.html"
    assert_within_bounds(page, tmp_path / "profile")
    dom = chromium(page, tmp_path / "profile", "--dump-dom").stdout
    document = json.loads((partial_run / "results.json").read_text(encoding="utf-8"))
    assert document["records"], "the partial endpoint failed no check?"
    assert_each_cause_once_with_its_count(dom, document)
    assert 'id="run-scope"' not in dom  # a complete run: no partial banner
    assert "complete: all" in dom.split('id="what-ran">')[1].split("</td>")[0]
    # nothing lost: every test that did not pass can be found on the page
    missing = [
        o["test_id"]
        for o in document["verdict"]["test_outcomes"]
        if o["outcome"] in ("failed", "error") and _html(o["test_id"]) not in dom
    ]
    assert not missing, missing[:5]


def test_an_interrupted_runs_page_says_so_and_its_score_is_partial(tmp_path: Path) -> None:
    report = tmp_path / "report"
    env = {**os.environ, "CHIME_INTERRUPT_AFTER": "20"}
    env = {k: v for k, v in env.items() if not k.startswith("CHIME_CONFORMANCE_")}
    done = forked.run(
        [sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider",
         "--hypothesis-profile", "ci", "--report-dir", str(report), "-p", "tests.support.interrupt_after_probe"],
        capture_output=True, text=True, timeout=600, cwd=REPO, env=env,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout[-3000:] + done.stderr[-2000:]
    verdict = done.stdout.split("chime-conformance verdict", 1)[1]
    assert "PARTIAL RUN (interrupted after 20 of " in verdict
    document = json.loads((report / "results.json").read_text(encoding="utf-8"))
    assert document["run"]["scope"]["state"] == "interrupted"
    assert document["run"]["scope"]["tests_run"] == 20
    assert document["score"]["partial"] is True
    assert document["score"]["headline"].startswith("PARTIAL RUN (interrupted after 20 of ")
    page = report / "compliance.html"
    assert_within_bounds(page, tmp_path / "profile")
    dom = chromium(page, tmp_path / "profile", "--dump-dom").stdout
    banner = dom.split('id="run-scope">')[1].split("</div>")[0]
    assert banner.startswith("PARTIAL RUN — interrupted after 20 of ")
    assert "partial" in dom.split('id="score"')[1].split("</div>")[0]


ENDPOINT_SLICE = ("--operations", "AppInstances,Accounts", "-k", "test_a_valid_request_is_accepted")


@pytest.fixture(scope="module")
def three_endpoints(tmp_path_factory: pytest.TempPathFactory, moto_url: str) -> list[Path]:  # noqa: F811
    """results.json of the same slice against the emulator, the emulator with
    a fault, and moto server (which implements none of it)."""
    folder = tmp_path_factory.mktemp("endpoints")
    found = []
    with (
        running_emulator() as clean,
        running_emulator(faults=("timestamps_in_milliseconds",), allow_faults=True) as faulty,
    ):
        for name, url in (
            ("emulator", clean.url),
            ("emulator with faults", faulty.url),
            ("moto", moto_url),
        ):
            done, _ = run_suite(
                "--target-url", url, "--target-name", name, "--report-dir", str(folder / name),
                *ENDPOINT_SLICE, timeout=300,
            )  # fmt: skip
            assert (folder / name / "results.json").is_file(), done.stdout[-3000:]
            found.append(folder / name / "results.json")
    return found


def test_compare_of_three_endpoints_renders_and_never_draws_not_implemented_as_failure(
    three_endpoints: list[Path], tmp_path: Path
) -> None:
    from chime_conformance.reporting.cli import main

    assert main(["compare", *map(str, three_endpoints), "--out", str(tmp_path / "out")]) == 0
    dom = chromium(tmp_path / "out" / "compare.html", tmp_path / "profile", "--dump-dom").stdout
    assert re.findall(r'<th class="endpoint">([^<]+)</th>', dom) == [
        "emulator", "emulator with faults", "moto",
    ]  # fmt: skip
    implemented = re.findall(r'id="implemented-\d">([^<]+)<', dom)
    assert implemented[2].startswith("0/"), implemented
    rows = re.findall(r"<tr>\s*<td class=\"mono\">(\w+)</td><td class=\"mono\">(\w+)</td>(.*?)</tr>",
                      dom.split('id="matrix-table"')[1], re.S)  # fmt: skip
    assert rows
    moto_states = {re.findall(r'class="state (\w+)"', cells)[2] for _, _, cells in rows}
    assert "fail" not in moto_states and "notimpl" in moto_states, moto_states
    faulty = {
        (op, check): re.findall(r'class="state (\w+)"', cells)[1] for op, check, cells in rows
    }
    assert faulty[("DescribeAppInstance", "timestamps_are_plausible")] == "fail"
    for name in ("emulator", "emulator-with-faults", "moto"):
        assert (tmp_path / "out" / f"badge-{name}.svg").is_file()


def test_history_of_three_endpoints_renders_one_section_each(
    three_endpoints: list[Path], tmp_path: Path
) -> None:
    from chime_conformance.reporting.cli import main

    assert main(["history", *map(str, three_endpoints), "--out", str(tmp_path / "out")]) == 0
    dom = chromium(tmp_path / "out" / "history.html", tmp_path / "profile", "--dump-dom").stdout
    names = re.findall(r'<section class="endpoint" id="endpoint-\d">\s*<h2>([^<]+?) <', dom)
    assert names == ["emulator", "emulator with faults", "moto"]
    moto = dom.split('id="endpoint-3"')[1]
    assert 'class="state fail"' not in moto  # moto implements none of it: nothing "failed"
