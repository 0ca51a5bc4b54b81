"""``--shard K/N`` in pytest: which items this shard keeps, and each test's
outcome for the report. The split itself (the hash, the shard, the run id, the
shard in resource names) is :mod:`chime_conformance.run.sharding`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pytest

from chime_conformance.run.config import ConfigurationError
from chime_conformance.run.sharding import (
    Shard,
    TestOutcomes,
    derive_run_id,
    parse_shard,
    shard_scope,
    test_id_of,
)

SHARD_KEY = pytest.StashKey["Shard | None"]()
TESTS_KEY = pytest.StashKey[TestOutcomes]()


def shard_count(values: Mapping[str, object]) -> int:
    """N of ``--shard K/N`` (1 without, or when it is unreadable: :func:`configure`
    says why in one sentence)."""
    try:
        return parse_shard(str(values["shard"])).total if values.get("shard") else 1
    except ConfigurationError:
        return 1


def configure(config: pytest.Config, values: Mapping[str, object]) -> str | None:
    """Read ``--shard`` and ``--run-id`` (already env-resolved in ``values``),
    stash the shard, start recording test outcomes; return the run id to use
    (None: a fresh one). Raises :class:`ConfigurationError`."""
    shard = parse_shard(str(values["shard"])) if values.get("shard") else None
    run_id = derive_run_id(values.get("run_id"), os.environ)
    if shard is not None and shard.total > 1 and run_id is None:
        raise ConfigurationError(
            f"--shard {shard} needs the run id all shards share: pass the same --run-id "
            "to every shard (or run under GitHub Actions, where it is derived from the run)"
        )
    config.stash[SHARD_KEY] = shard
    config.stash[TESTS_KEY] = TestOutcomes()
    if not config.pluginmanager.has_plugin("chime-conformance-outcomes"):
        config.pluginmanager.register(
            _TestOutcomes(config.stash[TESTS_KEY]), "chime-conformance-outcomes"
        )
    return run_id


def shard_of(config: pytest.Config) -> Shard | None:
    return config.stash.get(SHARD_KEY, None)


def sweep_scope(config: pytest.Config) -> str | None:
    """The shard part of resource names the sweep keeps to ("s2"), or None."""
    return shard_scope(shard_of(config))


def deselect_other_shards(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the items of this shard, report the others as deselected."""
    shard = shard_of(config)
    if shard is None:
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        (kept if shard.holds(test_id_of(item.nodeid, item.location[2])) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def run_fields(config: pytest.Config) -> dict[str, Any]:
    """What the report's RunInfo needs from sharding: the shard and every
    test id that ran, with its outcome (what a merge rebuilds a run from)."""
    shard = shard_of(config)
    return {
        "shard": shard.to_json() if shard is not None else None,
        "tests": dict(sorted(config.stash.get(TESTS_KEY, {}).items())),
    }


class _TestOutcomes:
    """Records the outcome of every test this process (or, on the xdist
    controller, any worker) reports."""

    def __init__(self, outcomes: TestOutcomes) -> None:
        self.outcomes = outcomes

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = _outcome_of(report)
        if outcome is not None:
            self.outcomes.record(test_id_of(report.nodeid, report.location[2]), outcome)


def _outcome_of(report: pytest.TestReport) -> str | None:
    if report.when != "call":
        if report.failed:
            return "error"
        if report.skipped and report.when == "setup":
            return "skipped"
        return None
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    return str(report.outcome)
