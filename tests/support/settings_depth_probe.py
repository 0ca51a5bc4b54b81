"""A pytest plugin for tests/adapter/test_hypothesis_settings_chain.py: prints the
deepest settings chain any test item ran with, as ``MAX_DEPTH <n>``."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import settings

_depths: list[int] = []


@pytest.hookimpl(trylast=True)  # innermost: inside Hypothesis' own wrapper
def pytest_runtest_call(item: Any) -> None:
    function = getattr(item.obj, "__func__", item.obj)
    current = getattr(function, "_hypothesis_internal_use_settings", None)
    depth = 0
    while current is not None and current is not settings.default:
        depth, current = depth + 1, current._fallback
    _depths.append(depth)


def pytest_unconfigure(config: Any) -> None:
    print(f"\nMAX_DEPTH {max(_depths, default=-1)}")
