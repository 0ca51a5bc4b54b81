"""A pytest plugin for tests/adapter/test_hypothesis_settings_chain.py: prints the
deepest settings chain any test item ran with, as ``MAX_DEPTH <n>``."""

from __future__ import annotations

from typing import Any

import pytest

from chime_conformance.pytest_plugin._library_internals import settings_depth, settings_of

_depths: list[int] = []


@pytest.hookimpl(trylast=True)  # innermost: inside Hypothesis' own wrapper
def pytest_runtest_call(item: Any) -> None:
    function = getattr(item.obj, "__func__", item.obj)
    current = settings_of(function)
    _depths.append(settings_depth(current) if current is not None else 0)


def pytest_unconfigure(config: Any) -> None:
    print(f"\nMAX_DEPTH {max(_depths, default=-1)}")
