"""Under xdist the suite's long tests run first; otherwise the order is pytest's."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from chime_conformance.pytest_plugin import collection

NODE_IDS = [
    "conformance/test_requests.py::test_a_valid_request_is_accepted[CreateAppInstance]",
    "conformance/test_schemathesis.py::test_identity_operation[POST /app-instances]",
    "conformance/test_schemathesis.py::test_linked_operations[chime-accounts]",
    "conformance/test_state_machines.py::test_accounts_keep_their_contract_over_random_lifecycles",
    "conformance/test_requests.py::test_a_valid_request_is_accepted[ListAppInstances]",
]


def _items() -> list[Any]:
    return [SimpleNamespace(nodeid=node_id) for node_id in NODE_IDS]


def test_a_worker_runs_state_machines_and_linked_scenarios_first_in_order() -> None:
    items = _items()
    collection.run_long_tests_first(SimpleNamespace(workerinput={}), items)  # type: ignore[arg-type]
    assert [item.nodeid for item in items] == [
        NODE_IDS[2],
        NODE_IDS[3],
        NODE_IDS[0],
        NODE_IDS[1],
        NODE_IDS[4],
    ]


def test_without_xdist_the_order_is_left_alone() -> None:
    items = _items()
    collection.run_long_tests_first(SimpleNamespace(), items)  # type: ignore[arg-type]
    assert [item.nodeid for item in items] == NODE_IDS
