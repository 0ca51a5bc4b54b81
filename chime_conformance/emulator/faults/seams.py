"""Small helpers the fault modules share, over the emulator's public hooks only."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from chime_conformance.contract import spec
from chime_conformance.emulator.hooks import Dispatch, Handler

if TYPE_CHECKING:
    from chime_conformance.emulator.app import EmulatorApp
    from chime_conformance.emulator.messages import Answer

Violations = list[spec.Violation]
__all__ = ["Dispatch", "Violations"]


def json_answer(answer: Answer, document: Any, **headers: str) -> Answer:
    """``answer`` with ``document`` as its JSON body and ``headers`` set."""
    kept = tuple((k, v) for k, v in answer.headers if k.lower() not in {h.lower() for h in headers})
    return replace(
        answer, body=json.dumps(document).encode(), headers=kept + tuple(headers.items())
    )


def answer_body(answer: Answer) -> Any:
    """The answer's JSON body, or None."""
    try:
        return json.loads(answer.body) if answer.body else None
    except ValueError:
        return None


def strings(value: Any) -> Iterator[str]:
    """Every string anywhere in a JSON-like value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


ACCOUNT_ANSWERS = ("CreateAccount", "GetAccount", "UpdateAccount", "ListAccounts")


def wrap_accounts(app: EmulatorApp, transform: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``transform`` to every Account of the accounts API's answers."""
    for operation in ACCOUNT_ANSWERS:

        def wrapper(original: Handler) -> Handler:
            def handle(backend: Any, members: dict[str, Any]) -> Any:
                body = copy.deepcopy(original(backend, members))
                for account in [body.get("Account"), *(body.get("Accounts") or [])]:
                    if isinstance(account, dict):
                        transform(account)
                return body

            return handle

        app.hooks.wrap_handler(operation, wrapper)
