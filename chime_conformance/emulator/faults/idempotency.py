"""Idempotency: a ClientRequestToken not honoured."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chime_conformance.emulator.app import EmulatorApp
from chime_conformance.emulator.exceptions import ConflictException
from chime_conformance.emulator.faults.registry import fault
from chime_conformance.emulator.models import IdentityBackend


@fault(
    "client_request_token_ignored",
    category="idempotency",
    breaks="The same ClientRequestToken with the same parameters returns the same resource "
    "(docs/contract.md idempotency); here every request creates a new one.",
)
def _client_request_token_ignored(app: EmulatorApp) -> None:
    app.backend.wrap_rule(IdentityBackend, "replay", lambda backend, original: lambda *args: None)


@fault(
    "token_reuse_with_other_parameters_replays",
    category="idempotency",
    breaks="The same ClientRequestToken with other parameters is a 409 ConflictException "
    "(docs/contract.md idempotency); here it returns the first request's resource.",
)
def _token_reuse_with_other_parameters_replays(app: EmulatorApp) -> None:
    def wrapper(backend: IdentityBackend, original: Callable[..., Any]) -> Callable[..., Any]:
        def replay(operation: str, token: str, *rest: Any) -> Any:
            try:
                return original(operation, token, *rest)
            except ConflictException:
                return backend.idempotency[f"{operation} {token}"].result

        return replay

    app.backend.wrap_rule(IdentityBackend, "replay", wrapper)
