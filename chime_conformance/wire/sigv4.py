"""SigV4, once: how the suite signs a request, in each way the auth tests need.

Every signature is botocore's own (``SigV4Auth`` in the Authorization header,
``SigV4QueryAuth`` in the query string), computed at the moment the caller
gives rather than at the clock's, so a stale date or an expired presigning is
signed exactly as botocore would have signed it then. The client signs with
:func:`sign`, the reproducers name the same scopes and fixed values, and the
emulator's verifier reads the same presigning parameters.

Imports nothing of the suite (the emulator depends on it; pyproject.toml's
import-linter contracts say so).
"""

from __future__ import annotations

import datetime
import enum
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import botocore.credentials
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest

__all__ = [
    "AMZ_DATE_FORMAT",
    "BOGUS_SESSION_TOKEN",
    "DEFAULT_CREDENTIALS",
    "EXPIRED_PRESIGNING",
    "OTHER_SERVICE",
    "PRESIGNED_EXPIRES",
    "PRESIGNED_SIGNINGS",
    "PRESIGNING_PARAMETERS",
    "SERVICE",
    "SESSION_TOKEN_PARAMETER",
    "STALE_BY",
    "UNKNOWN_ACCESS_KEY",
    "Signed",
    "Signing",
    "is_loopback",
    "other_region",
    "sign",
    "signing_credentials",
    "signing_scope",
]

SERVICE = "chime"  # the signing name of both APIs
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
DEFAULT_CREDENTIALS = ("testing", "testing")  # what the emulator accepts
# Variants' fixed values. None of them is a secret.
UNKNOWN_ACCESS_KEY = ("AKIAUNKNOWNCHIMECONF", "unknown-secret-key-of-chime-conformance")
OTHER_SERVICE = "sts"
STALE_BY = datetime.timedelta(minutes=30)  # AWS accepts at most 15 minutes of skew
BOGUS_SESSION_TOKEN = "chime-conformance-bogus-session-token"
PRESIGNED_EXPIRES = 300  # seconds
EXPIRED_PRESIGNING = (datetime.timedelta(minutes=10), 60)  # signed this long ago, valid this long
# The query parameters SigV4QueryAuth writes, in the order a verifier asks for
# them; the session token joins them when the credentials carry one.
PRESIGNING_PARAMETERS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)
SESSION_TOKEN_PARAMETER = "X-Amz-Security-Token"


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


def other_region(region: str) -> str:
    """A real region that is not ``region``."""
    return "eu-west-1" if region != "eu-west-1" else "us-west-2"


def is_loopback(url: str) -> bool:
    """Whether ``url``'s host is this machine: ``localhost``, a name under
    ``.localhost`` (RFC 6761 reserves them all for loopback) or a loopback
    address. Such a target is never AWS and never behind a proxy."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def signing_scope(signing: Signing, region: str) -> tuple[str, str]:
    """The region and service ``signing`` signs for, given the run's ``region``."""
    if signing is Signing.OTHER_REGION:
        region = other_region(region)
    return region, OTHER_SERVICE if signing is Signing.OTHER_SERVICE else SERVICE


def signing_credentials(
    signing: Signing, credentials: botocore.credentials.Credentials
) -> botocore.credentials.Credentials:
    """The credentials ``signing`` signs with, given the run's ``credentials``
    (frozen: refreshable ones could change between the reads of one signature)."""
    if signing is Signing.UNKNOWN_KEY:
        return botocore.credentials.Credentials(*UNKNOWN_ACCESS_KEY)
    frozen = credentials.get_frozen_credentials()
    token = BOGUS_SESSION_TOKEN if signing is Signing.BOGUS_SESSION_TOKEN else frozen.token
    return botocore.credentials.Credentials(frozen.access_key, frozen.secret_key, token)


@dataclass(frozen=True)
class Signed:
    """What signing changes: the URL (a presigned one carries the signature)
    and the headers to set (Authorization, X-Amz-Date, X-Amz-Security-Token)."""

    url: str
    headers: Mapping[str, str]


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    signing: Signing,
    credentials: botocore.credentials.Credentials,
    region: str,
    now: datetime.datetime,
) -> Signed:
    """Sign the request ``method url`` (``url`` as sent: encoded, with its
    query) over ``headers`` (all of them but those SigV4 never signs, such as
    User-Agent) and ``body``, at ``now`` (UTC), in the way ``signing`` says."""
    if signing is Signing.UNSIGNED:
        return Signed(url, {})
    if signing in PRESIGNED_SIGNINGS:
        return _presigned(method, url, body, signing, credentials, region, now)
    credentials = signing_credentials(signing, credentials)
    region, service = signing_scope(signing, region)
    at = now - STALE_BY if signing is Signing.STALE_DATE else now
    unsigned = {name: value for name, value in headers.items() if name.lower() != "x-amz-date"}
    request = AWSRequest(method=method, url=url, data=body, headers=unsigned)
    _sign_at(SigV4Auth(credentials, service, region), request, at)
    added = {
        name: request.headers[name]
        for name in ("X-Amz-Date", SESSION_TOKEN_PARAMETER, "Authorization")
        if name in request.headers
    }
    if signing is Signing.TAMPERED:
        authorization = added["Authorization"]
        added["Authorization"] = authorization[:-1] + ("0" if authorization[-1] != "0" else "1")
    return Signed(url, added)


def _presigned(
    method: str,
    url: str,
    body: bytes | None,
    signing: Signing,
    credentials: botocore.credentials.Credentials,
    region: str,
    now: datetime.datetime,
) -> Signed:
    if body:
        raise ValueError("only a request without a body can be presigned")
    expired = signing is Signing.PRESIGNED_EXPIRED
    ago, expires = EXPIRED_PRESIGNING if expired else (datetime.timedelta(0), PRESIGNED_EXPIRES)
    credentials = signing_credentials(signing, credentials)
    request = AWSRequest(method=method, url=url)
    _sign_at(SigV4QueryAuth(credentials, SERVICE, region, expires), request, now - ago)
    return Signed(str(request.url), {})


def _sign_at(signer: SigV4Auth, request: AWSRequest, at: datetime.datetime) -> None:
    # botocore's add_auth() stamps the clock's time; these are its steps, at ``at``.
    request.context["timestamp"] = at.strftime(AMZ_DATE_FORMAT)
    signer._modify_request_before_signing(request)
    canonical = signer.canonical_request(request)
    signature = signer.signature(signer.string_to_sign(request, canonical), request)
    signer._inject_signature_to_request(request, signature)
