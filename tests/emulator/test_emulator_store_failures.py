"""No phantom state when the store refuses a write, and stores that cannot be
used refused at start in one sentence.

The failing store is an SQLite connection whose COMMIT fails as a full disk
makes it fail ("database or disk is full"): every write operation of the spec,
sent while it fails, is answered 503 with a sentence and leaves the state
exactly as it was (the emulator's own snapshot, compared whole); the health
endpoint answers 503 until a write succeeds again, and a restart finds what
was acknowledged, nothing more.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.credentials import Credentials

from chime_conformance.contract import spec
from chime_conformance.emulator.server import RunningEmulator, running_emulator
from chime_conformance.emulator.state import StateFileError
from chime_conformance.emulator.store import open_store
from chime_conformance.wire.client import ChimeClient
from chime_conformance.wire.retries import RetryPolicy
from conformance.resources import Resources, World, build_world, minimal_members, pinned_members
from tests.support.emulator_helpers import (
    EmulatorProcess,
    plain_request,
    run_emulator_expecting_failure,
)

DISK_FULL = "database or disk is full"


def client_of(emulator: RunningEmulator) -> ChimeClient:
    """The suite's client, taking a 503 as an answer (what these tests look at), not
    as "try later"."""
    retry = RetryPolicy(max_retries=0, statuses=frozenset())
    return ChimeClient(emulator.url, credentials=Credentials("testing", "testing"), retry=retry)


class FailingCommits:
    """An SQLite connection whose COMMIT fails while ``full`` is set."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.full = False
        self.refused = 0

    def execute(self, sql: str, *parameters: Any) -> sqlite3.Cursor:
        if self.full and sql.strip().upper().startswith("COMMIT"):
            self.refused += 1
            raise sqlite3.OperationalError(DISK_FULL)
        return self.connection.execute(sql, *parameters)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)


@dataclass
class FailingStore:
    emulator: RunningEmulator
    connection: FailingCommits
    client: ChimeClient
    resources: Resources


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FailingStore]:
    store = tmp_path_factory.mktemp("store") / "state.sqlite"
    with running_emulator(state_file=str(store)) as emulator:
        connection = FailingCommits(emulator.backend.connection)  # type: ignore[attr-defined]
        emulator.backend.connection = connection  # type: ignore[attr-defined]
        client = client_of(emulator)
        yield FailingStore(emulator, connection, client, Resources(client, "full", "disk"))


def seen(client: ChimeClient, world: World) -> list[Any]:
    """What requests see: every List that names no parent or the shared
    AppInstance or user, and every shared resource read back (also warming the
    emulator's cached list orders, which a phantom could hide in)."""
    reads = [
        ("ListAppInstances", {}),
        ("ListAccounts", {}),
        ("ListAppInstanceUsers", {"AppInstanceArn": world.app_instance_arn}),
        ("ListAppInstanceBots", {"AppInstanceArn": world.app_instance_arn}),
        ("ListAppInstanceAdmins", {"AppInstanceArn": world.app_instance_arn}),
        ("ListAppInstanceUserEndpoints", {"AppInstanceUserArn": world.user_arn}),
        ("ListTagsForResource", {"ResourceARN": world.app_instance_arn}),
        ("DescribeAppInstance", {"AppInstanceArn": world.app_instance_arn}),
        ("GetAppInstanceRetentionSettings", {"AppInstanceArn": world.app_instance_arn}),
        ("DescribeAppInstanceUser", {"AppInstanceUserArn": world.user_arn}),
        ("DescribeAppInstanceBot", {"AppInstanceBotArn": world.bot_arn}),
        ("GetAccount", {"AccountId": world.account_id}),
    ]
    return [(name, client.call(name, members).json) for name, members in reads]


def health(emulator: RunningEmulator) -> tuple[int, Any]:
    answer = plain_request(emulator.url, "GET", "/_emulator/health")
    return answer.status, answer.document


WRITES = [pytest.param(op, id=op.name) for op in spec.operations() if op.method != "GET"]


@pytest.mark.parametrize("op", WRITES)
def test_a_write_the_store_refuses_changes_nothing_any_request_can_see(
    failing: FailingStore, op: spec.Operation
) -> None:
    world = build_world(failing.resources)
    properties = set(op.input_schema["properties"])
    members = {
        **minimal_members(op.name),
        **pinned_members(op.name, properties, failing.resources, world),
    }
    before, answers_before = failing.emulator.backend.snapshot(), seen(failing.client, world)
    failing.connection.full = True
    try:
        refused = failing.client.call(op, members)
        status, report = health(failing.emulator)
    finally:
        failing.connection.full = False
    assert seen(failing.client, world) == answers_before, f"{op.name}: a phantom is seen"
    assert refused.status == 503, refused.response.body[:300]
    assert refused.json["Code"] == "ServiceUnavailable"
    assert DISK_FULL in refused.json["Message"] and "nothing was changed" in refused.json["Message"]
    assert failing.emulator.backend.snapshot() == before, f"{op.name} left a phantom change"
    assert (status, report["Status"]) == (503, "store-unwritable")
    assert DISK_FULL in report["StoreError"]
    # the store takes writes again: health says so, and the same request now succeeds
    assert health(failing.emulator)[0] == 200
    assert 200 <= failing.client.call(op, members).status < 300


