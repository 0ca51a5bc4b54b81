"""Nothing left behind: the ledger writes a create down before it is sent,
and the end-of-run sweep finds the run's resources through the List
operations (by name prefix and run tag), deletes them children first, and
says exactly what it could not delete, with its ARN. Ctrl-C (the first, in
flight; a second, during the sweep) never hides a leftover."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from chime_conformance.emulator.server import running_emulator
from chime_conformance.run.ledger import RUN_TAG_KEY, Ledger
from chime_conformance.run.sweep import sweep
from chime_conformance.wire.client import ChimeClient
from tests.support import pytest_forkserver as forked
from tests.support.misbehaving_targets import ProxyPlan, proxy

ROOT = Path(__file__).resolve().parents[2]
RUN_ID = "ccsweeptest"
PINPOINT_ARN = (
    "arn:aws:mobiletargeting:us-east-1:123456789012:apps/0123456789abcdef0123456789abcdef"
)


def app_instances(client: ChimeClient) -> list[str]:
    body = client.call("ListAppInstances", {"MaxResults": 50}).json
    return [item["AppInstanceArn"] for item in body["AppInstances"]]


def accounts(client: ChimeClient) -> list[str]:
    body = client.call("ListAccounts", {"MaxResults": 50}).json
    return [item["AccountId"] for item in body["Accounts"]]


def a_populated_instance(client: ChimeClient, name: str, tags: list[dict[str, str]]) -> str:
    members = {"Name": name, "ClientRequestToken": name, **({"Tags": tags} if tags else {})}
    arn = client.call("CreateAppInstance", members).json["AppInstanceArn"]
    user = client.call(
        "CreateAppInstanceUser",
        {
            "AppInstanceArn": arn,
            "AppInstanceUserId": f"{name}-u",
            "Name": "u",
            "ClientRequestToken": f"{name}-t",
        },
    ).json["AppInstanceUserArn"]
    client.call("CreateAppInstanceAdmin", {"AppInstanceArn": arn, "AppInstanceAdminArn": user})
    client.call(
        "RegisterAppInstanceUserEndpoint",
        {
            "AppInstanceUserArn": user,
            "Type": "GCM",
            "ResourceArn": PINPOINT_ARN,
            "EndpointAttributes": {"DeviceToken": "d"},
            "ClientRequestToken": f"{name}-e",
        },
    )
    return str(arn)


def test_the_sweep_finds_the_runs_resources_by_name_and_tag_and_only_them() -> None:
    with running_emulator() as emulator, ChimeClient(emulator.url) as client:
        ledger = Ledger()  # nothing seen: as if every answer was lost to Ctrl-C
        a_populated_instance(client, f"{RUN_ID}-main-app1", [])
        a_populated_instance(client, "any-name", [{"Key": RUN_TAG_KEY, "Value": RUN_ID}])
        other = a_populated_instance(client, "someone-else", [{"Key": RUN_TAG_KEY, "Value": "x"}])
        client.call("CreateAccount", {"Name": f"{RUN_ID}-main-account"})
        ledger.intend("CreateAppInstance", {})
        assert ledger.pending() == {"CreateAppInstance": 1}

        leftovers = sweep(client, ledger, RUN_ID)

        assert leftovers == []
        assert app_instances(client) == [other]
        assert all(a for a in accounts(client)) and len(accounts(client)) == 0


def test_a_shard_sweeps_only_its_own_names_never_by_the_shared_tag() -> None:
    with running_emulator() as emulator, ChimeClient(emulator.url) as client:
        a_populated_instance(client, f"{RUN_ID}-s2gw0-app1", [])
        a_populated_instance(client, f"{RUN_ID}-s2main-app2", [])
        kept = {
            a_populated_instance(client, f"{RUN_ID}-s20gw0-app3", []),  # shard 20, not 2
            a_populated_instance(client, f"{RUN_ID}-s1main-app4", []),
            a_populated_instance(client, "tagged", [{"Key": RUN_TAG_KEY, "Value": RUN_ID}]),
        }
        assert sweep(client, Ledger(), RUN_ID, shard="s2") == []
        assert set(app_instances(client)) == kept


class InterruptedAfter:
    """The client, until its n-th delete: then a second Ctrl-C arrives."""

    def __init__(self, client: ChimeClient, deletes: int) -> None:
        self.client, self.deletes = client, deletes

    def call(self, operation: str, members: dict[str, Any]) -> Any:
        if operation.startswith(("Delete", "Deregister")):
            self.deletes -= 1
            if self.deletes < 0:
                raise KeyboardInterrupt
        return self.client.call(operation, members)


def test_a_second_ctrl_c_stops_the_sweep_and_it_says_what_remains() -> None:
    with running_emulator() as emulator, ChimeClient(emulator.url) as client:
        first = a_populated_instance(client, f"{RUN_ID}-main-app1", [])
        second = a_populated_instance(client, f"{RUN_ID}-main-app2", [])
        leftovers = sweep(InterruptedAfter(client, 2), Ledger(), RUN_ID)  # type: ignore[arg-type]
        remaining = set(app_instances(client))
    assert remaining == {first, second} or remaining == {second}
    assert {leftover.arn for leftover in leftovers} >= remaining
    assert all("interrupted" in leftover.reason for leftover in leftovers)


def test_a_create_is_written_down_before_it_is_sent() -> None:
    with running_emulator() as emulator:
        ledger = Ledger()
        seen: list[dict[str, int]] = []
        client = ChimeClient(
            emulator.url,
            before_send=lambda op, members: (
                ledger.intend(op, members),
                seen.append(ledger.pending()),
            ),
            observer=ledger.observe,
        )
        client.call("CreateAppInstance", {"Name": "app", "ClientRequestToken": "token-1"})
    assert seen == [{"CreateAppInstance": 1}]
    assert ledger.pending() == {} and len(ledger.live()) == 1


# --------------------------------------------------------------------------
# Ctrl-C against a real run


def start_suite(url: str, report_dir: Path, *, keyword: str = "") -> forked.ForkedRun:
    """The suite in a process of its own (forked: tests/support/pytest_forkserver.py)."""
    command = [
        sys.executable, "-m", "pytest", "conformance/test_lifecycle.py",
        "--target-url", url, "--hypothesis-profile", "ci", "--report-dir", str(report_dir),
        "-p", "no:cacheprovider", "-q", *(["-k", keyword] if keyword else []),
    ]  # fmt: skip
    return forked.popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def interrupted(process: forked.ForkedRun) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=120)
    return process.returncode, output


def what_remains(url: str) -> list[str]:
    with ChimeClient(url) as client:
        return app_instances(client) + accounts(client)


def assert_nothing_left_unsaid(remaining: list[str], output: str) -> None:
    """Either the target holds nothing of the run, or the run printed each leftover."""
    unsaid = [item for item in remaining if item not in output]
    assert not unsaid, f"left behind and not reported: {unsaid}\n{output[-3000:]}"


def test_ctrl_c_while_a_create_is_in_flight_leaves_nothing_behind(tmp_path: Path) -> None:
    plan = ProxyPlan(hold_create_path="/app-instances")
    with running_emulator() as emulator, proxy(emulator.url, plan) as url:
        process = start_suite(url, tmp_path)
        try:
            assert plan.held.wait(90), "no CreateAppInstance reached the proxy"
            code, output = interrupted(process)
        finally:
            process.kill()
        remaining = what_remains(emulator.url)
    assert code == 2, output
    assert_nothing_left_unsaid(remaining, output)
    print(f"in-flight create: exit {code}, {len(remaining)} left (each reported)")


@pytest.mark.parametrize(
    "seed", [1, *(pytest.param(seed, marks=pytest.mark.deep) for seed in (2, 3))]
)
def test_ctrl_c_at_a_random_moment_leaves_nothing_behind(seed: int, tmp_path: Path) -> None:
    # the moment, counted in requests: the slice sends about 190, so the run is still going
    after = random.Random(seed).randint(1, 120)
    plan = ProxyPlan()
    with running_emulator() as emulator, proxy(emulator.url, plan) as url:
        process = start_suite(url, tmp_path)
        try:
            deadline = time.monotonic() + 90
            while plan.count < after and time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.01)
            assert process.poll() is None, f"the run ended before its request {after}"
            assert plan.count >= after, f"the run sent no request {after} within 90 s"
            code, output = interrupted(process)
        finally:
            process.kill()
        remaining = what_remains(emulator.url)
    assert code == 2, output
    assert_nothing_left_unsaid(remaining, output)
    print(f"SIGINT at request {after}: exit {code}, {len(remaining)} left (each reported)")


def test_sigterm_is_handled_as_ctrl_c(tmp_path: Path) -> None:
    plan = ProxyPlan(hold_create_path="/app-instances")
    with running_emulator() as emulator, proxy(emulator.url, plan) as url:
        process = start_suite(url, tmp_path)
        try:
            assert plan.held.wait(90)
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=120)
        finally:
            process.kill()
        remaining = what_remains(emulator.url)
    assert process.returncode == 2, output
    assert_nothing_left_unsaid(remaining, output)
    assert os.name == "posix"


def test_what_could_not_be_deleted_is_printed_and_recorded_with_its_arn(tmp_path: Path) -> None:
    plan = ProxyPlan(refuse_deletes=True)
    with running_emulator() as emulator, proxy(emulator.url, plan) as url:
        process = start_suite(url, tmp_path, keyword="reads_back_as_created")
        output, _ = process.communicate(timeout=120)
        remaining = what_remains(emulator.url)
    document = json.loads((tmp_path / "results.json").read_text())
    recorded = {leftover["arn"] for leftover in document["leftovers"]}
    assert remaining and set(remaining) <= recorded, (remaining, recorded)
    assert "resources of this run left behind" in output
    assert_nothing_left_unsaid(remaining, output)
    assert all("answered 500" in leftover["reason"] for leftover in document["leftovers"])


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_ctrl_c_while_the_reports_are_written_still_writes_them_whole(
    signal_name: str, tmp_path: Path
) -> None:
    """The signal lands after the tests and the sweep, as the reports are
    written (tests/support/interrupt_probe.py): exit 2, no traceback, reports whole."""
    with running_emulator() as emulator:
        done = forked.run(
            [sys.executable, "-m", "pytest", "conformance/test_lifecycle.py",
             "-k", "reads_back_as_created", "--target-url", emulator.url,
             "--hypothesis-profile", "ci", "--report-dir", str(tmp_path),
             "-p", "no:cacheprovider", "-p", "tests.support.interrupt_probe", "-q"],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
            env={**os.environ, "CHIME_INTERRUPT_PROBE": signal_name},
        )  # fmt: skip
        remaining = what_remains(emulator.url)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output[-3000:]
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert any(cell["passed"] for cell in results["matrix"])  # what ran is reported
    assert (tmp_path / "compliance.html").is_file()
    assert_nothing_left_unsaid(remaining, output)
