"""pytest fixtures for tests of code that calls Chime SDK Identity or the Chime
accounts API (pytest11 entry point ``chime_emulator``).

Inert unless a test asks for a fixture: no option, no hook, nothing imported
beyond this module. In layers, as pytest-httpserver's:

- ``chime_emulator_options`` (session): what the emulator is started with
  (``region``, ``account_id``, ``faults``, ``allow_faults``, ``snapshot``);
  override it in the rootdir's ``conftest.py``, it applies to the whole session;
- ``chime_emulator_server`` (session): the one emulator of the session (of each
  xdist worker); its state is shared by every test that uses it directly;
- ``chime_emulator`` (function): that emulator, back to its starting state
  (empty, or the snapshot), with the environment pointing at it for the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from chime_conformance.testing._emulator import ChimeEmulator


@pytest.fixture(scope="session")
def chime_emulator_options() -> dict[str, Any]:
    """Options of the session's emulator; none by default."""
    return {}


@pytest.fixture(scope="session")
def chime_emulator_server(chime_emulator_options: dict[str, Any]) -> Iterator[ChimeEmulator]:
    """The session's emulator, started on first use, stopped at the end."""
    from chime_conformance.testing._emulator import EmulatorOptions, launch

    options = EmulatorOptions.from_mapping(chime_emulator_options, "chime_emulator_options")
    emulator = launch(options)
    yield emulator
    emulator._stop()


@pytest.fixture
def chime_emulator(chime_emulator_server: ChimeEmulator) -> Iterator[ChimeEmulator]:
    """The session's emulator in its starting state, with ``AWS_ENDPOINT_URL_*``,
    credentials and region pointing every client made during the test at it."""
    from chime_conformance.testing._activation import activate, deactivate

    chime_emulator_server.reset()
    activation = activate(chime_emulator_server, "the chime_emulator fixture")
    yield chime_emulator_server
    deactivate(activation)
