"""schemathesis' cases travel the suite's one transport: the client signs them,
retries a throttled answer, stops at a tripped breaker and tells the ledger,
exactly as for its own calls; no second retry loop."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import schemathesis

from chime_conformance.contract import spec
from chime_conformance.wire.client import (
    GONE_AFTER_UNANSWERED,
    ChimeClient,
    RequestTimedOut,
    TargetGone,
    TargetThrottled,
)
from conformance._schemathesis_harness import ClientTarget, load_schema
from tests.wire.test_client import (
    APP_INSTANCE_ARN,
    ScriptedServer,
    make_client,
    recomputed_authorization,
)

SCHEMAS = {api: load_schema(api) for api in spec.APIS}


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    yield scripted
    scripted.stop()


def case_of(operation: str, **parts: Any) -> schemathesis.Case:
    op = spec.operation(operation)
    return SCHEMAS[op.api][op.spec_path_key][op.method].Case(**parts)


def describe_case() -> schemathesis.Case:
    return case_of("DescribeAppInstance", path_parameters={"appInstanceArn": APP_INSTANCE_ARN})


class Told:
    """What the client tells its observers (the ledger's two hooks)."""

    def __init__(self) -> None:
        self.before: list[tuple[str, dict[str, Any]]] = []
        self.after: list[tuple[str, dict[str, Any], int]] = []

    def client(self, url: str) -> ChimeClient:
        return make_client(url, before_send=self.intend, observer=self.observe)

    def intend(self, operation: str, members: Mapping[str, Any]) -> None:
        self.before.append((operation, dict(members)))

    def observe(self, operation: str, members: Mapping[str, Any], status: int, body: Any) -> None:
        self.after.append((operation, dict(members), status))


def test_a_case_is_signed_by_the_client_and_told_to_the_ledger(server: ScriptedServer) -> None:
    told = Told()
    target = ClientTarget(told.client(server.url))
    server.script = [(201, {"Content-Type": "application/json"}, b'{"AppInstanceArn": "a"}')]
    case = case_of("CreateAppInstance", body={"Name": "n", "ClientRequestToken": "t"})

    response = target.call(case)

    received = server.received[0]
    assert (received.method, received.target) == ("POST", "/app-instances")
    assert received.body == b'{"Name": "n", "ClientRequestToken": "t"}'
    assert received.headers["authorization"] == recomputed_authorization(received, server.url)
    assert response.status_code == 201 and response.json() == {"AppInstanceArn": "a"}
    members = {"Name": "n", "ClientRequestToken": "t"}
    assert told.before == [("CreateAppInstance", members)]
    assert told.after == [("CreateAppInstance", members, 201)]
    exchange = target.reproduce(case, response)
    assert exchange.operation == "CreateAppInstance" and exchange.status == 201
    assert exchange.request.url == server.url + "/app-instances"


def test_a_throttled_case_is_retried_by_the_client(server: ScriptedServer) -> None:
    server.script = [(429, {}, b""), (503, {"Retry-After": "0"}, b""), (200, {}, b"{}")]
    target = ClientTarget(make_client(server.url))

    response = target.call(describe_case())

    assert response.status_code == 200 and len(server.received) == 3
    assert len(target.reproduce(describe_case(), response).retries) == 2


def test_a_case_still_throttled_after_the_retries_is_not_judged(server: ScriptedServer) -> None:
    server.script = [(429, {}, b"")] * 20
    client = make_client(server.url)

    with pytest.raises(TargetThrottled) as raised:
        ClientTarget(client).call(describe_case())

    assert len(server.received) == client.retry.max_retries + 1  # one loop: the client's
    assert raised.value.exchange is not None and raised.value.exchange.status == 429


def test_a_case_after_a_dead_target_fails_at_once(server: ScriptedServer) -> None:
    server.script = [("stall", 5.0)] * GONE_AFTER_UNANSWERED
    target = ClientTarget(make_client(server.url))
    for _ in range(GONE_AFTER_UNANSWERED - 1):  # one lost request fails one case
        with pytest.raises(RequestTimedOut):
            target.call(describe_case())
    with pytest.raises(TargetGone):  # the last of three in a row: gone
        target.call(describe_case())
    with pytest.raises(TargetGone):
        target.call(describe_case())
    assert len(server.received) == GONE_AFTER_UNANSWERED  # gone: not sent
