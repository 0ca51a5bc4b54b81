"""Answer some operations as a server that does not implement them does.

``chime-emulator --unimplemented-operations NAME,…`` (operations or resource
families) makes the emulator a *partial* implementation, so the suite's
verdicts can be shown on one: those operations are answered, whatever the
request (signed or not, valid or not), the way real partial servers answer:

- ``501`` (the default): LocalStack's answer to an operation it has not
  emulated: ``501 InternalFailure`` with "… not yet implemented …";
- ``404``: a plain ``404 Not Found`` HTML page, as a web framework answers a
  route it does not know (no ``x-amzn-ErrorType``).

Every other operation behaves as usual.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from chime_conformance.contract import spec

STYLES = ("501", "404")
DEFAULT_STYLE = "501"
NOT_FOUND_PAGE = (
    b"<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
    b"<p>The requested URL was not found on the server.</p>\n"
)


def operations_named(names: Iterable[str]) -> tuple[str, ...]:
    """The operations ``names`` lists (operation or family names, any case);
    ValueError naming the first unknown one."""
    operations = spec.operations()
    by_name = {op.name.lower(): op.name for op in operations}
    chosen: dict[str, None] = {}
    for name in (n.strip() for n in names):
        if not name:
            continue
        family = [op.name for op in operations if op.family.lower() == name.lower()]
        if name.lower() in by_name:
            chosen[by_name[name.lower()]] = None
        elif family:
            chosen.update(dict.fromkeys(family))
        else:
            raise ValueError(f"{name!r} is neither an operation nor a resource family of the API")
    return tuple(chosen)


def refusal(
    operation: str | None, unimplemented: tuple[str, ...], style: str
) -> tuple[int, bytes, tuple[tuple[str, str], ...]] | None:
    """``(status, body, headers)`` if ``operation`` is one of ``unimplemented``."""
    if operation is None or operation not in unimplemented:
        return None
    if style == "404":
        return 404, NOT_FOUND_PAGE, (("Content-Type", "text/html; charset=utf-8"),)
    op = spec.operation(operation)
    body: dict[str, Any] = {
        "__type": "InternalFailure",
        "message": f"API action '{operation}' for service '{op.api}' not yet implemented",
    }
    headers = (("Content-Type", "application/json"), ("x-amzn-ErrorType", "InternalFailure"))
    return 501, json.dumps(body).encode(), headers
