"""SigV4 verification of requests as received, with botocore's own signer.

The signature is recomputed by ``botocore.auth.SigV4Auth`` over the request as
it arrived: the raw path (botocore percent-encodes it once more, so ``%3A``
becomes ``%253A`` in the canonical URI, as it does for every non-S3 service),
the raw query, the headers named in ``SignedHeaders`` and the body. Using the
client's own code is what makes "boto3 can talk to it" a fact, not a hope.

Two more forms of the same signature (docs/contract.md, rules session-token
and presigned): temporary credentials, whose ``X-Amz-Security-Token`` must be
the one issued with the key (an unknown token, or a token sent with long-term
keys, is 403 UnrecognizedClientException); and a presigned request, SigV4 in
the query string as ``botocore.auth.SigV4QueryAuth`` writes it, accepted until
``X-Amz-Date`` + ``X-Amz-Expires``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials
from botocore.utils import normalize_url_path

from chime_conformance.emulator.exceptions import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)
from chime_conformance.wire.sigv4 import PRESIGNING_PARAMETERS as PRESIGNED_PARAMETERS

SIGNING_SERVICE = "chime"
ALGORITHM = "AWS4-HMAC-SHA256"
MAX_CLOCK_SKEW = timedelta(minutes=15)
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
# AMZ_DATE_FORMAT exactly: four, then five pairs of ASCII digits (strptime also takes
# one-digit fields and is ten times slower; SigV4's basic format has none)
_AMZ_DATE = re.compile(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z", re.ASCII)
# the characters quote(path, safe="/~") keeps as they are, and "%" (which it writes "%25")
_QUOTED_AS_IS_OR_PERCENT = re.compile(r"[A-Za-z0-9_.~/%-]*", re.ASCII)

_AUTH_PARAM = re.compile(r"(Credential|SignedHeaders|Signature)=([^,\s]*)")
# the header exactly as botocore writes it: parsed in one match (any other form takes
# the general parse below, which reads the same three parameters)
_AUTH_AS_BOTOCORE_WRITES_IT = re.compile(
    r"AWS4-HMAC-SHA256 Credential=([^,\s/]*)/([^,\s/]*)/([^,\s/]*)/([^,\s/]*)/([^,\s/]*), "
    r"SignedHeaders=([^,\s]*), Signature=([^,\s]*)"
)
# X-Amz-Expires is at most 7 days (SigV4 specification)
MAX_PRESIGNED_EXPIRES = 7 * 24 * 3600
INVALID_TOKEN = "The security token included in the request is invalid."


@dataclass(frozen=True)
class ReceivedRequest:
    """What SigV4 covers, exactly as it came off the wire."""

    method: str
    host: str
    raw_path: str
    raw_query: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class AuthorizationHeader:
    access_key: str
    scope_date: str
    scope_region: str
    scope_service: str
    scope_terminator: str
    signed_headers: tuple[str, ...]
    signature: str

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> AuthorizationHeader:
        """The same parameters, as a presigned request carries them."""
        missing = [name for name in PRESIGNED_PARAMETERS if name not in query]
        if missing:
            raise IncompleteSignatureException(
                f"A presigned request requires the '{missing[0]}' query parameter."
            )
        return cls.parse(
            f"{query['X-Amz-Algorithm']} Credential={query['X-Amz-Credential']}, "
            f"SignedHeaders={query['X-Amz-SignedHeaders']}, Signature={query['X-Amz-Signature']}"
        )

    @classmethod
    def parse(cls, value: str) -> AuthorizationHeader:
        usual = _AUTH_AS_BOTOCORE_WRITES_IT.fullmatch(value)
        if usual is not None:
            access_key, date, region, service, terminator, signed, signature = usual.groups()
            return cls(
                access_key, date, region, service, terminator, tuple(signed.split(";")), signature
            )
        return cls.parse_any_form(value)

    @classmethod
    def parse_any_form(cls, value: str) -> AuthorizationHeader:
        algorithm, _, rest = value.strip().partition(" ")
        if algorithm != ALGORITHM:
            raise IncompleteSignatureException(
                f"Authorization header requires the {ALGORITHM} algorithm, got {algorithm!r}."
            )
        params = dict(_AUTH_PARAM.findall(rest))
        missing = [
            name for name in ("Credential", "SignedHeaders", "Signature") if name not in params
        ]
        if missing:
            raise IncompleteSignatureException(
                f"Authorization header requires '{missing[0]}' parameter."
            )
        scope = params["Credential"].split("/")
        if len(scope) != 5:
            raise IncompleteSignatureException(
                "Credential must have exactly 5 slash-delimited elements, "
                "e.g. keyid/date/region/service/term."
            )
        access_key, date, region, service, terminator = scope
        return cls(
            access_key,
            date,
            region,
            service,
            terminator,
            tuple(params["SignedHeaders"].split(";")),
            params["Signature"],
        )


@lru_cache(maxsize=64)  # verify() reads the one date twice (scope, then freshness)
def parse_amz_date(value: str) -> datetime | None:
    """An ``X-Amz-Date`` in SigV4's basic format (YYYYMMDDTHHMMSSZ) as a UTC time;
    None if it is not one (a malformed or impossible date)."""
    match = _AMZ_DATE.fullmatch(value)
    if match is None:
        return None
    try:
        year, month, day, hour, minute, second = map(int, match.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:  # 20240230T..., 25:00:00, ...
        return None


# The request-specific part of a canonical request, passed to the signer through
# the candidate's context so that one signer serves every request of a key.
_SIGNED_HEADERS = "chime_conformance.signed_headers"


class _HeadersToSign(dict[str, list[str]]):
    """The signed headers as received: what botocore reads of an HTTPHeaders (names in
    order, every value of a name), without building an email.message.Message per request."""

    def get_all(self, name: str) -> list[str]:
        return self[name]


@lru_cache(maxsize=256)
def _signing_hmac(secret: str, date: str, region: str, service: str) -> hmac.HMAC:
    """SigV4's derived key: ``SigV4Auth.signature``'s four HMACs, the same for every
    request of a key on a day, so computed once (the SigV4 specification suggests it);
    returned as an HMAC keyed with it, which each request copies (keying an HMAC costs
    OpenSSL more than hashing a string to sign)."""
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


class _SignerOverReceivedHeaders(SigV4Auth):
    """botocore's signer, told to sign exactly the headers the client says it signed.

    The canonical request and the string to sign are botocore's own; only where the
    signed headers come from (the candidate's context), the body's hash (of the bytes
    as received, without botocore preparing the whole request to reach them) and the
    derived key (cached) differ. tests/emulator/test_emulator_auth_fast_path.py holds each to
    botocore's.
    """

    def __init__(self, credentials: Credentials, region: str):
        super().__init__(credentials, SIGNING_SERVICE, region)

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        headers: HTTPHeaders = request.context[_SIGNED_HEADERS]
        return headers

    def _normalize_url_path(self, path: str) -> str:
        # botocore quotes the path byte by byte; a path of unreserved characters and
        # percent-escapes (every path of this API, ARN labels included) needs only its "%"
        # escaped, as quote() does. Any other path takes botocore's own way.
        if path.startswith("/") and "//" not in path and "/." not in path:
            normalized = path  # no empty and no dot segment: botocore's would be the same
        else:
            normalized = normalize_url_path(path)
        if _QUOTED_AS_IS_OR_PERCENT.fullmatch(normalized):
            return normalized.replace("%", "%25")
        return str(super()._normalize_url_path(path))

    def payload(self, request: AWSRequest) -> str:
        if isinstance(request.data, bytes) and request.url.startswith("http://"):
            # botocore: always hashed over plain HTTP; hash of b"" == EMPTY_SHA256_HASH
            return hashlib.sha256(request.data).hexdigest()
        return str(super().payload(request))

    def signature(self, string_to_sign: str, request: AWSRequest) -> str:
        keyed = _signing_hmac(
            self.credentials.secret_key,
            request.context["timestamp"][0:8],
            self._region_name,
            self._service_name,
        ).copy()
        keyed.update(string_to_sign.encode("utf-8"))
        return keyed.hexdigest()

    def string_to_sign(self, request: AWSRequest, canonical_request: str) -> str:
        # botocore's four lines, the credential scope written at once
        timestamp = request.context["timestamp"]
        digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
        return (
            f"{ALGORITHM}\n{timestamp}\n"
            f"{timestamp[0:8]}/{self._region_name}/{self._service_name}/aws4_request\n{digest}"
        )

    def canonical_request(self, request: AWSRequest) -> str:
        if request.params:  # the normalised variant: botocore's as it is
            return str(super().canonical_request(request))
        # botocore's steps in botocore's order, for a request that carries its query in
        # its URL (the variant as sent): its URL split once
        headers = self.headers_to_sign(request)
        names = sorted(headers)  # a dict's names are distinct: botocore's set() is a no-op
        canonical_headers = "\n".join(
            f"{name}:{','.join(map(self._header_value, headers[name]))}" for name in names
        )
        url = urlsplit(request.url)
        return "\n".join(
            (
                request.method.upper(),
                self._normalize_url_path(url.path),
                self._canonical_query_string_url(url),
                canonical_headers + "\n",
                ";".join(sorted([name.lower().strip() for name in names])),
                request.headers["X-Amz-Content-SHA256"]
                if "X-Amz-Content-SHA256" in request.headers
                else self.payload(request),
            )
        )


@lru_cache(maxsize=64)
def _signer(access_key: str, secret: str, region: str) -> _SignerOverReceivedHeaders:
    return _SignerOverReceivedHeaders(Credentials(access_key, secret), region)


class SigV4Verifier:
    """Checks a request's SigV4 signature against the configured credentials.

    ``check_freshness`` and ``check_signature`` are public steps a subclass may
    override (the emulator's auth faults do).
    """

    def __init__(
        self,
        credentials: Mapping[str, str],
        region: str,
        *,
        clock: Callable[[], float] = time.time,
        session_tokens: Mapping[str, str] | None = None,
    ) -> None:
        self._secrets = dict(credentials)
        self._region = region
        self._clock = clock
        # access key -> the session token issued with it (temporary credentials)
        self._session_tokens = dict(session_tokens or {})

    def verify(self, request: ReceivedRequest) -> str:
        """The caller's access key; raises the AWS error a real endpoint would."""
        value = request.headers.get("authorization")
        if not value:
            query = dict(parse_qsl(request.raw_query, keep_blank_values=True))
            if "X-Amz-Signature" in query or "X-Amz-Algorithm" in query:
                return self.verify_presigned(request, query)
            raise MissingAuthenticationTokenException("Missing Authentication Token")
        authorization = AuthorizationHeader.parse(value)
        amz_date = self._amz_date(request, authorization)
        token = request.headers.get("x-amz-security-token")
        secret = self.secret_for(authorization.access_key, token)
        if token is not None and "x-amz-security-token" not in authorization.signed_headers:
            raise InvalidSignatureException("'X-Amz-Security-Token' must be a signed header.")
        self._check_scope(authorization)
        self.check_freshness(amz_date)
        self._check_payload_hash(request)
        self.check_signature(request, authorization, amz_date, secret)
        return authorization.access_key

    def verify_presigned(self, request: ReceivedRequest, query: Mapping[str, str]) -> str:
        """SigV4 in the query string (``SigV4QueryAuth``), valid until it expires."""
        authorization = AuthorizationHeader.from_query(query)
        amz_date = query["X-Amz-Date"]
        headers = {**request.headers, "x-amz-date": amz_date}
        self._amz_date(replace(request, headers=headers), authorization)
        secret = self.secret_for(authorization.access_key, query.get("X-Amz-Security-Token"))
        self._check_scope(authorization)
        self.check_expiry(amz_date, query["X-Amz-Expires"])
        # the canonical query holds every parameter but the signature itself
        unsigned_query = "&".join(
            pair
            for pair in request.raw_query.split("&")
            if pair.partition("=")[0] != "X-Amz-Signature"
        )
        self.check_signature(
            replace(request, raw_query=unsigned_query), authorization, amz_date, secret
        )
        return authorization.access_key

    def session_token_of(self, access_key: str) -> str | None:
        """The session token issued with ``access_key`` (None: a long-term key)."""
        return self._session_tokens.get(access_key)

    def secret_for(self, access_key: str, token: str | None) -> str:
        """The key's secret, if the key is known and comes with its own session token."""
        secret = self._secrets.get(access_key)
        if secret is None or token != self.session_token_of(access_key):
            raise UnrecognizedClientException(INVALID_TOKEN)
        return secret

    def check_expiry(self, amz_date: str, expires: str) -> None:
        if not expires.isdigit() or not 1 <= int(expires) <= MAX_PRESIGNED_EXPIRES:
            raise IncompleteSignatureException(
                f"X-Amz-Expires must be a number of seconds from 1 to {MAX_PRESIGNED_EXPIRES}; "
                f"got {expires[:20]!r}."
            )
        signed_at = _signed_at(amz_date)
        now = datetime.fromtimestamp(self._clock(), UTC)
        if now > signed_at + timedelta(seconds=int(expires)):
            raise InvalidSignatureException(
                f"Signature expired: {amz_date} + {expires} seconds is now earlier than "
                f"{now.strftime(AMZ_DATE_FORMAT)}."
            )
        if signed_at > now + MAX_CLOCK_SKEW:
            raise InvalidSignatureException(
                f"Signature not yet current: {amz_date} is still later than "
                f"{(now + MAX_CLOCK_SKEW).strftime(AMZ_DATE_FORMAT)}."
            )

    @staticmethod
    def _amz_date(request: ReceivedRequest, authorization: AuthorizationHeader) -> str:
        amz_date = request.headers.get("x-amz-date", "")
        _signed_at(amz_date)
        if "host" not in authorization.signed_headers:
            raise InvalidSignatureException(
                "'Host' must be a 'SignedHeader' in the AWS Authorization."
            )
        if authorization.scope_date != amz_date[:8]:
            raise InvalidSignatureException(
                f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                f"date from HTTP: '{authorization.scope_date}' != '{amz_date[:8]}', "
                f"from '{amz_date}'."
            )
        return amz_date

    def _check_scope(self, authorization: AuthorizationHeader) -> None:
        if authorization.scope_region != self._region:
            raise InvalidSignatureException(
                f"Credential should be scoped to a valid region, not "
                f"'{authorization.scope_region}'. This endpoint serves '{self._region}'."
            )
        if authorization.scope_service != SIGNING_SERVICE:
            raise InvalidSignatureException(
                f"Credential should be scoped to correct service: '{SIGNING_SERVICE}'. "
            )
        if authorization.scope_terminator != "aws4_request":
            raise InvalidSignatureException(
                "Credential should be scoped with a valid terminator: 'aws4_request', "
                f"not '{authorization.scope_terminator}'."
            )

    def check_freshness(self, amz_date: str) -> None:
        signed_at = _signed_at(amz_date)
        now = datetime.fromtimestamp(self._clock(), UTC)
        stamp = "%Y%m%dT%H%M%SZ"
        if signed_at < now - MAX_CLOCK_SKEW:
            raise InvalidSignatureException(
                f"Signature expired: {amz_date} is now earlier than "
                f"{(now - MAX_CLOCK_SKEW).strftime(stamp)} ({now.strftime(stamp)} - 15 min.)"
            )
        if signed_at > now + MAX_CLOCK_SKEW:
            raise InvalidSignatureException(
                f"Signature not yet current: {amz_date} is still later than "
                f"{(now + MAX_CLOCK_SKEW).strftime(stamp)} ({now.strftime(stamp)} + 15 min.)"
            )

    @staticmethod
    def _check_payload_hash(request: ReceivedRequest) -> None:
        # Without this, a body could be swapped under a header claiming the old hash.
        claimed = request.headers.get("x-amz-content-sha256")
        if claimed is not None and claimed != hashlib.sha256(request.body).hexdigest():
            raise InvalidSignatureException(
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            )

    def check_signature(
        self,
        request: ReceivedRequest,
        authorization: AuthorizationHeader,
        amz_date: str,
        secret: str,
    ) -> None:
        signed_headers = _HeadersToSign()
        for name in authorization.signed_headers:
            value = request.host if name == "host" else request.headers.get(name)
            if value is None:
                raise InvalidSignatureException(
                    f"Signed header {name!r} is missing from the request."
                )
            signed_headers.setdefault(name, []).append(value)  # as HTTPHeaders: repeats kept
        signer = _signer(authorization.access_key, secret, self._region)
        for candidate in self.canonical_variants(request, amz_date):
            candidate.context[_SIGNED_HEADERS] = signed_headers
            canonical_request = signer.canonical_request(candidate)
            string_to_sign = signer.string_to_sign(candidate, canonical_request)
            expected = signer.signature(string_to_sign, candidate)
            if hmac.compare_digest(expected, authorization.signature):
                return
        raise InvalidSignatureException(
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. "
            "Consult the service documentation for details."
        )

    def canonical_variants(self, request: ReceivedRequest, amz_date: str) -> Iterator[AWSRequest]:
        """The raw query as botocore signs it, then the spec's normalised form.

        botocore signs the query exactly as it serialized it; other SigV4 clients
        (requests-aws4auth, schemathesis + an auth hook) decode and re-encode each
        pair as the SigV4 specification says. Both are correct signatures. Each is
        made only when the one before did not match (the suite signs as botocore).
        """
        url = f"http://{request.host}{request.raw_path}"
        as_sent = AWSRequest(
            method=request.method,
            url=f"{url}?{request.raw_query}" if request.raw_query else url,
            data=request.body,
        )
        as_sent.context["timestamp"] = amz_date
        yield as_sent
        if request.raw_query:
            pairs = parse_qsl(request.raw_query, keep_blank_values=True)
            normalised = AWSRequest(method=request.method, url=url, data=request.body, params=pairs)
            normalised.context["timestamp"] = amz_date
            yield normalised


def _signed_at(amz_date: str) -> datetime:
    signed_at = parse_amz_date(amz_date)
    if signed_at is None:
        raise IncompleteSignatureException(
            "Authorization header requires existence of a valid 'X-Amz-Date' header "
            f"in ISO 8601 basic format (YYYYMMDDTHHMMSSZ); got {amz_date!r}."
        )
    return signed_at


def verifier_for(
    config: Any,
    *,
    clock: Callable[[], float] = time.time,
    kind: type[SigV4Verifier] = SigV4Verifier,
    region: str | None = None,
) -> SigV4Verifier:
    """The verifier (of class ``kind``) of an EmulatorConfig: the long-term key of
    each of its identities and, if configured, its temporary credentials (access
    key, secret key, session token)."""
    secrets = {identity.access_key: identity.secret_key for identity in config.all_identities}
    tokens = {}
    temporary = getattr(config, "temporary_credentials", None)
    if temporary:
        access_key, secret_key, token = temporary
        secrets[access_key] = secret_key
        tokens[access_key] = token
    return kind(secrets, region or config.region, clock=clock, session_tokens=tokens)
