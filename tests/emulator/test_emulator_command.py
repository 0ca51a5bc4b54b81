"""``chime-emulator`` on the command line: identities given with --identity serve
in their own accounts, and --list-faults into a pipe closed early ends quietly."""

from __future__ import annotations

import os
import subprocess

import pytest
from botocore.exceptions import ClientError

from tests.support.emulator_helpers import EMULATOR_COMMAND, EmulatorProcess, clients, plain_request


def test_list_faults_into_a_closed_pipe_ends_quietly() -> None:
    """As ``chime-emulator --list-faults | head`` when head has already gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        finished = subprocess.run(
            [EMULATOR_COMMAND, "--list-faults"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert (finished.returncode, finished.stderr) == (0, "")


def test_identities_given_on_the_command_line_act_in_their_own_accounts() -> None:
    emulator = EmulatorProcess(
        "--identity",
        "second:second-secret:210987654321",
        "--identity",
        "reader:reader-secret:123456789012:deny=chime:CreateAppInstance",
    )
    try:
        owner, _ = clients(emulator.url)
        second, _ = clients(
            emulator.url, aws_access_key_id="second", aws_secret_access_key="second-secret"
        )
        reader, _ = clients(
            emulator.url, aws_access_key_id="reader", aws_secret_access_key="reader-secret"
        )
        arn = owner.create_app_instance(Name="owned", ClientRequestToken="token-1")[
            "AppInstanceArn"
        ]
        theirs = second.create_app_instance(Name="theirs", ClientRequestToken="token-1")
        assert theirs["AppInstanceArn"].split(":")[4] == "210987654321"
        assert [i["Name"] for i in reader.list_app_instances()["AppInstances"]] == ["owned"]
        with pytest.raises(ClientError, match="ForbiddenException"):
            reader.create_app_instance(Name="refused", ClientRequestToken="token-2")
        with pytest.raises(second.exceptions.ForbiddenException):
            second.describe_app_instance(AppInstanceArn=arn)
        health = plain_request(emulator.url, "GET", "/_emulator/health").document
    finally:
        code, log = emulator.stop()
    assert code == 0, log
    assert [(i["AccessKeyId"], i["AccountId"]) for i in health["Identities"]] == [
        ("testing", "123456789012"),
        ("second", "210987654321"),
        ("reader", "123456789012"),
    ]
    assert health["Identities"][2]["DeniedActions"] == ["chime:CreateAppInstance"]
    assert "secret" not in str(health)
