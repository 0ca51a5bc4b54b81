"""SigV4 verification of requests as received, with botocore's own signer.

The signature is recomputed by ``botocore.auth.SigV4Auth`` over the request as
it arrived: the raw path (botocore percent-encodes it once more, so ``%3A``
becomes ``%253A`` in the canonical URI, as it does for every non-S3 service),
the raw query, the headers named in ``SignedHeaders`` and the body. Using the
client's own code is what makes "boto3 can talk to it" a fact, not a hope.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from chime_conformance.emulator.exceptions import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

SIGNING_SERVICE = "chime"
ALGORITHM = "AWS4-HMAC-SHA256"
MAX_CLOCK_SKEW = timedelta(minutes=15)
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"

_AUTH_PARAM = re.compile(r"(Credential|SignedHeaders|Signature)=([^,\s]*)")


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
    def parse(cls, value: str) -> AuthorizationHeader:
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


class _SignerOverReceivedHeaders(SigV4Auth):
    """botocore's signer, told to sign exactly the headers the client says it signed."""

    def __init__(self, credentials: Credentials, region: str, signed_headers: HTTPHeaders):
        super().__init__(credentials, SIGNING_SERVICE, region)
        self._received_signed_headers = signed_headers

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        return self._received_signed_headers


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
    ) -> None:
        self._secrets = dict(credentials)
        self._region = region
        self._clock = clock

    def verify(self, request: ReceivedRequest) -> str:
        """The caller's access key; raises the AWS error a real endpoint would."""
        value = request.headers.get("authorization")
        if not value:
            raise MissingAuthenticationTokenException("Missing Authentication Token")
        authorization = AuthorizationHeader.parse(value)
        amz_date = self._amz_date(request, authorization)
        secret = self._secrets.get(authorization.access_key)
        if secret is None:
            raise UnrecognizedClientException(
                "The security token included in the request is invalid."
            )
        self._check_scope(authorization)
        self.check_freshness(amz_date)
        self._check_payload_hash(request)
        self.check_signature(request, authorization, amz_date, secret)
        return authorization.access_key

    @staticmethod
    def _amz_date(request: ReceivedRequest, authorization: AuthorizationHeader) -> str:
        amz_date = request.headers.get("x-amz-date", "")
        try:
            datetime.strptime(amz_date, AMZ_DATE_FORMAT)
        except ValueError:
            raise IncompleteSignatureException(
                "Authorization header requires existence of a valid 'X-Amz-Date' header "
                f"in ISO 8601 basic format (YYYYMMDDTHHMMSSZ); got {amz_date!r}."
            ) from None
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
        signed_at = datetime.strptime(amz_date, AMZ_DATE_FORMAT).replace(tzinfo=UTC)
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
        signed_headers = HTTPHeaders()
        for name in authorization.signed_headers:
            value = request.host if name == "host" else request.headers.get(name)
            if value is None:
                raise InvalidSignatureException(
                    f"Signed header {name!r} is missing from the request."
                )
            signed_headers[name] = value
        credentials = Credentials(authorization.access_key, secret)
        signer = _SignerOverReceivedHeaders(credentials, self._region, signed_headers)
        for candidate in self._canonical_variants(request, amz_date):
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

    @staticmethod
    def _canonical_variants(request: ReceivedRequest, amz_date: str) -> list[AWSRequest]:
        """The raw query as botocore signs it, then the spec's normalised form.

        botocore signs the query exactly as it serialized it; other SigV4 clients
        (requests-aws4auth, schemathesis + an auth hook) decode and re-encode each
        pair as the SigV4 specification says. Both are correct signatures.
        """
        url = f"http://{request.host}{request.raw_path}"
        as_sent = AWSRequest(
            method=request.method,
            url=f"{url}?{request.raw_query}" if request.raw_query else url,
            data=request.body,
        )
        variants = [as_sent]
        if request.raw_query:
            pairs = parse_qsl(request.raw_query, keep_blank_values=True)
            variants.append(
                AWSRequest(method=request.method, url=url, data=request.body, params=pairs)
            )
        for variant in variants:
            variant.context["timestamp"] = amz_date
        return variants
