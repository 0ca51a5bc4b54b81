"""Settings: retention and expiration settings not read back as put."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chime_conformance.emulator.app import EmulatorApp
from chime_conformance.emulator.faults.registry import fault
from chime_conformance.emulator.hooks import Handler
from chime_conformance.emulator.models import IdentityBackend


@fault(
    "retention_settings_not_stored",
    category="settings",
    breaks="GetAppInstanceRetentionSettings returns what was put (docs/contract.md settings); here "
    "the Put echoes the settings and forgets them.",
)
def _retention_settings_not_stored(app: EmulatorApp) -> None:
    def wrapper(original: Handler) -> Handler:
        def handle(backend: IdentityBackend, members: dict[str, Any]) -> Any:
            instance = backend.app_instance(members["AppInstanceArn"])
            before = instance.retention_settings, instance.retention_updated
            answer = original(backend, members)
            instance.retention_settings, instance.retention_updated = before
            return answer

        return handle

    app.hooks.wrap_handler("PutAppInstanceRetentionSettings", wrapper)


@fault(
    "expiration_settings_never_cleared",
    category="settings",
    breaks="PutAppInstanceUserExpirationSettings without ExpirationSettings clears them "
    "(docs/contract.md settings); here the old settings stay.",
)
def _expiration_settings_never_cleared(app: EmulatorApp) -> None:
    def wrapper(backend: IdentityBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        def put(arn: str, settings: dict[str, Any] | None) -> Any:
            return original(arn, settings or backend.user(arn).expiration_settings)

        return put

    app.backend.wrap_rule(IdentityBackend, "put_user_expiration_settings", wrapper)


@fault(
    "users_never_expire",
    category="settings",
    breaks="A user past CreatedTimestamp + ExpirationDays is deleted within 6 hours "
    "(docs/contract.md user-expiration); here ExpirationSettings are stored and never acted on.",
)
def _users_never_expire(app: EmulatorApp) -> None:
    app.backend.wrap_rule(
        IdentityBackend, "expire_users", lambda backend, original: lambda clock: []
    )
