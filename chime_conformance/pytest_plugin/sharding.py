"""``--shard K/N``: one run of the suite split across machines.

Each test goes to the shard its id hashes to (web-platform-tests' hash
chunking): the split depends on the test id alone, so every machine, every
xdist worker and every later run agrees on it, and adding a test moves no
other test. The shards of one run share the run id (``--run-id``, or derived
from the CI run) so their reports merge into one
(``chime-conformance-report merge``); each shard's resources carry the shard
in their names (:func:`name_scope`), and each process's ledger deletes only
what that process created, so shards sharing a target never touch each
other's resources.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from chime_conformance.run.config import ConfigurationError

SHARD_KEY = pytest.StashKey["Shard | None"]()
TESTS_KEY = pytest.StashKey[dict[str, str]]()
RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9]{1,20}")
_SHARD_PATTERN = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")
# the CI variables that name one run of a workflow, in every job of its matrix
_CI_RUN_VARIABLES = ("GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``total``."""

    index: int
    total: int

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"

    def holds(self, test_id: str) -> bool:
        return bucket(test_id, self.total) == self.index - 1

    def to_json(self) -> dict[str, Any]:
        return {"total": self.total, "indices": [self.index]}


def parse_shard(text: str) -> Shard:
    """``"K/N"`` with 1 ≤ K ≤ N, or :class:`ConfigurationError` in one sentence."""
    match = _SHARD_PATTERN.fullmatch(text)
    if not match:
        raise ConfigurationError(f"--shard must be K/N (e.g. 2/3), got {text!r}")
    index, total = int(match[1]), int(match[2])
    if not 1 <= index <= total:
        raise ConfigurationError(
            f"--shard {text}: K must be between 1 and N, and N at least 1 (e.g. 2/3)"
        )
    return Shard(index, total)


def shard_count(values: Mapping[str, object]) -> int:
    """N of ``--shard K/N`` (1 without, or when it is unreadable: :func:`configure`
    says why in one sentence)."""
    try:
        return parse_shard(str(values["shard"])).total if values.get("shard") else 1
    except ConfigurationError:
        return 1


def test_id_of(nodeid: str, domain: str) -> str:
    """A test's id: its node id, with the parameters pytest's location shows
    when the node id lacks them (schemathesis names every operation's item
    ``test_identity_operation``, its location ``test_identity_operation[POST /x]``)."""
    last = nodeid.rpartition("::")[2]
    if not last or domain.endswith(last):
        return nodeid
    start = domain.rfind(last + "[")
    return nodeid + domain[start + len(last) :] if start >= 0 else nodeid


test_id_of.__test__ = False  # type: ignore[attr-defined]  # not a test, whatever imports it


def hash_key(test_id: str) -> str:
    """What the hash reads: the node id from the suite's folder down, with
    ``/`` separators, so a checkout, an installed copy and Windows agree."""
    path, sep, rest = test_id.replace("\\", "/").partition("::")
    parts = path.split("/")
    if "conformance" in parts:
        last = len(parts) - 1 - parts[::-1].index("conformance")
        path = "/".join(parts[last:])
    return path + sep + rest


def bucket(test_id: str, total: int) -> int:
    """The 0-based shard ``test_id`` falls in, out of ``total``."""
    digest = hashlib.sha256(hash_key(test_id).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % total


def derive_run_id(given: object, environ: Mapping[str, str] = os.environ) -> str | None:
    """The run id every shard of a run shares: ``--run-id`` if given (checked),
    else one derived from the CI run (GitHub Actions), else None."""
    if given not in (None, ""):
        text = str(given)
        if not RUN_ID_PATTERN.fullmatch(text):
            raise ConfigurationError(
                f"--run-id must be 1 to 20 letters or digits (it starts every resource name), "
                f"got {text!r}"
            )
        return text
    if environ.get("GITHUB_RUN_ID"):
        seed = "/".join(environ.get(name, "") for name in _CI_RUN_VARIABLES)
        return "gh" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:10]
    return None


def configure(config: pytest.Config, values: Mapping[str, object]) -> str | None:
    """Read ``--shard`` and ``--run-id`` (already env-resolved in ``values``),
    stash the shard, start recording test outcomes; return the run id to use
    (None: a fresh one). Raises :class:`ConfigurationError`."""
    shard = parse_shard(str(values["shard"])) if values.get("shard") else None
    run_id = derive_run_id(values.get("run_id"))
    if shard is not None and shard.total > 1 and run_id is None:
        raise ConfigurationError(
            f"--shard {shard} needs the run id all shards share: pass the same --run-id "
            "to every shard (or run under GitHub Actions, where it is derived from the run)"
        )
    config.stash[SHARD_KEY] = shard
    config.stash[TESTS_KEY] = {}
    if not config.pluginmanager.has_plugin("chime-conformance-outcomes"):
        config.pluginmanager.register(
            _TestOutcomes(config.stash[TESTS_KEY]), "chime-conformance-outcomes"
        )
    return run_id


def deselect_other_shards(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the items of this shard, report the others as deselected."""
    shard = config.stash.get(SHARD_KEY, None)
    if shard is None:
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        (kept if shard.holds(test_id_of(item.nodeid, item.location[2])) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def name_scope(config: pytest.Config, worker: str | None) -> str:
    """This process's part of resource names, after the run id: the shard and
    the xdist worker (``s2gw0``), so no two processes of a run make one name."""
    shard = config.stash.get(SHARD_KEY, None)
    label = worker or "main"
    return f"s{shard.index}{label}" if shard is not None else label


def run_fields(config: pytest.Config) -> dict[str, Any]:
    """What the report's RunInfo needs from sharding: the shard and every
    test id that ran, with its outcome (what a merge rebuilds a run from)."""
    shard = config.stash.get(SHARD_KEY, None)
    return {
        "shard": shard.to_json() if shard is not None else None,
        "tests": dict(sorted(config.stash.get(TESTS_KEY, {}).items())),
    }


# pytest's phases → one outcome per test: a failed setup or teardown is an
# error, a skip at setup a skip, else the call's outcome (xfail-aware)
_RANK = {"passed": 0, "xfailed": 1, "skipped": 1, "xpassed": 2, "failed": 3, "error": 4}


class _TestOutcomes:
    """Records the outcome of every test this process (or, on the xdist
    controller, any worker) reports."""

    def __init__(self, outcomes: dict[str, str]) -> None:
        self.outcomes = outcomes

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = _outcome_of(report)
        if outcome is None:
            return
        test_id = test_id_of(report.nodeid, report.location[2])
        previous = self.outcomes.get(test_id)
        if previous is None or _RANK[outcome] > _RANK[previous]:
            self.outcomes[test_id] = outcome


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
