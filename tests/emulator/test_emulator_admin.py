"""The emulator's own endpoints: protected by --admin-token when given, and a
warning, saying what is exposed, when it binds a non-loopback address."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chime_conformance.emulator import __main__ as command
from chime_conformance.emulator.app import (
    ADMIN_TOKEN_ENV,
    ADMIN_TOKEN_HEADER,
    EmulatorConfig,
    admin_headers,
)
from chime_conformance.emulator.server import RunningEmulator, exposure_warning, running_emulator
from tests.support.emulator_helpers import clients, plain_request

TOKEN = "s3cret-admin-token"


@pytest.fixture(scope="module")
def guarded() -> Iterator[RunningEmulator]:
    with running_emulator(admin_token=TOKEN) as emulator:
        yield emulator


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/_emulator/reset"), ("GET", "/_emulator/health"), ("POST", "/_emulator/accounts")],
)
@pytest.mark.parametrize("sent", [None, "wrong", TOKEN[:-1], ""])
def test_admin_calls_without_the_token_are_refused(
    guarded: RunningEmulator, method: str, path: str, sent: str | None
) -> None:
    identity, _ = clients(guarded.url)
    arn = identity.create_app_instance(Name="kept")["AppInstanceArn"]
    headers = {} if sent is None else {ADMIN_TOKEN_HEADER: sent}
    body = b'{"Name": "planted"}' if path.endswith("accounts") else b""
    response = plain_request(guarded.url, method, path, body, headers)
    assert (response.status, response.error_type) == (403, "ForbiddenException")
    assert ADMIN_TOKEN_HEADER in response.document["Message"]
    # nothing was wiped
    assert identity.describe_app_instance(AppInstanceArn=arn)["AppInstance"]


def test_admin_calls_with_the_token_are_served(
    guarded: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    identity, _ = clients(guarded.url)
    identity.create_app_instance(Name="to be wiped")
    monkeypatch.setenv(ADMIN_TOKEN_ENV, TOKEN)  # how the helpers and benches find it
    response = plain_request(guarded.url, "POST", "/_emulator/reset", headers=admin_headers())
    assert response.status == 200
    assert identity.list_app_instances()["AppInstances"] == []


def test_without_a_token_configured_admin_calls_are_open() -> None:
    with running_emulator() as emulator:
        assert plain_request(emulator.url, "GET", "/_emulator/health").status == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "[::]", "192.0.2.7", "emulator.example"])
def test_non_loopback_binding_warns_what_is_exposed(host: str) -> None:
    warning = exposure_warning(EmulatorConfig(host=host))
    assert warning is not None
    assert host in warning and "not a loopback address" in warning
    assert "'testing'" in warning  # the access key anyone can use
    assert "/_emulator/" in warning and "--admin-token" in warning
    guarded = exposure_warning(EmulatorConfig(host=host, admin_token=TOKEN))
    assert guarded is not None and "wipe" not in guarded and ADMIN_TOKEN_HEADER in guarded


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.2.1", "::1", "[::1]", "localhost"])
def test_loopback_binding_does_not_warn(host: str) -> None:
    assert exposure_warning(EmulatorConfig(host=host)) is None


def test_the_command_prints_the_warning_before_starting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def cannot_bind(config: EmulatorConfig) -> None:
        raise OSError(98, "Address already in use")

    monkeypatch.setattr(command, "start_emulator", cannot_bind)  # no network in tests
    monkeypatch.delenv(ADMIN_TOKEN_ENV, raising=False)
    assert command.main(["--host", "0.0.0.0", "--port", "0"]) == 2
    stderr = capsys.readouterr().err
    assert "chime-emulator: warning: listening on 0.0.0.0, not a loopback address" in stderr
    assert command.main(["--host", "127.0.0.1", "--port", "0"]) == 2
    assert "warning" not in capsys.readouterr().err


def test_the_token_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ADMIN_TOKEN_ENV, TOKEN)
    assert command.parse_arguments(["--port", "0"]).admin_token == TOKEN
    assert command.parse_arguments(["--admin-token", "other"]).admin_token == "other"
    monkeypatch.delenv(ADMIN_TOKEN_ENV)
    assert command.parse_arguments([]).admin_token is None
    assert admin_headers() == {}
