"""Leftovers are records from the ledger to the report: kind, ARN and reason,
never a line of text parsed back or matched by substring."""

from __future__ import annotations

import json

from chime_conformance.run.events import Leftover, RunEvents
from chime_conformance.run.ledger import Ledger
from chime_conformance.run.worker_report import WorkerReport, read_worker_reports

INSTANCE = "arn:aws:chime:us-east-1:123456789012:app-instance/11111111-2222-3333-4444-555555555555"
USER = INSTANCE + "/user/u1"
OTHER = "arn:aws:chime:us-east-1:123456789012:app-instance/99999999-2222-3333-4444-555555555555"


def a_ledger_with_one_of_each() -> Ledger:
    ledger = Ledger()
    ledger.observe("CreateAppInstance", {}, 201, {"AppInstanceArn": INSTANCE})
    ledger.observe("CreateAppInstanceUser", {}, 201, {"AppInstanceUserArn": USER})
    ledger.observe(
        "RegisterAppInstanceUserEndpoint", {}, 201, {"AppInstanceUserArn": USER, "EndpointId": "e1"}
    )
    ledger.observe(
        "CreateAppInstanceAdmin", {"AppInstanceArn": INSTANCE, "AppInstanceAdminArn": USER}, 201, {}
    )
    ledger.observe("CreateAccount", {}, 201, {"Account": {"AccountId": "acc-1"}})
    return ledger


def test_what_the_ledger_cannot_delete_comes_back_as_records_naming_each_resource() -> None:
    leftovers = a_ledger_with_one_of_each().clean_up(lambda operation, members: 500)
    assert {(left.kind, left.arn) for left in leftovers} == {
        ("endpoint", f"{USER} endpoint e1"),
        ("admin", USER),
        ("user", USER),
        ("app-instance", INSTANCE),
        ("account", "acc-1"),
    }
    assert all(left.reason.endswith("answered 500") for left in leftovers)


def test_a_ctrl_c_during_clean_up_leaves_records_of_the_rest() -> None:
    ledger = a_ledger_with_one_of_each()
    calls = []

    def delete(operation: str, members: dict[str, str]) -> int:
        calls.append(operation)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return 204

    leftovers = ledger.clean_up(delete)
    assert len(leftovers) == 4  # the second and the three after it
    assert {left.reason for left in leftovers} == {"not deleted (clean-up interrupted)"}


def test_a_leftover_is_gone_once_it_or_its_app_instance_is_deleted() -> None:
    endpoint = Leftover("endpoint", f"{USER} endpoint e1", "answered 500")
    user = Leftover("user", USER, "answered 500")
    account = Leftover("account", "acc-1", "answered 500")
    assert endpoint.deleted_by({INSTANCE}) and user.deleted_by({INSTANCE})
    assert user.deleted_by({USER}) and account.deleted_by({"acc-1"})
    assert not user.deleted_by({OTHER}) and not account.deleted_by({INSTANCE})
    # an ARN that merely contains a deleted one as text is not taken for it
    assert not Leftover("user", OTHER + "/user/x", "r").deleted_by({OTHER[:-4]})


def test_leftovers_travel_through_a_workers_report_whole(tmp_path) -> None:
    events = RunEvents()
    events.left_behind(
        [Leftover("user", USER, "answered 500"), Leftover("bot", OTHER, "gone?", reference=True)]
    )
    path = WorkerReport(events=events).dump(tmp_path, "gw0")
    (report,) = read_worker_reports(tmp_path)
    again = report.events
    assert again.leftovers == events.leftovers
    written = json.loads(path.read_text())["events"]["leftovers"]
    assert written[0] == {"kind": "user", "arn": USER, "reason": "answered 500"}
    assert written[1]["reference"] is True
    assert str(again.leftovers[1]).startswith("(reference) bot ")
    again.forget_deleted({INSTANCE})
    assert [left.kind for left in again.leftovers] == ["bot"]
