"""Read-after-write: a write acknowledged, then not read back."""

from __future__ import annotations

from typing import Any

from chime_conformance.emulator.app import EmulatorApp
from chime_conformance.emulator.faults.registry import fault
from chime_conformance.emulator.hooks import Handler
from chime_conformance.emulator.models import IdentityBackend


@fault(
    "app_instance_update_lost",
    category="read-after-write",
    breaks="UpdateAppInstance then DescribeAppInstance returns the new Name and Metadata "
    "(read-after-write); here the update answers 200 and is lost.",
)
def _app_instance_update_lost(app: EmulatorApp) -> None:
    app.backend.wrap_rule(
        IdentityBackend,
        "update_app_instance",
        lambda backend, original: lambda arn, name, metadata: backend.app_instance(arn),
    )


@fault(
    "user_reads_are_stale",
    category="read-after-write",
    breaks="DescribeAppInstanceUser after an update returns the updated user (read-after-write); "
    "here it serves the first answer it gave for that user from a cache.",
)
def _user_reads_are_stale(app: EmulatorApp) -> None:
    cache: dict[str, Any] = {}

    def wrapper(original: Handler) -> Handler:
        def handle(backend: Any, members: dict[str, Any]) -> Any:
            answer = original(backend, members)  # a missing user is still a 404
            return cache.setdefault(members["AppInstanceUserArn"], answer)

        return handle

    app.hooks.wrap_handler("DescribeAppInstanceUser", wrapper)


@fault(
    "bot_configuration_update_lost",
    category="read-after-write",
    breaks="UpdateAppInstanceBot with a Configuration stores it (read-after-write); here the "
    "bot keeps its old Configuration.",
)
def _bot_configuration_update_lost(app: EmulatorApp) -> None:
    app.backend.wrap_rule(
        IdentityBackend,
        "update_app_instance_bot",
        lambda backend, original: (
            lambda arn, name, metadata, configuration: original(arn, name, metadata, None)
        ),
    )
