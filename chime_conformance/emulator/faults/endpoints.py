"""Endpoints: an endpoint found where it is not, or not updated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chime_conformance.emulator.app import EmulatorApp
from chime_conformance.emulator.exceptions import NotFoundException
from chime_conformance.emulator.faults.registry import fault
from chime_conformance.emulator.models import IdentityBackend


@fault(
    "endpoint_found_under_any_user",
    category="endpoints",
    breaks="An endpoint is addressed by its user and its id: under another (or no) user it is "
    "a 404 (docs/contract.md missing-resource); here the id alone finds it.",
)
def _endpoint_found_under_any_user(app: EmulatorApp) -> None:
    def wrapper(backend: IdentityBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        def endpoint(user_arn: str, endpoint_id: str) -> Any:
            try:
                return original(user_arn, endpoint_id)
            except NotFoundException:
                if endpoint_id in backend.endpoints:
                    return backend.endpoints[endpoint_id]
                raise

        return endpoint

    app.backend.wrap_rule(IdentityBackend, "endpoint", wrapper)


@fault(
    "endpoint_update_lost",
    category="endpoints",
    breaks="UpdateAppInstanceUserEndpoint then Describe returns the new Name and AllowMessages "
    "(read-after-write); here the update answers 200 and is lost.",
)
def _endpoint_update_lost(app: EmulatorApp) -> None:
    app.backend.wrap_rule(
        IdentityBackend,
        "update_endpoint",
        lambda backend, original: (
            lambda user_arn, endpoint_id, name, allow: backend.endpoint(user_arn, endpoint_id)
        ),
    )
