"""A pytest plugin for tests/adapter/test_plugin.py: prints how many times the run swept
a target at the end (``chime_conformance.run.sweep.sweep`` called), as
``SWEEPS <n>`` when the session ends."""

from __future__ import annotations

from typing import Any

import chime_conformance.run.sweep as sweep_module

_calls = [0]
_sweep = sweep_module.sweep


def _counted(*args: Any, **kwargs: Any) -> Any:
    _calls[0] += 1
    return _sweep(*args, **kwargs)


sweep_module.sweep = _counted


def pytest_unconfigure(config: Any) -> None:
    print(f"\nSWEEPS {_calls[0]}")
