"""The record of one call: what was sent (secrets redacted), what came back.

An :class:`Exchange` is what every layer passes around: the checks judge it,
the recorder keeps it in a failure's record, and it reproduces itself as a
curl command or a Python script (:mod:`chime_conformance.wire.reproducers`). It
also says how the request was signed (:class:`Signing`), because an auth
test's exchange is only reproducible with the same mistake.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from requests.structures import CaseInsensitiveDict

from chime_conformance.wire import reproducers
from chime_conformance.wire.retries import THROTTLING_STATUSES, Retry
from chime_conformance.wire.sigv4 import PRESIGNED_SIGNINGS, SESSION_TOKEN_PARAMETER, Signing

__all__ = [
    "PRESIGNED_SIGNINGS",
    "REDACTED",
    "Exchange",
    "ReceivedResponse",
    "Retry",
    "SentRequest",
    "Signing",
    "redact_headers",
    "redact_presigned_url",
]

REDACTED = "[REDACTED]"
SECRET_HEADERS = ("authorization", "x-amz-security-token")


# --------------------------------------------------------------------------
# The record of one call


def _redact_authorization(value: str) -> str:
    # Keep the scope and signed headers (they explain auth failures); drop the
    # access key id and the signature.
    parts = [part.strip() for part in value.removeprefix("AWS4-HMAC-SHA256 ").split(",")]
    fields = dict(part.partition("=")[::2] for part in parts)
    if not value.startswith("AWS4-HMAC-SHA256 ") or set(fields) != {
        "Credential",
        "SignedHeaders",
        "Signature",
    }:
        return REDACTED
    scope = fields["Credential"].partition("/")[2]
    return (
        f"AWS4-HMAC-SHA256 Credential={REDACTED}/{scope}, "
        f"SignedHeaders={fields['SignedHeaders']}, Signature={REDACTED}"
    )


def redact_headers(headers: Mapping[str, str]) -> CaseInsensitiveDict[str]:
    """A copy of ``headers`` with the credentials and the signature removed."""
    redacted: CaseInsensitiveDict[str] = CaseInsensitiveDict()
    for name, value in headers.items():
        lower = name.lower()
        if lower == "authorization":
            value = _redact_authorization(value)
        elif lower in SECRET_HEADERS:
            value = REDACTED
        redacted[name] = value
    return redacted


def redact_presigned_url(url: str) -> str:
    """``url`` without the secrets a presigned URL carries: the access key id,
    the signature and the session token (the scope and dates stay)."""
    if "X-Amz-Signature=" not in url and f"{SESSION_TOKEN_PARAMETER}=" not in url:
        return url
    base, _, query = url.partition("?")
    pairs = []
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if name in ("X-Amz-Signature", SESSION_TOKEN_PARAMETER):
            value = REDACTED
        elif name == "X-Amz-Credential":
            value = f"{REDACTED}%2F{value.partition('%2F')[2]}"
        pairs.append(f"{name}={value}")
    return f"{base}?{'&'.join(pairs)}"


@dataclass(frozen=True)
class SentRequest:
    """What went on the wire; ``headers`` are redacted on construction."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", redact_headers(self.headers))
        object.__setattr__(self, "url", redact_presigned_url(self.url))


def _parse_json(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


@dataclass(frozen=True)
class ReceivedResponse:
    """What came back. ``json`` is the parsed body, or None if it is empty or not JSON."""

    status: int
    headers: Mapping[str, str]
    body: bytes = b""
    json: Any = field(default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", CaseInsensitiveDict(self.headers))
        if self.json is None:
            object.__setattr__(self, "json", _parse_json(self.body))

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (any case), or None."""
        value: str | None = self.headers.get(name)
        return value


@dataclass(frozen=True)
class Exchange:
    """One call: the request as sent (secrets redacted), the final answer, timing, retries."""

    request: SentRequest
    response: ReceivedResponse
    elapsed: float  # seconds, all attempts and waits included
    retries: tuple[Retry, ...] = ()
    operation: str | None = None
    members: Mapping[str, Any] | None = None
    signing: Signing = Signing.SIGNED
    region: str = "us-east-1"

    @property
    def status(self) -> int:
        return self.response.status

    @property
    def json(self) -> Any:
        return self.response.json

    @property
    def throttled(self) -> bool:
        """Whether the final answer still says "try later" (retries ran out)."""
        return self.status in THROTTLING_STATUSES

    def as_curl(self) -> str:
        """A shell command that sends this request again, signed by curl
        (``--aws-sigv4``) with the credentials in ``$AWS_ACCESS_KEY_ID`` etc."""
        return reproducers.curl_command(self)

    def as_python(self) -> str:
        """A Python script that sends this request again, signed by botocore with
        the credentials of its chain (environment variables, profiles)."""
        return reproducers.python_script(self)
