"""A small builder of seeded state, through the emulator's own API.

Every record is made by the operation an application would call (boto3's
clients, or for accounts of any type the emulator's ``POST /_emulator/accounts``),
so a seeded state is one the API itself could have made: the same validation,
ARNs and timestamps, nothing planted behind the rules' back.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from chime_conformance.testing._errors import MockChimeError


class Served(Protocol):
    """What the builder needs of an emulator (a ``ChimeEmulator`` has it)."""

    @property
    def url(self) -> str: ...

    @property
    def identity(self) -> Any: ...


# A bot needs a configuration; this one names a Lex bot alias that need not exist
# (the emulator, like the service, does not call Lex).
DEFAULT_BOT_CONFIGURATION: dict[str, Any] = {
    "Lex": {
        "RespondsTo": "STANDARD_MESSAGES",
        "LexBotAliasArn": "arn:aws:lex:us-east-1:123456789012:bot-alias/ABCDEFGHIJ/KLMNOPQRST",
        "LocaleId": "en_US",
    }
}


def tag_list(tags: Mapping[str, str] | None) -> list[dict[str, str]]:
    """``{"env": "test"}`` as the API's ``[{"Key": "env", "Value": "test"}]``."""
    return [{"Key": key, "Value": value} for key, value in (tags or {}).items()]


@dataclass(frozen=True)
class SeededUser:
    arn: str
    user_id: str
    name: str


@dataclass(frozen=True)
class SeededBot:
    arn: str
    name: str | None


@dataclass(frozen=True)
class SeededAccount:
    account_id: str
    name: str
    account_type: str
    status: str


@dataclass(frozen=True)
class SeededAppInstance:
    """An AppInstance the builder made; add users, bots and admins to it."""

    arn: str
    name: str
    emulator: Served = field(repr=False, compare=False)

    def user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        metadata: str | None = None,
        tags: Mapping[str, str] | None = None,
        expiration_days: int | None = None,
    ) -> SeededUser:
        """CreateAppInstanceUser ``user_id`` (named ``user_id`` unless ``name``)."""
        request = _present(
            AppInstanceArn=self.arn,
            AppInstanceUserId=user_id,
            Name=name or user_id,
            Metadata=metadata,
            Tags=tag_list(tags) or None,
            ExpirationSettings=None
            if expiration_days is None
            else {"ExpirationDays": expiration_days, "ExpirationCriterion": "CREATED_TIMESTAMP"},
        )
        arn = self.emulator.identity.create_app_instance_user(**request)["AppInstanceUserArn"]
        return SeededUser(arn, user_id, request["Name"])

    def bot(
        self,
        name: str | None = None,
        *,
        configuration: Mapping[str, Any] | None = None,
        metadata: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> SeededBot:
        """CreateAppInstanceBot (a Lex configuration unless ``configuration``)."""
        request = _present(
            AppInstanceArn=self.arn,
            Name=name,
            Metadata=metadata,
            Tags=tag_list(tags) or None,
            Configuration=dict(configuration or DEFAULT_BOT_CONFIGURATION),
        )
        arn = self.emulator.identity.create_app_instance_bot(**request)["AppInstanceBotArn"]
        return SeededBot(arn, name)

    def admin(self, member: SeededUser | SeededBot | str) -> None:
        """CreateAppInstanceAdmin: ``member`` (a user, a bot, or an ARN) administers this
        AppInstance."""
        arn = member if isinstance(member, str) else member.arn
        self.emulator.identity.create_app_instance_admin(
            AppInstanceAdminArn=arn, AppInstanceArn=self.arn
        )


class Seed:
    """``emulator.seed``: ``seed.app_instance("chat").user("alice")`` and the like."""

    def __init__(self, emulator: Served) -> None:
        self._emulator = emulator

    def app_instance(
        self,
        name: str = "app-instance",
        *,
        metadata: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> SeededAppInstance:
        """CreateAppInstance ``name``."""
        request = _present(Name=name, Metadata=metadata, Tags=tag_list(tags) or None)
        arn = self._emulator.identity.create_app_instance(**request)["AppInstanceArn"]
        return SeededAppInstance(arn, name, self._emulator)

    def account(
        self, name: str = "account", *, account_type: str = "Team", status: str = "Active"
    ) -> SeededAccount:
        """An Amazon Chime account of any type and status (the API's CreateAccount makes
        only Active Team accounts), through the emulator's ``/_emulator/accounts``."""
        body = json.dumps({"Name": name, "AccountType": account_type, "AccountStatus": status})
        request = urllib.request.Request(
            f"{self._emulator.url}/_emulator/accounts",
            data=body.encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                account = json.load(answer)["Account"]
        except urllib.error.HTTPError as refused:
            message = json.loads(refused.read() or b"{}").get("Message", refused.reason)
            raise MockChimeError(f"the emulator refused the account to seed: {message}") from None
        return SeededAccount(account["AccountId"], name, account_type, status)


def _present(**members: Any) -> dict[str, Any]:
    """The members that have a value (botocore refuses an explicit None)."""
    return {name: value for name, value in members.items() if value is not None}
