"""Under xdist the suite's long tests run first, whatever their node ids look
like (a checkout's ``conformance/test_x.py::…`` or an installed suite's
``test_x.py::…``); otherwise the order is pytest's."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from chime_conformance.pytest_plugin import collection
from tests.support import pytest_forkserver as forked

REPO = Path(__file__).resolve().parents[2]
SUITE = REPO / "conformance"
# (node id as the installed suite names it, marked long-running)
ITEMS = [
    ("test_requests.py::test_a_valid_request_is_accepted[CreateAppInstance]", False),
    ("test_schemathesis.py::test_identity_operation[POST /app-instances]", False),
    ("test_schemathesis.py::test_linked_operations[chime-accounts]", True),
    ("test_state_machines.py::test_accounts_keep_their_contract_over_random_lifecycles", True),
    ("test_requests.py::test_a_valid_request_is_accepted[ListAppInstances]", False),
]


class Item(SimpleNamespace):
    def get_closest_marker(self, name: str) -> Any:
        return object() if name == collection.LONG_RUNNING and self.long else None


def _items() -> list[Any]:
    return [Item(nodeid=node_id, long=long) for node_id, long in ITEMS]


def test_a_worker_runs_the_marked_tests_first_in_order() -> None:
    items = _items()
    collection.run_long_tests_first(SimpleNamespace(workerinput={}), items)  # type: ignore[arg-type]
    assert [item.nodeid for item in items] == [ITEMS[i][0] for i in (2, 3, 0, 1, 4)]


def test_without_xdist_the_order_is_left_alone() -> None:
    items = _items()
    collection.run_long_tests_first(SimpleNamespace(), items)  # type: ignore[arg-type]
    assert [item.nodeid for item in items] == [node_id for node_id, _ in ITEMS]


def test_the_state_machines_and_linked_scenarios_carry_the_marker_where_installed() -> None:
    """Collected as the installed suite is (its folder as rootdir: node ids
    without ``conformance/``), the marker selects exactly the long tests."""
    done = forked.run(
        [sys.executable, "-m", "pytest", str(SUITE), "--rootdir", str(SUITE),
         "-p", "no:cacheprovider", "--collect-only", "-q", "-m", collection.LONG_RUNNING],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    selected = sorted(line for line in done.stdout.splitlines() if "::" in line)
    assert selected == [
        "test_schemathesis.py::test_linked_operations[chime-accounts]",
        "test_schemathesis.py::test_linked_operations[chime-sdk-identity]",
        "test_state_machines.py::test_accounts_keep_their_contract_over_random_lifecycles",
        "test_state_machines.py::test_app_instances_keep_their_contract_over_random_lifecycles",
        "test_state_machines.py::test_members_of_app_instances_keep_their_contract_over_random_lifecycles",
        "test_state_machines.py::test_overlapping_requests_keep_the_contract_over_random_lifecycles",
    ], done.stdout[-2000:]
