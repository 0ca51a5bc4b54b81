"""Response shape and types: the right resource, described wrongly."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from chime_conformance.emulator.app import EmulatorApp
from chime_conformance.emulator.faults.registry import fault
from chime_conformance.emulator.faults.seams import wrap_accounts
from chime_conformance.emulator.hooks import Handler
from chime_conformance.emulator.messages import Answer, ReceivedCall
from chime_conformance.emulator.models import epoch_seconds

DESCRIBES = {
    "DescribeAppInstance": "AppInstance",
    "DescribeAppInstanceUser": "AppInstanceUser",
    "DescribeAppInstanceBot": "AppInstanceBot",
}


def wrap_describes(app: EmulatorApp, transform: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``transform`` to the described object of each Describe answer."""
    for operation, member in DESCRIBES.items():

        def wrapper(original: Handler, member: str = member) -> Handler:
            def handle(backend: Any, members: dict[str, Any]) -> Any:
                body = copy.deepcopy(original(backend, members))
                if isinstance(body, dict) and isinstance(body.get(member), dict):
                    transform(body[member])
                return body

            return handle

        app.hooks.wrap_handler(operation, wrapper)


@fault(
    "null_for_absent_members",
    category="response shape",
    breaks="An absent optional member is left out of the answer (the response schema types "
    "Metadata as a string); here it is sent as null.",
)
def _null_for_absent_members(app: EmulatorApp) -> None:
    wrap_describes(app, lambda described: described.setdefault("Metadata", None))


@fault(
    "timestamps_in_milliseconds",
    category="response shape",
    breaks="Identity timestamps are epoch seconds (docs/contract.md timestamps); here milliseconds.",
)
def _timestamps_in_milliseconds(app: EmulatorApp) -> None:
    def transform(described: dict[str, Any]) -> None:
        for key, value in described.items():
            if key.endswith("Timestamp") and isinstance(value, int | float):
                described[key] = round(value * 1000)

    wrap_describes(app, transform)


@fault(
    "success_content_type_text_plain",
    category="response shape",
    breaks="A JSON answer says Content-Type: application/json (spec content); here text/plain.",
)
def _success_content_type_text_plain(app: EmulatorApp) -> None:
    def transform(exchange: ReceivedCall, a: Answer) -> Answer:
        if a.status >= 300 or not a.body:
            return a
        headers = tuple((k, v) for k, v in a.headers if k.lower() != "content-type")
        return replace(a, headers=(*headers, ("Content-Type", "text/plain")))

    app.hooks.filter_answers(transform)


@fault(
    "account_timestamps_as_epoch_numbers",
    category="response shape",
    breaks="Accounts timestamps are ISO-8601 strings (docs/contract.md timestamps); here epoch numbers.",
)
def _account_timestamps_as_epoch_numbers(app: EmulatorApp) -> None:
    def transform(account: dict[str, Any]) -> None:
        stamp = account.get("CreatedTimestamp")
        if isinstance(stamp, str):
            moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            account["CreatedTimestamp"] = epoch_seconds(moment.timestamp())

    wrap_accounts(app, transform)


@fault(
    "last_updated_time_flickers",
    category="response shape",
    breaks="An AppInstance's LastUpdatedTimestamp never goes back (docs/contract.md timestamps); here "
    "every other DescribeAppInstance answers it as if the instance was never updated.",
)
def _last_updated_time_flickers(app: EmulatorApp) -> None:
    reads: dict[str, int] = {}  # per AppInstance, so each run sees the same answers

    def wrapper(original: Handler) -> Handler:
        def handle(backend: Any, members: dict[str, Any]) -> Any:
            body = original(backend, members)
            instance = body["AppInstance"]
            arn = instance["AppInstanceArn"]
            count = reads[arn] = reads.get(arn, 0) + 1
            if count % 2 == 0:
                instance["LastUpdatedTimestamp"] = instance["CreatedTimestamp"]
            return body

        return handle

    app.hooks.wrap_handler("DescribeAppInstance", wrapper)
