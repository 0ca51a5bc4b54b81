"""Delete semantics and cascade: a delete acknowledged, and something left behind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chime_conformance.emulator.app import EmulatorApp
from chime_conformance.emulator.faults.registry import fault
from chime_conformance.emulator.hooks import Handler
from chime_conformance.emulator.models import AccountsBackend, IdentityBackend


@fault(
    "deregistered_endpoint_lingers",
    category="delete and cascade",
    breaks="A deregistered endpoint is gone: describing it is a 404 (docs/contract.md missing "
    "resource); here DeregisterAppInstanceUserEndpoint answers 204 and keeps it.",
)
def _deregistered_endpoint_lingers(app: EmulatorApp) -> None:
    app.backend.wrap_rule(
        IdentityBackend,
        "deregister_endpoint",
        lambda backend, original: (
            lambda user_arn, endpoint_id: backend.endpoint(user_arn, endpoint_id) and None
        ),
    )


@fault(
    "deleted_account_lingers",
    category="delete and cascade",
    breaks="A deleted account is gone: GetAccount is a 404 (docs/contract.md missing-resource); here "
    "DeleteAccount answers 204 and keeps it.",
)
def _deleted_account_lingers(app: EmulatorApp) -> None:
    app.backend.wrap_rule(
        AccountsBackend,
        "delete_account",
        lambda backend, original: lambda account_id: backend.account(account_id) and None,
    )


@fault(
    "deleted_user_lingers",
    category="delete and cascade",
    breaks="A deleted AppInstanceUser is gone: describing it is a 404 (docs/contract.md missing "
    "resource); here DeleteAppInstanceUser answers 204 and keeps it.",
)
def _deleted_user_lingers(app: EmulatorApp) -> None:
    def wrapper(original: Handler) -> Handler:
        def handle(backend: IdentityBackend, members: dict[str, Any]) -> Any:
            backend.user(members["AppInstanceUserArn"])  # a missing user is still a 404
            return None

        return handle

    app.hooks.wrap_handler("DeleteAppInstanceUser", wrapper)


def _survivors(backend: IdentityBackend, arn: str, kind: str) -> dict[str, Any]:
    if kind == "users":
        return {k: u for k, u in backend.users.items() if u.app_instance_arn == arn}
    users = {u.arn for u in backend.users.values() if u.app_instance_arn == arn}
    return {k: e for k, e in backend.endpoints.items() if e.user_arn in users}


def cascade_forgets(app: EmulatorApp, kind: str) -> None:
    """DeleteAppInstance deletes all it holds, then the ``kind`` records come back."""

    def wrapper(backend: IdentityBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        def delete(arn: str) -> None:
            kept = _survivors(backend, arn, kind)
            original(arn)
            getattr(backend, kind).update(kept)

        return delete

    app.backend.wrap_rule(IdentityBackend, "delete_app_instance", wrapper)


@fault(
    "cascade_keeps_users",
    category="delete and cascade",
    breaks="DeleteAppInstance removes its users (docs/contract.md cascade); here they stay readable.",
)
def _cascade_keeps_users(app: EmulatorApp) -> None:
    cascade_forgets(app, "users")


@fault(
    "cascade_keeps_endpoints",
    category="delete and cascade",
    breaks="DeleteAppInstance removes its users' endpoints (docs/contract.md cascade); here the "
    "endpoints stay readable.",
)
def _cascade_keeps_endpoints(app: EmulatorApp) -> None:
    cascade_forgets(app, "endpoints")
