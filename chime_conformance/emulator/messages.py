"""What the emulator's application passes to its hooks: a request as received
(:class:`ReceivedCall`) and the answer it gets (:class:`Answer`). Their own
module, so that the hooks (``hooks.py``) can name them without importing the
application, which imports the hooks."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from chime_conformance.emulator.exceptions import ChimeError

__all__ = ["Answer", "ReceivedCall"]


@dataclass
class ReceivedCall:
    """One request as the emulator received it, and what became of it (for the log
    line). Not the suite's record of a call, ``chime_conformance.wire.exchange.Exchange``."""

    environ: dict[str, Any]
    method: str
    raw_path: str
    raw_query: str
    operation: str | None = None
    started: float = field(default_factory=time.perf_counter)

    @classmethod
    def of(cls, environ: dict[str, Any]) -> ReceivedCall:
        # RAW_URI keeps the percent-encoding that PATH_INFO has already undone
        target = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ["PATH_INFO"]
        if not target.startswith("/"):  # absolute form: http://host/path?query
            parts = urlsplit(target)
            target = f"{parts.path or '/'}?{parts.query}"
        path, _, query = target.partition("?")
        if path.startswith("//"):  # one leading slash, as the service (and http.server) read it
            path = "/" + path.lstrip("/")
        return cls(environ, environ["REQUEST_METHOD"].upper(), path, query)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(cls, status: int, document: Any, *headers: tuple[str, str]) -> Answer:
        # ensure_ascii: a lone surrogate a client sent in Metadata still serializes
        return cls(
            status, json.dumps(document).encode(), (("Content-Type", "application/json"), *headers)
        )

    @classmethod
    def error(cls, error: ChimeError) -> Answer:
        return cls.json(
            error.status, error.body(), ("x-amzn-ErrorType", error.error_type), *error.headers()
        )
