"""The suite's expiration lifecycle (conformance/test_expiration.py) passes on the
emulator, fails on an emulator whose users never expire, and is skipped with
its reason on a target without a movable clock."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chime_conformance.emulator.app import EmulatorApp
from chime_conformance.emulator.exceptions import NotFoundException
from chime_conformance.emulator.models import IdentityBackend
from chime_conformance.emulator.server import RunningEmulator, running_emulator
from tests.support import pytest_forkserver as forked

ROOT = Path(__file__).resolve().parents[2]


def users_never_expire(app: EmulatorApp) -> None:
    """The proposed fault ``users_never_expire``: settings stored, never acted on."""
    app.backend.wrap_rule(
        IdentityBackend, "expire_users", lambda backend, original: lambda clock: []
    )


def no_clock(app: EmulatorApp) -> None:
    """A target without the emulator's admin clock (as the real service)."""
    admin = app._admin

    def without_clock(exchange: object) -> object:
        if getattr(exchange, "raw_path", "").startswith("/_emulator/clock"):
            raise NotFoundException("no such endpoint")
        return admin(exchange)  # type: ignore[arg-type]

    app._admin = without_clock  # type: ignore[assignment,method-assign]


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator() as running:
        yield running


def run_suite(url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return forked.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "conformance/test_expiration.py",
            "--target-url",
            url,
            "--report-dir",
            str(tmp_path),
            "--hypothesis-profile",
            "ci",
            "-p",
            "no:cacheprovider",
            "-rs",
            "-q",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.mark.parametrize(
    ("install", "code", "expected"),
    [
        pytest.param(None, 0, "2 passed", id="clean"),
        pytest.param(users_never_expire, 1, "[user_expiration]", id="users-never-expire"),
        pytest.param(no_clock, 0, "offers no movable clock", id="no-clock"),
    ],
)
def test_the_expiration_lifecycle(
    emulator: RunningEmulator,
    tmp_path: Path,
    install: Callable[[EmulatorApp], None] | None,
    code: int,
    expected: str,
) -> None:
    if install is not None:
        install(emulator.app)
    result = run_suite(emulator.url, tmp_path)
    assert result.returncode == code, result.stdout[-3000:] + result.stderr[-2000:]
    assert expected in result.stdout, result.stdout[-3000:]
