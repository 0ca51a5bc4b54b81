"""The state machines catch each family of sequence-level breaks, and their
reproducer replays the break.

Each case serves the emulator with one operation handler swapped for a
faulty one (a test-local fault: the emulator's own seams,
``EmulatorApp.identity_handlers`` / ``accounts_handlers``), runs the machine
that should notice, checks which named check fired and that the record
carries the step sequence, then runs the printed script against the faulty
target (the break shows) and against a healthy emulator (it does not).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test
from werkzeug.serving import WSGIRequestHandler, make_server

from chime_conformance.client import ChimeClient
from chime_conformance.emulator.app import EmulatorApp, EmulatorConfig
from chime_conformance.emulator.exceptions import ServiceFailureException
from chime_conformance.results import CheckRecord, ResultLog
from chime_conformance.verdicts import ContractBroken, Verifier
from conformance import scenario
from conformance.machines.accounts import AccountsMachine
from conformance.machines.app_instances import AppInstancesMachine
from conformance.machines.harness import Machine, MachineContext
from conformance.machines.members import MembersMachine

Handler = Callable[[Any, dict[str, Any]], Any]


@dataclass(frozen=True)
class Replayed:
    """One request of a replayed script: what it sent and what it got."""

    operation: str
    sent: Any
    status: int
    answer: Any


Replay = list[Replayed]


# --------------------------------------------------------------------------
# Faults: one handler of the emulator swapped for a broken one


def drop_next_token(original: Handler) -> Handler:
    def handler(backend: Any, members: dict[str, Any]) -> Any:
        body = original(backend, members)
        body.pop("NextToken", None)
        return body

    return handler


def lose_update(original: Handler) -> Handler:
    def handler(backend: Any, members: dict[str, Any]) -> Any:
        backend.app_instance(members["AppInstanceArn"])  # 404s stay right
        return {"AppInstanceArn": members["AppInstanceArn"]}

    return handler


def keep_deleted_user(original: Handler) -> Handler:
    def handler(backend: Any, members: dict[str, Any]) -> Any:
        backend.user(members["AppInstanceUserArn"])
        return None

    return handler


def no_cascade(original: Handler) -> Handler:
    def handler(backend: Any, members: dict[str, Any]) -> Any:
        arn = members["AppInstanceArn"]
        users = {k: u for k, u in backend.users.items() if u.app_instance_arn == arn}
        bots = {k: b for k, b in backend.bots.items() if b.app_instance_arn == arn}
        original(backend, members)
        backend.users.update(users)
        backend.bots.update(bots)

    return handler


def forget_client_request_tokens(original: Handler) -> Handler:
    def handler(backend: Any, members: dict[str, Any]) -> Any:
        body = original(backend, members)
        backend.idempotency.clear()
        return body

    return handler


def server_error(original: Handler) -> Handler:
    def handler(backend: Any, members: dict[str, Any]) -> Any:
        raise ServiceFailureException("injected: the tags store is down")

    return handler


def time_runs_backwards(original: Handler) -> Handler:
    """Every other read of an AppInstance answers its LastUpdatedTimestamp as
    if it was never updated (plausible on its own: never before creation)."""
    reads: dict[str, int] = {}  # per AppInstance, so each run sees the same answers

    def handler(backend: Any, members: dict[str, Any]) -> Any:
        body = original(backend, members)
        instance = body["AppInstance"]
        count = reads[instance["AppInstanceArn"]] = reads.get(instance["AppInstanceArn"], 0) + 1
        if count % 2 == 0:
            instance["LastUpdatedTimestamp"] = instance["CreatedTimestamp"]
        return body

    return handler


@dataclass(frozen=True)
class Fault:
    """A broken handler, the machine that must notice, the check that must
    fire, and what the replayed script must show on the faulty target."""

    operation: str
    wrap: Callable[[Handler], Handler]
    machine: type[Machine]
    check: str
    shows_break: Callable[[Replay], bool]
    # shrinking replays the machine hundreds of times: done where it is quick
    shrink: bool = False


def _last(replay: Replay, operation: str | None = None) -> Replayed:
    return next(r for r in reversed(replay) if operation in (None, r.operation))


def _answer(replayed: Replayed, *path: str) -> Any:
    value = replayed.answer
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _update_lost(replay: Replay) -> bool:
    written = _last(replay, "UpdateAppInstance").sent
    instance = _answer(_last(replay), "AppInstance") or {}
    return any(instance.get(key) != written[key] for key in ("Name", "Metadata"))


def _created_anew(replay: Replay) -> bool:
    creates = [r.answer.get("AppInstanceArn") for r in replay if r.operation == "CreateAppInstance"]
    return creates[-1] not in creates[:-1]


def _update_time_forgotten(replay: Replay) -> bool:
    instance = _answer(_last(replay), "AppInstance") or {}
    return instance["LastUpdatedTimestamp"] == instance["CreatedTimestamp"]


FAULTS = {
    "drop_next_token": Fault(
        "ListAccounts",
        drop_next_token,
        AccountsMachine,
        "list_matches_model",
        lambda replay: "NextToken" not in _last(replay).answer,
        shrink=True,
    ),
    "lose_update": Fault(
        "UpdateAppInstance", lose_update, AppInstancesMachine, "read_after_write", _update_lost
    ),
    "keep_deleted_user": Fault(
        "DeleteAppInstanceUser",
        keep_deleted_user,
        MembersMachine,
        "delete_is_final",
        lambda replay: _last(replay).status == 200,
    ),
    "no_cascade": Fault(
        "DeleteAppInstance",
        no_cascade,
        MembersMachine,
        "cascade",
        lambda replay: _last(replay).status == 200,
        shrink=True,
    ),
    "forget_client_request_tokens": Fault(
        "CreateAppInstance",
        forget_client_request_tokens,
        AppInstancesMachine,
        "idempotency",
        _created_anew,
    ),
    "server_error": Fault(
        "ListTagsForResource",
        server_error,
        AppInstancesMachine,
        "not_a_server_error",
        lambda replay: _last(replay).status == 500,
        shrink=True,
    ),
    "time_runs_backwards": Fault(
        "DescribeAppInstance",
        time_runs_backwards,
        AppInstancesMachine,
        "timestamps_monotonic",
        _update_time_forgotten,
    ),
}


# --------------------------------------------------------------------------
# Targets, machine runs, script replays


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@contextmanager
def serving(fault: Fault | None) -> Iterator[str]:
    """The emulator (with ``fault`` installed) on a free loopback port."""
    app = EmulatorApp(EmulatorConfig())
    if fault is not None:
        handlers = (
            app.accounts_handlers
            if fault.operation in app.accounts_handlers
            else app.identity_handlers
        )
        handlers[fault.operation] = fault.wrap(handlers[fault.operation])
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def run_machine(
    machine: type[Machine], url: str, *, shrink: bool
) -> tuple[ContractBroken, ResultLog]:
    results = ResultLog()
    verifier = Verifier(results=results, test_id="machine", account_id="123456789012")
    context = MachineContext(client=ChimeClient(url), verifier=verifier, run_id="cctest")
    quick = settings(
        max_examples=40,
        stateful_step_count=10,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate, Phase.shrink] if shrink else [Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    with pytest.raises(ContractBroken) as broken:
        run_state_machine_as_test(machine.bind(context), settings=quick)
    return broken.value, results


def failure_of(results: ResultLog, check: str, broken: BaseException) -> CheckRecord:
    """The recorded failure of ``check`` that the run raised in the end (while
    shrinking, other examples may have failed the same check on other operations)."""
    failures = [r for r in results.records() if r.outcome == "fail" and r.check == check]
    assert failures, (
        f"no failure of {check}: {[r.check for r in results.records() if r.outcome == 'fail']}"
    )
    raised = [r for r in failures if r.reproducer_python and r.reproducer_python in str(broken)]
    return raised[-1] if raised else failures[-1]


def replay(script: str, url: str) -> Replay:
    """Run the reproducer against ``url``; the (status, answer) of each request."""
    base = re.search(r"'(http://127\.0\.0\.1:\d+)", script).group(1)  # type: ignore[union-attr]
    environment = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    environment.pop("AWS_SESSION_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-c", script.replace(base, url)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=True,
    )
    return _parse_replay(done.stdout)


def _parse_replay(output: str) -> Replay:
    lines = output.splitlines()
    return [
        Replayed(
            operation=request.split(": ", 1)[0].split(" ", 1)[1],
            sent=_json(sent.split("sent:", 1)[1]),
            status=int(request.rsplit("-> ", 1)[1]),
            answer=_json(got.split("got:", 1)[1]),
        )
        for request, sent, got in zip(lines[::3], lines[1::3], lines[2::3], strict=True)
    ]


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text.strip() else {}
    except ValueError:
        return text.strip()


# --------------------------------------------------------------------------
# The proofs


@pytest.fixture(autouse=True)
def quick_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    # a deletion the fault never performs must not be awaited 20 s per example
    monkeypatch.setattr(scenario, "EVENTUAL_SECONDS", 0.1)
    monkeypatch.setattr(scenario, "POLL_SECONDS", 0.02)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FAULTS))
def test_a_machine_catches_the_fault_and_its_script_replays_it(name: str) -> None:
    fault = FAULTS[name]
    with serving(fault) as faulty_url:
        broken, results = run_machine(fault.machine, faulty_url, shrink=fault.shrink)
        assert f"[{fault.check}]" in str(broken)
        assert "Steps:\n  state." in str(broken)
        record = failure_of(results, fault.check, broken)
        assert record.steps and all(line.startswith("state.") for line in record.steps)
        script = record.reproducer_python
        assert script is not None and script in str(broken)
        on_faulty = replay(script, faulty_url)
    with serving(None) as healthy_url:
        on_healthy = replay(script, healthy_url)
    assert fault.shows_break(on_faulty), on_faulty[-3:]
    assert not fault.shows_break(on_healthy), on_healthy[-3:]


def test_the_machines_pass_on_the_healthy_emulator() -> None:
    """The same settings find nothing on the emulator without a fault."""
    quick = settings(
        max_examples=5,
        stateful_step_count=10,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    with serving(None) as url:
        for machine in (AppInstancesMachine, MembersMachine, AccountsMachine):
            verifier = Verifier(results=ResultLog(), test_id="machine", account_id="123456789012")
            context = MachineContext(client=ChimeClient(url), verifier=verifier, run_id="cctest")
            run_state_machine_as_test(machine.bind(context), settings=quick)
