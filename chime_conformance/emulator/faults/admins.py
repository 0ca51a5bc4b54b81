"""Admins: who can be promoted, and what demotion does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chime_conformance.emulator.app import EmulatorApp
from chime_conformance.emulator.exceptions import BadRequestException
from chime_conformance.emulator.faults.registry import fault
from chime_conformance.emulator.models import IdentityBackend


@fault(
    "admin_of_another_app_instance_accepted",
    category="admins",
    breaks="Only users and bots of the same AppInstance can be promoted (docs/contract.md admins); "
    "here a user of another AppInstance is.",
)
def _admin_of_another_app_instance_accepted(app: EmulatorApp) -> None:
    def wrapper(backend: IdentityBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        def promote(app_instance_arn: str, admin_arn: str) -> Any:
            try:
                return original(app_instance_arn, admin_arn)
            except BadRequestException:
                # promote it as if it were a member of this AppInstance, then give it back
                member = backend.users.get(admin_arn) or backend.bots.get(admin_arn)
                if member is None:
                    raise
                home, member.app_instance_arn = member.app_instance_arn, app_instance_arn
                backend.admins.pop(admin_arn, None)  # a new admin record, as the rule makes
                try:
                    return original(app_instance_arn, admin_arn)
                finally:
                    member.app_instance_arn = home

        return promote

    app.backend.wrap_rule(IdentityBackend, "create_app_instance_admin", wrapper)


@fault(
    "demotion_deletes_the_user",
    category="admins",
    breaks="DeleteAppInstanceAdmin demotes and keeps the user (docs/contract.md admins); here the "
    "user is deleted with the role.",
)
def _demotion_deletes_the_user(app: EmulatorApp) -> None:
    def wrapper(backend: IdentityBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        def demote(app_instance_arn: str, admin_arn: str) -> None:
            original(app_instance_arn, admin_arn)
            if admin_arn in backend.users:
                backend.delete_app_instance_user(admin_arn)

        return demote

    app.backend.wrap_rule(IdentityBackend, "delete_app_instance_admin", wrapper)
