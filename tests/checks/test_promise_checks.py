"""The promise judges (chime_conformance/checks/overlap.py, isolation.py, lifecycle.py) tell allowed outcomes
from broken ones; overlapping requests really overlap; a state machine's
reproducer sends them together again; and the race faults break the rules only
under overlap (one request at a time they are served right)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import pytest

from chime_conformance.checks import isolation, lifecycle, overlap
from chime_conformance.emulator.server import running_emulator
from chime_conformance.wire import overlapping
from chime_conformance.wire.client import ChimeClient
from chime_conformance.wire.exchange import Exchange, ReceivedResponse, SentRequest
from conformance.machines.reproducer import sequence_script

MISSING = frozenset({404})


def answer(status: int, body: bytes = b"", operation: str = "CreateAppInstanceUser") -> Exchange:
    return Exchange(
        request=SentRequest("POST", "http://127.0.0.1:1/app-instance-users", {}, b"{}"),
        response=ReceivedResponse(status, {"Content-Type": "application/json"}, body),
        elapsed=0.01,
        operation=operation,
    )


# -- the judges ----------------------------------------------------------------


def test_overlapping_creates_of_one_id_allow_one_success() -> None:
    judge = overlap.judge_overlapping_creates
    assert judge([answer(201), answer(409), answer(409)], success=201, what="id").held
    both = judge([answer(201), answer(201), answer(409)], success=201, what="id")
    assert not both.held and both.received == "201, 201, 409"
    assert not judge([answer(409), answer(409)], success=201, what="id").held
    assert not judge([answer(201), answer(500)], success=201, what="id").held


def test_overlapping_replays_name_one_resource() -> None:
    judge = overlap.judge_overlapping_replays
    same = [{"Arn": "a"}, {"Arn": "a"}]
    assert judge([answer(201), answer(201)], same, success=201, what="x").held
    assert not judge(
        [answer(201), answer(201)], [{"Arn": "a"}, {"Arn": "b"}], success=201, what="x"
    ).held
    assert not judge([answer(201), answer(409)], same, success=201, what="x").held


def test_overlapping_tags_keep_every_key() -> None:
    judge = overlap.judge_overlapping_tags
    sent = {"a": "1", "b": "2"}
    assert judge([answer(204), answer(204)], sent, {"a": "1", "b": "2", "run": "r"}).held
    lost = judge([answer(204), answer(204)], sent, {"b": "2"})
    assert not lost.held and "['a']" in lost.received


def test_overlapping_deletes_allow_several_successes_only_when_lenient() -> None:
    judge = overlap.judge_overlapping_deletes
    one = [answer(204), answer(404), answer(404)]
    several = [answer(204), answer(204), answer(404)]
    assert judge(one, missing=MISSING, strict=True).held
    assert not judge(several, missing=MISSING, strict=True).held
    assert judge(several, missing=MISSING, strict=False).held
    assert not judge([answer(404), answer(404)], missing=MISSING, strict=False).held
    assert not judge([answer(204), answer(409)], missing=MISSING, strict=False).held


def test_a_create_during_its_parents_delete_may_not_outlive_it() -> None:
    judge = overlap.judge_create_during_delete
    assert judge(answer(201), answer(204), answer(404), missing=MISSING).held
    assert judge(answer(404), answer(204), None, missing=MISSING).held
    orphan = judge(answer(201), answer(204), answer(200), missing=MISSING)
    assert not orphan.held and "after the deletion window 200" in orphan.received
    assert not judge(answer(500), answer(204), None, missing=MISSING).held


def test_a_read_leaking_another_resources_values_is_told_apart() -> None:
    own = isolation.fingerprints({"RetentionDays": 11, "Name": "run-a-name-000001"})
    other = isolation.fingerprints({"RetentionDays": 22, "Name": "run-b-name-000002"})
    assert not isolation.leaked_values({"Settings": {"RetentionDays": 11}}, own, other)
    assert isolation.leaked_values({"Settings": {"RetentionDays": 22}}, own, other) == [
        "RetentionDays=22"
    ]
    # a long value is told apart under any member; a short one only under its own
    assert isolation.leaked_values({"Users": [{"Arn": "run-b-name-000002"}]}, own, other)
    assert not isolation.leaked_values({"Other": 22}, own, other)


def test_an_answer_differing_from_the_read_is_named() -> None:
    differences = lifecycle.answer_differences(
        {"Account": {"Name": "old"}},
        {"Account": {"Name": "new"}},
        [(("Account",), ("Account",))],
    )
    assert differences == ["Account: answered {'Name': 'old'}, read {'Name': 'new'}"]
    assert not lifecycle.answer_differences(
        {"Arn": "a"}, {"Record": {"Arn": "a"}}, [(("Arn",), ("Record", "Arn"))]
    )


# -- overlapping requests ------------------------------------------------------


def test_requests_sent_together_are_in_flight_at_once() -> None:
    in_flight, most = 0, 0
    lock = threading.Lock()

    def call(operation: str, members: Mapping[str, Any]) -> Exchange:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        time.sleep(0.05)
        with lock:
            in_flight -= 1
        return answer(200, operation=f"{operation}{members['n']}")

    got = overlapping.send_together(call, [("Op", {"n": n}) for n in range(4)])
    assert most == 4
    assert [e.operation for e in got] == ["Op0", "Op1", "Op2", "Op3"]  # in the order given


def test_sending_one_or_too_many_together_is_refused() -> None:
    with pytest.raises(ValueError, match="2 to"):
        overlapping.send_together(lambda o, m: answer(200), [("Op", {})])
    with pytest.raises(ValueError, match="2 to"):
        overlapping.send_together(lambda o, m: answer(200), [("Op", {})] * 9)


def test_a_reproducer_sends_requests_that_overlapped_together_again() -> None:
    exchanges = [answer(201) for _ in range(4)]
    groups = {id(exchanges[1]): 1, id(exchanges[2]): 1}
    script = sequence_script(
        exchanges, prefix="p", steps=["state.x()"], broken="b", together=lambda e: groups.get(id(e))
    )
    body = script.split("return list(pool.map(released, sends))", 1)[1]
    assert body.count("send_together(") == 1
    assert body.count("together=1") == 2
    compile(script, "reproducer", "exec")


# -- the race faults break only what overlaps ----------------------------------


def _user(arn: str, user_id: str, token: str) -> dict[str, str]:
    return {
        "AppInstanceArn": arn,
        "AppInstanceUserId": user_id,
        "Name": user_id,
        "ClientRequestToken": token,
    }


def test_a_race_fault_serves_one_request_at_a_time_right() -> None:
    faults = ("overlapping_user_creates_both_succeed",)
    with running_emulator(faults=faults, allow_faults=True) as emulator:
        client = ChimeClient(emulator.url)
        arn = client.call("CreateAppInstance", {"Name": "a", "ClientRequestToken": "t0"}).json[
            "AppInstanceArn"
        ]
        first = client.call("CreateAppInstanceUser", _user(arn, "u1", "t1"))
        second = client.call("CreateAppInstanceUser", _user(arn, "u1", "t2"))
        assert (first.status, second.status) == (201, 409)
        together = overlapping.send_together(
            client.call,
            [("CreateAppInstanceUser", _user(arn, "u2", f"fresh{n}")) for n in range(3)],
        )
        assert [e.status for e in together] == [201, 201, 201]  # the race it stages


def test_the_token_race_fault_replays_one_at_a_time_right() -> None:
    faults = ("overlapping_token_replays_create_twice",)
    with running_emulator(faults=faults, allow_faults=True) as emulator:
        client = ChimeClient(emulator.url)
        request = {"Name": "a", "ClientRequestToken": "same"}
        first, again = (client.call("CreateAppInstance", request) for _ in range(2))
        assert first.json == again.json
        together = overlapping.send_together(
            client.call, [("CreateAppInstance", {"Name": "b", "ClientRequestToken": "new"})] * 3
        )
        assert len({e.json["AppInstanceArn"] for e in together}) == 3
