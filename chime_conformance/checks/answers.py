"""Reading an answer: the pieces the checks look at, and the few words a
failure quotes as "Received: …"."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from chime_conformance.wire.exchange import Exchange


def error_type(exchange: Exchange) -> str | None:
    """The exception named by ``x-amzn-ErrorType`` (AWS may append ``:<url>``)."""
    value = exchange.response.header("x-amzn-ErrorType")
    return value.split(":", 1)[0].strip() if value else None


def received(exchange: Exchange) -> str:
    """The answer in a few words: status, exception, and the server's message."""
    parts = [str(exchange.status)]
    name = error_type(exchange)
    if name:
        parts.append(name)
    message = message_of(exchange.json)
    if message:
        parts.append(f"({shorten(message)})")
    if exchange.retries:
        parts.append(f"after {len(exchange.retries)} retries")
    return " ".join(parts)


def message_of(body: Any) -> str | None:
    """The error body's Message (or, as some services write it, message)."""
    if not isinstance(body, Mapping):
        return None
    message = body.get("Message", body.get("message"))
    return message if isinstance(message, str) else None


def shorten(text: str, limit: int = 160) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_success(exchange: Exchange) -> bool:
    """Whether the status is a 2xx."""
    return 200 <= exchange.status < 300


def walk_json(value: Any, path: str = "") -> Iterator[tuple[str, str, Any, Mapping[str, Any]]]:
    """Every ``(path, key, value, containing object)`` in a JSON document."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}/{key}"
            yield where, str(key), item, value
            yield from walk_json(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk_json(item, f"{path}/{index}")
