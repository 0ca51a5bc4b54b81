"""Which tests run, and in what order: ``--operations``, ``--shard K/N``, and
under xdist the long tests first."""

from __future__ import annotations

from typing import Any

import pytest

from chime_conformance.run.config import SuiteConfig
from chime_conformance.run.sharding import test_id_of

# The marker of the suite's tests that take seconds each, where most take
# milliseconds (a marker, not node ids: those differ between a checkout and
# an installed suite)
LONG_RUNNING = "chime_long_running"


def select(config: pytest.Config, items: list[pytest.Item], suite: SuiteConfig) -> None:
    """Keep the tests of the operations selected and of this shard; the rest
    is reported as deselected, never failed."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        (kept if _selected(item, suite) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _selected(item: pytest.Item, suite: SuiteConfig) -> bool:
    if suite.operations is not None and item_operation(item) not in suite.operations:
        return False
    return suite.shard is None or suite.shard.holds(test_id_of(item.nodeid, item.location[2]))


def run_long_tests_first(config: pytest.Config, items: list[Any]) -> None:
    """Under xdist, whole state machines and linked scenarios run first, so the
    workers share them out at the start and end together, instead of one
    running the last state machine alone while the other waits."""
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: item.get_closest_marker(LONG_RUNNING) is None)


def item_operation(item: pytest.Item) -> str | None:
    """The operation a test is about, when it is about one."""
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec is not None else {}
    if isinstance(params.get("operation"), str):
        return str(params["operation"])
    probe = params.get("probe")
    if probe is not None and hasattr(probe, "constraint"):
        return str(probe.constraint.operation)
    label = getattr(item, "operation_label", None)  # schemathesis' items: "POST /tags"
    if isinstance(label, str):
        return _operation_of_label(label)
    return None


def _operation_of_label(label: str) -> str | None:
    from chime_conformance.contract import spec

    method, _, path = label.partition(" ")
    found = [op.name for op in spec.operations() if op.method == method and op.path == path]
    return found[0] if len(found) == 1 else None
