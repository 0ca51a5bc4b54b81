"""``--shard K/N``: one run of the suite split across machines (the pure part).

Each test goes to the shard its id hashes to (web-platform-tests' hash
chunking): the split depends on the test id alone, so every machine, every
xdist worker and every later run agrees on it, and adding a test moves no
other test. The shards of one run share the run id (``--run-id``, or derived
from the CI run) so their reports merge into one
(``chime-conformance-report merge``); each shard's resources carry the shard
in their names (:func:`name_scope`), and each process's ledger deletes only
what that process created, so shards sharing a target never touch each
other's resources.

Nothing here knows about pytest: the adapter
(:mod:`chime_conformance.pytest_plugin`) deselects the other shards' items
and records each test's outcome through these functions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Shard",
    "TestOutcomes",
    "bucket",
    "ci_run_id",
    "hash_key",
    "name_scope",
    "shard_scope",
    "test_id_of",
]

# the CI variables that name one run of a workflow, in every job of its matrix
CI_RUN_VARIABLES = ("GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT")


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


def ci_run_id(ci_run: Mapping[str, str]) -> str | None:
    """The run id every job of one CI run derives alike (GitHub Actions'
    :data:`CI_RUN_VARIABLES` in ``ci_run``), or None outside CI."""
    if not ci_run.get("GITHUB_RUN_ID"):
        return None
    seed = "/".join(ci_run.get(name, "") for name in CI_RUN_VARIABLES)
    return "gh" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:10]


def name_scope(shard: Shard | None, worker: str | None) -> str:
    """A process's part of resource names, after the run id: the shard and
    the xdist worker (``s2gw0``), so no two processes of a run make one name."""
    label = worker or "main"
    return f"s{shard.index}{label}" if shard is not None else label


def shard_scope(shard: Shard | None) -> str | None:
    """The shard part of this run's resource names ("s2"), or None unsharded:
    what the sweep of a shard restricts itself to."""
    return f"s{shard.index}" if shard is not None else None


# pytest's phases → one outcome per test: a failed setup or teardown is an
# error, a skip at setup a skip, else the call's outcome (xfail-aware)
_RANK = {"passed": 0, "xfailed": 1, "skipped": 1, "xpassed": 2, "failed": 3, "error": 4}


class TestOutcomes(dict[str, str]):
    """Every test that ran, with its outcome: what a merge rebuilds a run from.
    A test reported more than once (setup, call, teardown) keeps its worst."""

    __test__ = False  # not a pytest test class

    def record(self, test_id: str, outcome: str) -> None:
        previous = self.get(test_id)
        if previous is None or _RANK[outcome] > _RANK[previous]:
            self[test_id] = outcome
