"""Accounts: the legacy Chime accounts API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chime_conformance.emulator.app import EmulatorApp
from chime_conformance.emulator.exceptions import UnprocessableEntityException
from chime_conformance.emulator.faults.registry import fault
from chime_conformance.emulator.faults.seams import wrap_accounts
from chime_conformance.emulator.models import AccountsBackend


@fault(
    "account_status_missing",
    category="accounts",
    breaks="An Account carries AccountStatus, Active or Suspended (seed 003); here it is left out.",
)
def _account_status_missing(app: EmulatorApp) -> None:
    wrap_accounts(app, lambda account: account.pop("AccountStatus", None))


@fault(
    "unknown_license_listed",
    category="accounts",
    breaks="SupportedLicenses lists only Basic, Plus, Pro and ProTrial (spec License enum); "
    "here it also lists Enterprise.",
)
def _unknown_license_listed(app: EmulatorApp) -> None:
    wrap_accounts(
        app, lambda account: account.setdefault("SupportedLicenses", []).append("Enterprise")
    )


@fault(
    "team_account_deletion_refused",
    category="accounts",
    breaks="DeleteAccount deletes a Team account (only an Active Enterprise account is a 422; "
    "emulator README); here every account is a 422.",
)
def _team_account_deletion_refused(app: EmulatorApp) -> None:
    def wrapper(backend: AccountsBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        def delete(account_id: str) -> None:
            account = backend.account(account_id)
            raise UnprocessableEntityException(
                f"Account {account_id} ({account.account_type}) cannot be deleted."
            )

        return delete

    app.backend.wrap_rule(AccountsBackend, "delete_account", wrapper)


@fault(
    "default_license_update_lost",
    category="accounts",
    breaks="UpdateAccount with a DefaultLicense stores it (read-after-write); here the account "
    "keeps its old license.",
)
def _default_license_update_lost(app: EmulatorApp) -> None:
    app.backend.wrap_rule(
        AccountsBackend,
        "update_account",
        lambda backend, original: (
            lambda account_id, name, license: original(account_id, name, None)
        ),
    )
