"""The record of one call: what was sent (secrets redacted), what came back.

An :class:`Exchange` is what every layer passes around: the checks judge it,
the recorder keeps it in a failure's record, and it reproduces itself as a
curl command or a Python script (:mod:`chime_conformance.wire.reproducers`). It
also says how the request was signed (:class:`Signing`), because an auth
test's exchange is only reproducible with the same mistake.
"""

from __future__ import annotations

import datetime
import enum
import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from requests.structures import CaseInsensitiveDict

from chime_conformance.wire.retries import THROTTLING_STATUSES, Retry

__all__ = [
    "BOGUS_SESSION_TOKEN",
    "DEFAULT_CREDENTIALS",
    "EXPIRED_PRESIGNING",
    "OTHER_SERVICE",
    "PRESIGNED_EXPIRES",
    "PRESIGNED_SIGNINGS",
    "PRESIGNING_PARAMETERS",
    "REDACTED",
    "SERVICE",
    "STALE_BY",
    "UNKNOWN_ACCESS_KEY",
    "Exchange",
    "ReceivedResponse",
    "Retry",
    "SentRequest",
    "Signing",
    "is_loopback",
    "other_region",
    "redact_headers",
    "redact_presigned_url",
]

SERVICE = "chime"  # the signing name of both APIs
DEFAULT_CREDENTIALS = ("testing", "testing")  # what the emulator accepts
REDACTED = "[REDACTED]"
SECRET_HEADERS = ("authorization", "x-amz-security-token")
# Variants' fixed values. None of them is a secret.
UNKNOWN_ACCESS_KEY = ("AKIAUNKNOWNCHIMECONF", "unknown-secret-key-of-chime-conformance")
OTHER_SERVICE = "sts"
STALE_BY = datetime.timedelta(minutes=30)  # AWS accepts at most 15 minutes of skew


class Signing(enum.Enum):
    """How a request is signed: correctly, or in one of the ways auth tests need."""

    SIGNED = "signed"
    UNSIGNED = "unsigned"
    TAMPERED = "bad-signature"  # signed, then one hex digit of the signature flipped
    UNKNOWN_KEY = "unknown-access-key"
    OTHER_REGION = "other-region"
    OTHER_SERVICE = "other-service"
    STALE_DATE = "stale-date"  # signed correctly, 30 minutes in the past
    BOGUS_SESSION_TOKEN = "bogus-session-token"  # the run's keys + a token nobody issued
    PRESIGNED = "presigned"  # SigV4 in the query string (SigV4QueryAuth), valid for 5 minutes
    PRESIGNED_EXPIRED = "presigned-expired"  # presigned 10 minutes ago, valid for 1 minute


PRESIGNED_SIGNINGS = frozenset({Signing.PRESIGNED, Signing.PRESIGNED_EXPIRED})
BOGUS_SESSION_TOKEN = "chime-conformance-bogus-session-token"
PRESIGNED_EXPIRES = 300  # seconds
EXPIRED_PRESIGNING = (datetime.timedelta(minutes=10), 60)  # signed this long ago, valid this long
PRESIGNING_PARAMETERS = frozenset(
    {
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
    }
)


def other_region(region: str) -> str:
    """A real region that is not ``region``."""
    return "eu-west-1" if region != "eu-west-1" else "us-west-2"


def is_loopback(url: str) -> bool:
    """Whether ``url``'s host is ``localhost`` or a loopback address."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
    if "X-Amz-Signature=" not in url and "X-Amz-Security-Token=" not in url:
        return url
    base, _, query = url.partition("?")
    pairs = []
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if name in ("X-Amz-Signature", "X-Amz-Security-Token"):
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
        from chime_conformance.wire.reproducers import curl_command

        return curl_command(self)

    def as_python(self) -> str:
        """A Python script that sends this request again, signed by botocore with
        the credentials of its chain (environment variables, profiles)."""
        from chime_conformance.wire.reproducers import python_script

        return python_script(self)
