"""Robustness: inputs or operations that make the server fail (a 5xx)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chime_conformance.contract import spec
from chime_conformance.emulator.app import EmulatorApp
from chime_conformance.emulator.exceptions import ServiceFailureException
from chime_conformance.emulator.faults.registry import fault
from chime_conformance.emulator.faults.seams import Dispatch, strings
from chime_conformance.emulator.hooks import Handler


def crash_when(app: EmulatorApp, crashes: Callable[[spec.Operation, dict[str, Any]], bool]) -> None:
    """An unhandled error (a 500) whenever ``crashes(operation, members)``."""

    def wrapper(original: Dispatch) -> Dispatch:
        def dispatch(op: spec.Operation, members: dict[str, Any], caller: Any) -> Any:
            if crashes(op, members):
                raise RuntimeError(f"injected fault: {op.name} crashed on its input")
            return original(op, members, caller)

        return dispatch

    app.hooks.wrap_dispatch(wrapper)


@fault(
    "server_error_on_non_ascii",
    category="robustness",
    breaks="No input makes the server fail (docs/contract.md validation: never 5xx); here a "
    "non-ASCII character anywhere in the members is a 500.",
)
def _server_error_on_non_ascii(app: EmulatorApp) -> None:
    crash_when(app, lambda op, members: not all(s.isascii() for s in strings(members)))


@fault(
    "server_error_on_largest_page",
    category="robustness",
    breaks="No input makes the server fail (docs/contract.md validation: never 5xx); here MaxResults "
    "on its maximum is a 500.",
)
def _server_error_on_largest_page(app: EmulatorApp) -> None:
    def on_maximum(op: spec.Operation, members: dict[str, Any]) -> bool:
        bound = op.input_schema["properties"].get("MaxResults", {}).get("maximum")
        return bound is not None and members.get("MaxResults") == bound

    crash_when(app, on_maximum)


@fault(
    "list_tags_server_error",
    category="robustness",
    breaks="No request makes the server fail (docs/contract.md validation: never 5xx); here every "
    "ListTagsForResource is a 500 ServiceFailureException.",
)
def _list_tags_server_error(app: EmulatorApp) -> None:
    def wrapper(original: Handler) -> Handler:
        def handle(backend: Any, members: dict[str, Any]) -> Any:
            raise ServiceFailureException("injected: the tags store is down")

        return handle

    app.hooks.wrap_handler("ListTagsForResource", wrapper)
