"""A lost answer never leaves a resource behind: a create retried after a
dropped connection is reconciled first (Ledger.reconcile), against the
emulator behind a proxy that loses the answer to each distinct CreateAccount."""

from __future__ import annotations

import pytest

from chime_conformance.emulator.server import running_emulator
from chime_conformance.run.ledger import Ledger
from chime_conformance.wire.client import ChimeClient
from tests.support.misbehaving_targets import ProxyPlan, left_on, proxy


def _create_accounts(reconcile: bool, names: list[str]) -> tuple[list[str], Ledger, ProxyPlan]:
    plan = ProxyPlan(lose_create_account=True)
    ledger = Ledger()
    with running_emulator() as emulator, proxy(emulator.url, plan) as url:
        client = ChimeClient(
            url,
            observer=ledger.observe,
            before_send=ledger.intend,
            reconcile=ledger.reconcile if reconcile else None,
            sleep=lambda _: None,
        )
        with client:
            for name in names:
                assert client.call("CreateAccount", {"Name": name}).status == 201
        return left_on(emulator.url), ledger, plan


def test_without_reconciling_a_retried_create_leaves_a_duplicate() -> None:
    left, ledger, plan = _create_accounts(False, ["a-1", "a-2"])
    assert plan.lost == 2
    assert len(left) == 4 and len(ledger.live()) == 2  # two the ledger never saw


def test_a_create_whose_answer_was_lost_is_found_by_name_and_deleted_before_the_retry() -> None:
    left, ledger, plan = _create_accounts(True, ["a-1", "a-2", "a-1"])
    assert plan.lost == 2  # the second "a-1" is not lost: that name was seen
    # only what the ledger saw is left (the sweep deletes it), nothing it did not
    assert len(left) == len(ledger.live()) == 3
    assert {line.split()[1] for line in ledger.reconciled}.isdisjoint(
        {r.members["AccountId"] for r in ledger.live()}
    )
    assert [line.split("(")[1].split(")")[0] for line in ledger.reconciled] == ["'a-1'", "'a-2'"]


@pytest.mark.parametrize("operation", ["app_instance", "account"])
def test_a_shared_resource_whose_create_answer_is_unreadable_is_made_once(operation: str) -> None:
    """The set-up's create answered 2xx with a garbled body: sent again (the
    same token; an account reconciled by name first), one resource results."""
    from conformance.resources import Resources

    plan = ProxyPlan(garble_first=1)
    ledger = Ledger()
    with running_emulator() as emulator, proxy(emulator.url, plan) as url:
        client = ChimeClient(
            url, observer=ledger.observe, before_send=ledger.intend, reconcile=ledger.reconcile
        )
        with client:
            made = getattr(Resources(client, "r21"), operation)()
        left = left_on(emulator.url)
    assert plan.garbled == 1
    assert len(left) == 1 and made in left[0]
    assert len(ledger.live()) == 1  # the sweep deletes it
    assert len(ledger.reconciled) == (1 if operation == "account" else 0)


def test_a_shared_resource_that_never_gets_a_readable_answer_is_one_sentence() -> None:
    from conformance.resources import PREREQUISITE_ATTEMPTS, PrerequisiteFailed, Resources

    plan = ProxyPlan(garble_share=1.0)
    with (
        running_emulator() as emulator,
        proxy(emulator.url, plan) as url,
        ChimeClient(url) as client,
        pytest.raises(PrerequisiteFailed, match="AppInstance"),
    ):
        Resources(client, "r21").app_instance()
    assert plan.count == plan.garbled == PREREQUISITE_ATTEMPTS


def test_a_generated_name_carries_the_run_prefix_unless_that_changes_the_request() -> None:
    """What the sweep finds a create by when its answer was lost: the run's
    prefix at the start of the name (conformance.resources.stamped), wherever
    it leaves the request's verdict as it was."""
    from chime_conformance.contract import spec
    from conformance.resources import stamped

    create = spec.operation("CreateAccount")
    limit = create.input_schema["properties"]["Name"]["maxLength"]
    assert stamped(create, {"Name": "Team é"}, "run1-gw0") == {"Name": "run1-gw0-Team é"}
    # at its length bound, over it, or blank (the pattern): as drawn
    for name in ("x" * limit, "x" * (limit + 1), " "):
        assert stamped(create, {"Name": name}, "run1-gw0") == {"Name": name}
    # not a create, or no Name: untouched
    update = spec.operation("UpdateAccount")
    assert stamped(update, {"AccountId": "a", "Name": "n"}, "p") == {"AccountId": "a", "Name": "n"}
    app_instance = spec.operation("CreateAppInstance")
    assert stamped(app_instance, {"Name": "chat"}, "r-main")["Name"] == "r-main-chat"


def test_a_scenario_takes_a_lost_answer_as_done_only_where_that_is_what_it_asked() -> None:
    """Scenario.ok: a delete whose retry found nothing, or an admin's create
    (its request names it in full) whose retry found it made, did what was
    asked; a create whose answer names what it made (an ARN the service
    issues) cannot be settled so and stays no verdict. Scenario.attempt: a
    refusal the caller expects is judged, lost answer or not."""
    from chime_conformance.run.recorder import Verifier
    from chime_conformance.run.results import ResultLog
    from chime_conformance.wire.retries import OutcomeUnknown
    from conformance.scenario import Scenario, lost_attempt_did_what_was_asked

    class LosingClient:
        def call(self, operation: str, members: dict[str, object]) -> object:
            unknown = OutcomeUnknown(operation, 404 if operation.startswith("De") else 409)
            unknown.exchange = f"the retry's answer to {operation}"
            raise unknown

    results = ResultLog()
    talk = Scenario(LosingClient(), Verifier(results=results, test_id="lost"))  # type: ignore[arg-type]
    assert talk.ok("DeleteAppInstance", {"AppInstanceArn": "a"}) == {}
    assert talk.ok("DeregisterAppInstanceUserEndpoint", {}) == {}
    assert talk.ok("CreateAppInstanceAdmin", {}) == {}
    for create in ("CreateAppInstance", "CreateAppInstanceUser", "CreateAccount"):
        with pytest.raises(OutcomeUnknown):
            talk.ok(create, {})
    assert (
        talk.attempt("CreateAppInstanceUser", {}) == "the retry's answer to CreateAppInstanceUser"
    )
    assert list(results.records()) == []  # nothing judged: no verdict on a lost answer's retry
    assert not lost_attempt_did_what_was_asked("UpdateAppInstance")
    assert not lost_attempt_did_what_was_asked("TagResource")