def test_a_refused_create_leaves_no_record_no_token_and_no_trace_after_a_restart(
    tmp_path: Path,
) -> None:
    store = tmp_path / "state.sqlite"
    with running_emulator(state_file=str(store)) as emulator:
        connection = FailingCommits(emulator.backend.connection)  # type: ignore[attr-defined]
        emulator.backend.connection = connection  # type: ignore[attr-defined]
        client = client_of(emulator)
        kept = client.call("CreateAppInstance", {"Name": "kept", "ClientRequestToken": "kept"})
        connection.full = True
        answers = [
            client.call("CreateAppInstance", {"Name": f"lost-{i}", "ClientRequestToken": "lost"})
            for i in range(20)
        ]
        listed_while_full = client.call("ListAppInstances", {}).json["AppInstances"]
        connection.full = False
        # the token was never used: other parameters with it create, no 409
        created = client.call("CreateAppInstance", {"Name": "after", "ClientRequestToken": "lost"})
    assert [a.status for a in answers] == [503] * 20 and connection.refused == 20
    assert [i["Name"] for i in listed_while_full] == ["kept"]
    assert kept.status == 201 and created.status == 201
    with running_emulator(state_file=str(store)) as restarted:
        client = client_of(restarted)
        names = [i["Name"] for i in client.call("ListAppInstances", {}).json["AppInstances"]]
    assert names == ["kept", "after"]


def test_a_reset_the_store_refuses_keeps_the_state(failing: FailingStore) -> None:
    failing.resources.app_instance()
    before = failing.emulator.backend.snapshot()
    failing.connection.full = True
    try:
        answer = plain_request(failing.emulator.url, "POST", "/_emulator/reset")
    finally:
        failing.connection.full = False
    assert answer.status == 503 and DISK_FULL in answer.document["Message"]
    assert failing.emulator.backend.snapshot() == before


def test_a_deletion_undone_keeps_its_place_in_the_list(failing: FailingStore) -> None:
    arns = [failing.resources.app_instance() for _ in range(3)]
    listed = failing.client.call("ListAppInstances", {}).json["AppInstances"]
    failing.connection.full = True
    try:
        assert failing.client.call("DeleteAppInstance", {"AppInstanceArn": arns[0]}).status == 503
    finally:
        failing.connection.full = False
    assert failing.client.call("ListAppInstances", {}).json["AppInstances"] == listed


# --------------------------------------------------------------------------
# Stores refused at start


def a_store(tmp_path: Path) -> Path:
    store = tmp_path / "state.sqlite"
    with running_emulator(state_file=str(store)) as emulator:
        created = client_of(emulator).call(
            "CreateAppInstance", {"Name": "x", "ClientRequestToken": "token"}
        )
        assert created.status == 201
    return store


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ("DROP TABLE records", "its table 'records' is missing"),
        ("DROP TABLE scopes", "its table 'scopes' is missing"),
        ("ALTER TABLE records DROP COLUMN body", "its table 'records' has the columns"),
        (
            "UPDATE meta SET value = 'chime-emulator-store/2' WHERE name = 'format'",
            "is in the format 'chime-emulator-store/2'",
        ),
    ],
)
def test_a_store_missing_a_table_or_of_another_format_is_refused_in_one_sentence(
    tmp_path: Path, change: str, says: str
) -> None:
    store = a_store(tmp_path)
    with sqlite3.connect(store) as connection:
        connection.execute(change)
    connection.close()
    kept = digest(store)
    with pytest.raises(StateFileError) as refused:
        open_store(store)
    assert says in str(refused.value) and "\n" not in str(refused.value)
    assert digest(store) == kept
    command = run_emulator_expecting_failure("--state-file", str(store))
    assert command.returncode == 2 and says in command.stderr
    assert "Traceback" not in command.stderr


def test_the_database_of_another_program_is_not_taken_over(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER)")
    connection.close()
    with pytest.raises(StateFileError, match="an SQLite database of something else"):
        open_store(other)
    with sqlite3.connect(other) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master")]
    connection.close()
    assert tables == ["invoices"]


def test_a_store_in_use_is_refused_naming_the_emulator_that_holds_it(tmp_path: Path) -> None:
    store = tmp_path / "state.sqlite"
    first = EmulatorProcess("--state-file", str(store))
    try:
        second = run_emulator_expecting_failure("--state-file", str(store))
    finally:
        code, _ = first.stop()
    assert second.returncode == 2
    message = second.stderr.strip().removeprefix("chime-emulator: error: ")
    assert f"is in use by chime-emulator pid {first.process.pid} on " in message
    assert "remove" not in message and "delete" not in message and "\n" not in message
    assert code == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["state.sqlite"]


def test_a_lock_file_left_by_a_killed_emulator_is_taken_over(tmp_path: Path) -> None:
    store = a_store(tmp_path)
    lock = store.with_name(f"{store.name}.lock")
    lock.write_text("chime-emulator pid 999999999 on elsewhere, since long ago")
    with running_emulator(state_file=str(store)):
        assert f"pid {os.getpid()} " in lock.read_text()
    assert not lock.exists()
