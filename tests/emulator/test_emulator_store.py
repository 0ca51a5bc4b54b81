"""The durable store: no acknowledged write is lost, whatever kills the emulator,
and a store, snapshot or address that cannot be used is refused at start in one
sentence (exit code 2)."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from chime_conformance.emulator.server import running_emulator
from chime_conformance.emulator.state import StateFileError
from chime_conformance.emulator.store import open_store
from tests.support.emulator_helpers import (
    MODULE_COMMAND,
    EmulatorProcess,
    clients,
    plain_request,
    run_emulator_expecting_failure,
)

ACCOUNT, REGION = "123456789012", "us-east-1"


def all_users(identity: Any, instance: str) -> list[str]:
    """Every user of ``instance``, by a full pagination walk (duplicates kept)."""
    found: list[str] = []
    page = identity.list_app_instance_users(AppInstanceArn=instance, MaxResults=50)
    found += [u["AppInstanceUserArn"] for u in page["AppInstanceUsers"]]
    while page.get("NextToken"):
        page = identity.list_app_instance_users(
            AppInstanceArn=instance, MaxResults=50, NextToken=page["NextToken"]
        )
        found += [u["AppInstanceUserArn"] for u in page["AppInstanceUsers"]]
    return found


# --------------------------------------------------------------------------
# SIGKILL during a burst of writes


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_during_a_write_burst_loses_no_acknowledged_create(
    tmp_path: Path, seed: int
) -> None:
    store = tmp_path / "state.sqlite"
    emulator = EmulatorProcess("--state-file", str(store), command=MODULE_COMMAND)
    identity, _ = clients(emulator.url)
    instance = identity.create_app_instance(Name="burst")["AppInstanceArn"]
    acknowledged: list[str] = []
    stop = threading.Event()

    def create(worker: int) -> None:
        client, _ = clients(emulator.url)
        for i in range(10_000):
            if stop.is_set():
                return
            try:
                arn = client.create_app_instance_user(
                    AppInstanceArn=instance, AppInstanceUserId=f"w{worker}-{i}", Name="n"
                )["AppInstanceUserArn"]
            except Exception:  # the kill: no answer, so not acknowledged
                return
            acknowledged.append(arn)

    workers = [threading.Thread(target=create, args=(w,)) for w in range(4)]
    for worker in workers:
        worker.start()
    # kill points spread over the burst: early, middle, late (by seed), jittered
    deadline = time.monotonic() + 10
    target = (5, 100, 250)[seed - 1] + random.Random(seed).randint(0, 20)
    while len(acknowledged) < target and time.monotonic() < deadline:
        time.sleep(0.005)
    emulator.process.send_signal(signal.SIGKILL)
    emulator.process.wait(timeout=10)
    stop.set()
    for worker in workers:
        worker.join(timeout=30)
    assert len(acknowledged) >= target, "the burst never got going"

    restarted = EmulatorProcess("--state-file", str(store), command=MODULE_COMMAND)
    try:
        identity, _ = clients(restarted.url)
        listed = all_users(identity, instance)
    finally:
        code, log = restarted.stop()
    assert code == 0, log
    assert len(listed) == len(set(listed)), "a user is listed twice"
    lost = set(acknowledged) - set(listed)
    assert not lost, f"{len(lost)} of {len(acknowledged)} acknowledged creates lost"
    # committed but never answered: at most one per worker in flight at the kill
    assert len(set(listed) - set(acknowledged)) <= len(workers)
    # no temporary file of ours, and SQLite's own -wal/-shm are gone after a clean stop
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.sqlite"]


# --------------------------------------------------------------------------
# Concurrency: every acknowledged create listed exactly once, nothing deleted listed


def test_concurrent_creates_lists_and_deletes_stay_consistent_and_durable(
    tmp_path: Path,
) -> None:
    store = tmp_path / "state.sqlite"
    created: set[str] = set()
    deleted: set[str] = set()
    problems: list[str] = []
    guard = threading.Lock()
    with running_emulator(state_file=str(store)) as emulator:
        identity, _ = clients(emulator.url)
        instance = identity.create_app_instance(Name="busy")["AppInstanceArn"]
        # until enough creates prove something (a count, not a time: a loaded machine
        # makes fewer per second), bounded for a machine that makes none
        deadline = time.monotonic() + 60

        def mixed(worker: int) -> None:
            client, _ = clients(emulator.url)
            mine: list[str] = []
            rng = random.Random(worker)
            for i in range(10_000):
                if time.monotonic() > deadline or len(created) >= 120:
                    return
                roll = rng.random()
                if roll < 0.6 or not mine:
                    arn = client.create_app_instance_user(
                        AppInstanceArn=instance, AppInstanceUserId=f"c{worker}-{i}", Name="n"
                    )["AppInstanceUserArn"]
                    mine.append(arn)
                    with guard:
                        created.add(arn)
                elif roll < 0.8:
                    arn = mine.pop(rng.randrange(len(mine)))
                    client.delete_app_instance_user(AppInstanceUserArn=arn)
                    with guard:
                        deleted.add(arn)
                else:
                    with guard:
                        deleted_before = set(deleted)
                    listed = all_users(client, instance)
                    if len(listed) != len(set(listed)):
                        problems.append("a walk listed a user twice")
                    # deleted (and acknowledged) before the walk began: never listed
                    if gone := set(listed) & deleted_before:
                        problems.append(f"deleted users listed: {sorted(gone)[:2]}")
                    if missing := set(mine) - set(listed):
                        problems.append(f"acknowledged creates missing: {sorted(missing)[:2]}")

        threads = [threading.Thread(target=mixed, args=(w,)) for w in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)
        assert not problems, problems[:3]
        listed = all_users(identity, instance)
    assert len(created) > 50, "too few creates to prove anything"
    assert sorted(listed) == sorted(created - deleted)
    reopened = open_store(store)
    try:
        kept = reopened.identity(ACCOUNT, REGION).users
        assert sorted(kept) == sorted(created - deleted)
    finally:
        reopened.close()


# --------------------------------------------------------------------------
# Refused at start, in one sentence


def assert_refused_in_one_sentence(result: Any, *names: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chime-emulator: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for name in names:
        assert name in lines[0]


def test_unwritable_store_path_fails_at_start(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    store = not_a_folder / "state.sqlite"
    result = run_emulator_expecting_failure("--state-file", str(store))
    assert_refused_in_one_sentence(result, str(store))


def test_store_path_that_is_a_folder_fails_at_start(tmp_path: Path) -> None:
    result = run_emulator_expecting_failure("--state-file", str(tmp_path))
    assert_refused_in_one_sentence(result, str(tmp_path))


def test_store_in_use_by_another_emulator_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "state.sqlite"
    with running_emulator(state_file=str(store)), pytest.raises(StateFileError) as refused:
        open_store(store)
    # it says the store is in use and by whom, and does not advise deleting it
    message = str(refused.value)
    assert f"in use by chime-emulator pid {os.getpid()}" in message, message
    assert "remove" not in message and "\n" not in message


def test_port_in_use_fails_at_start() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = run_emulator_expecting_failure("--port", port)
    assert_refused_in_one_sentence(result, port)


def test_deep_nested_snapshot_is_refused_in_one_sentence(tmp_path: Path) -> None:
    snapshot = tmp_path / "deep.json"
    snapshot.write_text("[" * 100_000 + "]" * 100_000)
    result = run_emulator_expecting_failure("--import", str(snapshot))
    assert_refused_in_one_sentence(result, str(snapshot))
    snapshot.write_text('{"format": "chime-emulator-state/1", "x": ' + "[" * 500 + "]" * 500 + "}")
    result = run_emulator_expecting_failure("--import", str(snapshot))
    assert_refused_in_one_sentence(result, str(snapshot), "deeper")


@pytest.mark.parametrize(
    "body",
    [
        "[" * 5000 + "]" * 5000,  # beyond the depth limit
        json.dumps({"arn": "a", "name": 42}),  # a field of the wrong type
        "not json",
    ],
)
def test_hostile_store_row_is_refused(tmp_path: Path, body: str) -> None:
    store = tmp_path / "state.sqlite"
    with running_emulator(state_file=str(store)) as emulator:
        identity, _ = clients(emulator.url)
        identity.create_app_instance(Name="fine")
    connection = sqlite3.connect(store, isolation_level=None)
    connection.execute("UPDATE records SET body = ? WHERE tbl = 'app_instances'", (body,))
    connection.close()
    before = store.read_bytes()
    with pytest.raises(StateFileError, match="is not a sound chime-emulator store"):
        open_store(store)
    assert store.read_bytes() == before


def test_json_snapshot_as_state_file_is_refused_with_the_way_out(tmp_path: Path) -> None:
    snapshot = tmp_path / "state.json"
    snapshot.write_text('{"format": "chime-emulator-state/1"}')
    result = run_emulator_expecting_failure("--state-file", str(snapshot))
    assert_refused_in_one_sentence(result, str(snapshot), "--import")


def test_import_into_the_store_survives_without_the_snapshot(tmp_path: Path) -> None:
    snapshot, store = tmp_path / "seed.json", tmp_path / "state.sqlite"
    with running_emulator(export_file=str(snapshot)) as emulator:
        identity, _ = clients(emulator.url)
        instance = identity.create_app_instance(Name="seeded")["AppInstanceArn"]
    with running_emulator(state_file=str(store), import_file=str(snapshot)):
        pass
    with running_emulator(state_file=str(store)) as emulator:
        identity, _ = clients(emulator.url)
        assert identity.describe_app_instance(AppInstanceArn=instance)["AppInstance"]


# --------------------------------------------------------------------------
# Admin bodies: the API's limits


def test_deep_nested_admin_body_is_400_not_5xx() -> None:
    body = b'{"Name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with running_emulator() as emulator:
        response = plain_request(emulator.url, "POST", "/_emulator/accounts", body)
        assert (response.status, response.error_type) == (400, "BadRequestException")
        shallow = b'{"Name": "n", "x": ' + b"[" * 70 + b"]" * 70 + b"}"
        response = plain_request(emulator.url, "POST", "/_emulator/accounts", shallow)
        assert response.status == 400 and "deeper" in response.document["Message"]
        response = plain_request(emulator.url, "POST", "/_emulator/clock", body)
        assert (response.status, response.error_type) == (400, "BadRequestException")


def test_users_expired_by_a_sweep_during_a_read_stay_deleted(tmp_path: Path) -> None:
    store, now = tmp_path / "state.sqlite", [1_800_000_000.0]
    backend = open_store(store, clock=lambda: now[0])
    with backend.lock:
        identity = backend.identity(ACCOUNT, REGION)
        instance = identity.create_app_instance("i", None, "t", []).arn
        expiring = {"ExpirationDays": 1, "ExpirationCriterion": "CREATED_TIMESTAMP"}
        identity.create_app_instance_user(instance, "gone", "n", None, "t1", [], expiring)
        identity.create_app_instance_user(instance, "kept", "n", None, "t2", [], None)
        backend.commit()
    now[0] += 2 * 86_400
    with backend.lock:  # a read (GET) that runs the expiration sweep
        identity = backend.identity(ACCOUNT, REGION)
        assert [u.user_id for u in identity.users.values()] == ["kept"]
        backend.commit(wrote=False)
    backend.close()
    reopened = open_store(store, clock=lambda: now[0] - 2 * 86_400)  # no sweep can help
    try:
        users = reopened.identity(ACCOUNT, REGION).users
        assert [u.user_id for u in users.values()] == ["kept"]
    finally:
        reopened.close()
