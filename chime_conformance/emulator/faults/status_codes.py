"""Status codes: the right answer under the wrong status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from chime_conformance.contract import spec
from chime_conformance.emulator.app import EmulatorApp
from chime_conformance.emulator.exceptions import (
    BadRequestException,
    ConflictException,
    NotFoundException,
)
from chime_conformance.emulator.faults.registry import fault
from chime_conformance.emulator.faults.seams import Dispatch
from chime_conformance.emulator.messages import Answer
from chime_conformance.emulator.models import IdentityBackend


@fault(
    "create_answers_200",
    category="status codes",
    breaks="Create* (and CreateAppInstanceAdmin, RegisterAppInstanceUserEndpoint, CreateAccount) "
    "succeed with 201 (docs/contract.md success-codes); here with 200.",
)
def _create_answers_200(app: EmulatorApp) -> None:
    app.hooks.filter_answers(lambda exchange, a: replace(a, status=200) if a.status == 201 else a)


@fault(
    "delete_answers_200",
    category="status codes",
    breaks="Delete*, Deregister*, TagResource and UntagResource succeed with 204 and no body "
    "(docs/contract.md success-codes); here with 200 and {}.",
)
def _delete_answers_200(app: EmulatorApp) -> None:
    app.hooks.filter_answers(lambda exchange, a: Answer.json(200, {}) if a.status == 204 else a)


@fault(
    "duplicate_user_answers_400",
    category="status codes",
    breaks="CreateAppInstanceUser with a taken AppInstanceUserId is a 409 ConflictException "
    "(docs/contract.md duplicates); here a 400 BadRequestException.",
)
def _duplicate_user_answers_400(app: EmulatorApp) -> None:
    def wrapper(backend: IdentityBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        def create(*args: Any) -> Any:
            try:
                return original(*args)
            except ConflictException as error:
                raise BadRequestException(error.message) from None

        return create

    app.backend.wrap_rule(IdentityBackend, "create_app_instance_user", wrapper)


@fault(
    "missing_resource_answers_200",
    category="status codes",
    breaks="A request about a missing or deleted resource is a 404 NotFoundException "
    "(docs/contract.md missing-resource); here it succeeds with an empty answer.",
)
def _missing_resource_answers_200(app: EmulatorApp) -> None:
    def wrapper(original: Dispatch) -> Dispatch:
        def dispatch(op: spec.Operation, members: dict[str, Any], caller: Any) -> Any:
            try:
                return original(op, members, caller)
            except NotFoundException:
                return None

        return dispatch

    app.hooks.wrap_dispatch(wrapper)
