"""The wheel carries the whole suite: installed into a fresh virtualenv outside
the checkout, `chime-conformance run` passes the same tests as `pytest
conformance` in the checkout, and writes its report where it was run.

Kept cheap: the wheel is built without dependencies and installed with
``--no-deps`` into a venv that sees this environment's dependencies through a
``.pth`` line (one directory on sys.path; that directory's own ``.pth`` files,
such as this checkout's editable install, are *not* processed, so nothing of
the checkout is importable there).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from tests.support import pytest_forkserver as forked

REPO = Path(__file__).resolve().parents[2]
SLICE = "(test_a_valid_request_is_accepted and AppInstance]) or reads_back_as_created"
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("CHIME_CONFORMANCE_")}


def passed_tests(junit: Path) -> set[str]:
    """``module::test[params]`` of every test that passed, whatever the rootdir."""
    root = ET.parse(junit).getroot()
    return {
        f"{case.get('classname', '').split('.')[-1]}::{case.get('name')}"
        for case in root.iter("testcase")
        if not any(child.tag in ("failure", "error", "skipped") for child in case)
    }


def fresh_venv(where: Path, wheel: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    Path(purelib, "_chime_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"])
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         "--no-index", str(wheel)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr[-2000:]
    return Path(purelib)


@pytest.mark.slow
def test_the_installed_suite_passes_what_the_checkout_passes(
    built_wheel: Path, tmp_path: Path
) -> None:
    wheel = built_wheel  # pip wheel of the checkout (tests/end_to_end/conftest.py)
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert all(top.startswith("chime_conformance") for top in tops), tops
    site = fresh_venv(tmp_path / "venv", wheel)
    assert not (site / "strategies").exists() and not (site / "conformance").exists()
    assert (site / "chime_conformance" / "suite" / "conftest.py").is_file()
    bin_dir = tmp_path / "venv" / "bin"
    emulator = subprocess.Popen(
        [str(bin_dir / "chime-emulator"), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=CLEAN_ENV,
    )  # fmt: skip
    try:
        assert emulator.stdout is not None
        first = emulator.stdout.readline()
        url = first.split("listening on ", 1)[1].split()[0]
        assert str(site) in subprocess.run(  # the venv's own package, not the checkout's
            [str(bin_dir / "python"), "-c", "import chime_conformance; print(chime_conformance.__file__)"],
            capture_output=True, text=True, cwd=tmp_path, check=True,
        ).stdout  # fmt: skip
        work = tmp_path / "work"
        work.mkdir()
        installed = subprocess.run(
            [str(bin_dir / "chime-conformance"), "run", "--target-url", url,
             "--hypothesis-profile", "ci", "-k", SLICE],
            capture_output=True, text=True, timeout=300, cwd=work, env=CLEAN_ENV,
        )  # fmt: skip
        checkout = forked.run(  # the checkout's suite, as tests/ runs it everywhere
            [sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider",
             "--target-url", url, "--hypothesis-profile", "ci", "-k", SLICE,
             "--report-dir", str(tmp_path / "checkout")],
            capture_output=True, text=True, timeout=300, cwd=REPO, env=CLEAN_ENV,
        )  # fmt: skip
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-2000:]
    assert checkout.returncode == 0, checkout.stdout[-3000:]
    assert "warning" not in installed.stdout.splitlines()[-1]
    # test ids relative to the suite, not ../../venv/lib/python3.X/site-packages/…
    assert not [line for line in installed.stdout.splitlines() if line.startswith("../")]
    assert "test_requests.py " in installed.stdout
    for report in ("compliance.html", "results.json", "junit.xml"):
        assert (work / "reports" / report).is_file(), report
    ran_installed = passed_tests(work / "reports" / "junit.xml")
    assert len(ran_installed) >= 5
    assert ran_installed == passed_tests(tmp_path / "checkout" / "junit.xml")
