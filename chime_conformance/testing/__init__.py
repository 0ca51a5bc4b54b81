"""The emulator as a test double for code that calls Amazon Chime SDK Identity or
the Amazon Chime accounts API: what moto's ``mock_aws`` is for other AWS services.

``mock_chime`` (a context manager and decorator) and the pytest fixture
``chime_emulator`` (registered by this package's ``chime_emulator`` pytest11
entry point, :mod:`chime_conformance.testing.pytest_fixtures`) give a
:class:`ChimeEmulator`: a real emulator on a loopback port, with
``AWS_ENDPOINT_URL_CHIME_SDK_IDENTITY`` and ``AWS_ENDPOINT_URL_CHIME`` pointing
at it, ready clients, fresh or seeded state, and failures on purpose.

The names below are imported on first use, so that loading the pytest plugin
imports nothing of the emulator in a run that never asks for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chime_conformance.emulator.state import StateFileError
    from chime_conformance.testing._activation import active_emulator
    from chime_conformance.testing._disruptions import Disruption
    from chime_conformance.testing._emulator import ChimeEmulator
    from chime_conformance.testing._errors import MockChimeError
    from chime_conformance.testing._mock import MockChime, mock_chime
    from chime_conformance.testing._seed import (
        Seed,
        SeededAccount,
        SeededAppInstance,
        SeededBot,
        SeededUser,
    )

__all__ = [
    "ChimeEmulator",
    "Disruption",
    "MockChime",
    "MockChimeError",
    "Seed",
    "SeededAccount",
    "SeededAppInstance",
    "SeededBot",
    "SeededUser",
    "StateFileError",
    "active_emulator",
    "mock_chime",
]

_HOMES = {
    "ChimeEmulator": "chime_conformance.testing._emulator",
    "Disruption": "chime_conformance.testing._disruptions",
    "MockChime": "chime_conformance.testing._mock",
    "MockChimeError": "chime_conformance.testing._errors",
    "Seed": "chime_conformance.testing._seed",
    "SeededAccount": "chime_conformance.testing._seed",
    "SeededAppInstance": "chime_conformance.testing._seed",
    "SeededBot": "chime_conformance.testing._seed",
    "SeededUser": "chime_conformance.testing._seed",
    "StateFileError": "chime_conformance.emulator.state",
    "active_emulator": "chime_conformance.testing._activation",
    "mock_chime": "chime_conformance.testing._mock",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
