"""The state file (the SQLite store) and JSON snapshots: kept across restarts, loaded on
start, exported atomically, and a corrupt one is refused."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from chime_conformance.emulator.models import EmulatorBackend
from chime_conformance.emulator.server import running_emulator
from chime_conformance.emulator.state import StateFileError, load_state, save_state
from chime_conformance.emulator.store import open_store
from tests.support.emulator_helpers import EmulatorProcess, clients, run_emulator_expecting_failure


def test_state_survives_a_restart_of_the_command(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    first = EmulatorProcess("--state-file", str(state_file))
    identity, accounts = clients(first.url)
    instance = identity.create_app_instance(Name="kept", Tags=[{"Key": "k", "Value": "v"}])[
        "AppInstanceArn"
    ]
    user = identity.create_app_instance_user(
        AppInstanceArn=instance, AppInstanceUserId="u1", Name="User", ClientRequestToken="tok-1"
    )["AppInstanceUserArn"]
    for i in range(3):
        identity.create_app_instance_user(
            AppInstanceArn=instance, AppInstanceUserId=f"p{i}", Name="n"
        )
    page = identity.list_app_instance_users(AppInstanceArn=instance, MaxResults=2)
    account = accounts.create_account(Name="Acme")["Account"]
    code, log = first.stop()
    assert code == 0, log
    assert state_file.read_bytes().startswith(b"SQLite format 3\x00")

    second = EmulatorProcess("--state-file", str(state_file))
    try:
        identity, accounts = clients(second.url)
        assert identity.describe_app_instance_user(AppInstanceUserArn=user)["AppInstanceUser"]
        assert identity.list_tags_for_resource(ResourceARN=instance)["Tags"] == [
            {"Key": "k", "Value": "v"}
        ]
        assert accounts.get_account(AccountId=account["AccountId"])["Account"] == account
        # the idempotency ledger and the NextToken secret survive too
        again = identity.create_app_instance_user(
            AppInstanceArn=instance, AppInstanceUserId="u1", Name="User", ClientRequestToken="tok-1"
        )
        assert again["AppInstanceUserArn"] == user
        rest = identity.list_app_instance_users(
            AppInstanceArn=instance, MaxResults=2, NextToken=page["NextToken"]
        )
        assert len(rest["AppInstanceUsers"]) == 2
    finally:
        assert second.stop()[0] == 0


def test_corrupt_state_file_stops_startup_and_is_kept(tmp_path: Path) -> None:
    state_file = tmp_path / "state.sqlite"
    state_file.write_bytes(b"SQLite format 3\x00" + b"\x17" * 4000)
    before = state_file.read_bytes()
    result = run_emulator_expecting_failure("--state-file", str(state_file))
    assert result.returncode == 2
    assert str(state_file) in result.stderr and "it was not modified" in result.stderr
    assert "Traceback" not in result.stderr
    assert state_file.read_bytes() == before


def test_corrupt_snapshot_to_import_stops_startup_and_is_kept(tmp_path: Path) -> None:
    snapshot = tmp_path / "state.json"
    snapshot.write_text('{"format": "chime-emulator-state/1", "identity": [', encoding="utf-8")
    before = snapshot.read_bytes()
    result = run_emulator_expecting_failure("--import", str(snapshot))
    assert result.returncode == 2
    assert str(snapshot) in result.stderr and "not a valid chime-emulator snapshot" in result.stderr
    assert snapshot.read_bytes() == before


@pytest.mark.parametrize(
    "content", ["[]", '{"format": "something-else"}', '{"format": "chime-emulator-state/1"}']
)
def test_wrong_snapshots_are_refused(tmp_path: Path, content: str) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_text(content, encoding="utf-8")
    with pytest.raises(StateFileError, match="not a valid chime-emulator snapshot"):
        load_state(EmulatorBackend(), state_file)


def test_missing_state_file_is_created_in_its_folder(tmp_path: Path) -> None:
    state_file = tmp_path / "nested" / "state.sqlite"
    with running_emulator(state_file=str(state_file)) as emulator:
        identity, _ = clients(emulator.url)
        identity.create_app_instance(Name="x")
    restored = open_store(state_file)
    try:
        assert len(restored.identity("123456789012", "us-east-1").app_instances) == 1
    finally:
        restored.close()


def test_save_replaces_atomically_and_leaves_no_temporary(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_text("old", encoding="utf-8")
    backend = EmulatorBackend()
    save_state(backend, state_file)
    assert json.loads(state_file.read_text())["identity"] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_a_failed_write_keeps_the_previous_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state_file = tmp_path / "state.json"
    save_state(EmulatorBackend(), state_file)
    before = state_file.read_bytes()

    def disk_full(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        save_state(EmulatorBackend(), state_file)
    assert state_file.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_sigint_stops_cleanly_and_exports(tmp_path: Path) -> None:
    snapshot_file = tmp_path / "state.json"
    process = EmulatorProcess("--export", str(snapshot_file))
    identity, _ = clients(process.url)
    identity.create_app_instance(Name="saved on ctrl-c")
    process.process.send_signal(signal.SIGINT)
    code, log = process.stop()
    assert code == 0, log
    assert "Traceback" not in log
    snapshot = json.loads(snapshot_file.read_text())
    assert snapshot["identity"][0]["state"]["app_instances"][0]["name"] == "saved on ctrl-c"
