"""SigV4-signed raw HTTP to the endpoint under test.

The suite must put invalid inputs on the wire exactly as they were generated,
so this client never validates: it turns ``(operation, members)`` into the
request boto3 would send (path labels percent-encoded, query members under
their wire names, a JSON body only when body members are present) and signs it
the way botocore does. Every call yields an :class:`Exchange`, a frozen record
of what was sent (secrets redacted) and received, that reproduces itself as a
curl command or a Python script.

Transport only: nothing here knows about pytest or about the contract.
"""

from __future__ import annotations

import datetime
import enum
import ipaddress
import json
import random
import shlex
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import botocore.credentials
import botocore.session
import requests
import requests.adapters
import urllib3.exceptions
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.utils import normalize_url_path
from requests.structures import CaseInsensitiveDict
from requests.utils import requote_uri
from requests_aws4auth import AWS4Auth

from chime_conformance import spec

__all__ = [
    "GENERATED_HEADERS",
    "REDACTED",
    "SERVICE",
    "BotocoreSigV4Auth",
    "ChimeClient",
    "ClientError",
    "ConnectionLost",
    "Exchange",
    "ReceivedResponse",
    "RequestTimedOut",
    "Retry",
    "RetryPolicy",
    "SentRequest",
    "Signing",
    "TargetUnreachable",
    "Timeouts",
    "WireRequest",
    "build_request",
    "encode_path_label",
    "is_loopback",
    "other_region",
    "redact_headers",
    "resolve_credentials",
]

SERVICE = "chime"  # the signing name of both APIs
DEFAULT_CREDENTIALS = ("testing", "testing")  # what the emulator accepts
REDACTED = "[REDACTED]"
SECRET_HEADERS = ("authorization", "x-amz-security-token")
# Variants' fixed values. None of them is a secret.
UNKNOWN_ACCESS_KEY = ("AKIAUNKNOWNCHIMECONF", "unknown-secret-key-of-chime-conformance")
OTHER_SERVICE = "sts"
STALE_BY = datetime.timedelta(minutes=30)  # AWS accepts at most 15 minutes of skew
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"


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


# --------------------------------------------------------------------------
# Failures of the transport (never of the contract)


class ClientError(Exception):
    """The request got no HTTP answer; ``str()`` is one sentence."""


class TargetUnreachable(ClientError):
    """No connection to the target at all: the run should stop, not fail each test."""

    def __init__(self, url: str, cause: str) -> None:
        super().__init__(f"Cannot reach {url}: {cause}.")
        self.url = url
        self.cause = cause


class ConnectionLost(ClientError):
    """The target accepted connections but kept dropping them, retries exhausted."""

    def __init__(self, url: str, retries: tuple[Retry, ...]) -> None:
        super().__init__(
            f"{url} dropped the connection {len(retries) + 1} times in a row; giving up."
        )
        self.url = url
        self.retries = retries


class RequestTimedOut(ClientError):
    """The target did not answer within the read timeout (not retried: it may have acted)."""

    def __init__(self, url: str, seconds: float) -> None:
        super().__init__(f"{url} sent no answer within {seconds:g} s.")
        self.url = url
        self.seconds = seconds


# --------------------------------------------------------------------------
# Settings


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for a connection and then for each read of the answer."""

    connect: float = 3.05
    read: float = 30.0


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter.

    Only answers that mean "try later" (429, 503) and dropped connections are
    retried; a read timeout is not, because the server may have acted.
    """

    max_retries: int = 3
    base_delay: float = 0.2
    max_delay: float = 5.0
    statuses: frozenset[int] = frozenset({429, 503})

    def delay(self, retry_number: int, retry_after: str | None = None) -> float:
        """Seconds before retry ``retry_number`` (0-based): ``Retry-After`` if the
        server gave a usable one, else half the exponential step plus jitter."""
        if retry_after is not None and retry_after.strip().isdigit():
            return min(float(retry_after), self.max_delay)
        step = min(self.max_delay, self.base_delay * 2**retry_number)
        return step / 2 + random.uniform(0, step / 2)


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
class Retry:
    """One retry: which attempt failed, why, and how long we waited."""

    attempt: int  # 1-based number of the attempt that was retried
    reason: str  # "HTTP 429", "HTTP 503", "connection reset"
    delay: float


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

    def as_curl(self) -> str:
        """A shell command that sends this request again, signed by curl
        (``--aws-sigv4``) with the credentials in ``$AWS_ACCESS_KEY_ID`` etc."""
        return _curl_command(self)

    def as_python(self) -> str:
        """A Python script that sends this request again, signed by botocore with
        the credentials of its chain (environment variables, profiles)."""
        return _python_script(self)


# --------------------------------------------------------------------------
# From (operation, members) to the wire


@dataclass(frozen=True)
class WireRequest:
    """A request before signing: ``path`` is encoded and carries the query string."""

    method: str
    path: str
    body: bytes | None
    headers: Mapping[str, str]


def encode_path_label(value: Any) -> str:
    """``value`` as a path label, percent-encoded as botocore does (``:`` → ``%3A``,
    ``/`` → ``%2F``, ``@`` → ``%40``). Lone surrogates go out as their UTF-8-ish
    bytes, so an invalid generated string still reaches the server."""
    return quote(_as_text(value), safe="", errors="surrogatepass")


def _as_text(value: Any) -> str:
    # Path and query values are text on the wire; generated values of the
    # wrong type go out as the JSON spelling of what was generated.
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float | list | dict):
        return json.dumps(value)
    return str(value)


def _encode_query(pairs: Sequence[tuple[str, Any]]) -> str:
    # botocore.utils.percent_encode_sequence, but tolerant of surrogates
    return "&".join(
        f"{quote(name, safe='-_.~')}={quote(_as_text(value), safe='-_.~', errors='surrogatepass')}"
        for name, value in pairs
    )


def _with_query(path: str, query: str) -> str:
    if not query:
        return path
    return f"{path}{'&' if '?' in path else '?'}{query}"


def build_request(op: spec.Operation, members: Mapping[str, Any]) -> WireRequest:
    """The request boto3 would send for ``members``, without any validation:
    missing path members leave an empty label, nulls and wrong types go out as given."""
    labels: dict[str, str] = {p.wire_name: "" for p in op.path_parameters}
    query: list[tuple[str, Any]] = list(op.query_literals.items())
    body: dict[str, Any] = {}
    for member, value in members.items():
        location, wire_name = _location(op, member)
        if location == "path":
            labels[wire_name] = encode_path_label(value)
        elif location == "query":
            query.append((wire_name, value))
        else:
            body[member] = value
    path = op.path.format(**labels)
    if not body:
        return WireRequest(op.method, _with_query(path, _encode_query(query)), None, {})
    encoded = json.dumps(body).encode("utf-8", errors="surrogatepass")
    headers = {"Content-Type": "application/json"}
    return WireRequest(op.method, _with_query(path, _encode_query(query)), encoded, headers)


def _location(op: spec.Operation, member: str) -> tuple[str, str]:
    try:
        return op.location_of(member)
    except KeyError:
        raise ValueError(
            f"{op.name} has no input member {member!r}; send() sends hand-crafted requests"
        ) from None


# --------------------------------------------------------------------------
# Signing, as botocore signs non-S3 services


class BotocoreSigV4Auth(AWS4Auth):
    """requests-aws4auth with botocore's canonicalisation, so signatures agree.

    requests-aws4auth already percent-encodes the path as sent once more
    (``%3A`` → ``%253A``), as botocore does for non-S3 services. It differs
    from botocore elsewhere: it reads the path with ``urlparse``, which cuts a
    ``;params`` tail off the last segment, and ``posixpath.normpath``; it
    re-parses the query with ``parse_qs``, which turns ``+`` into ``%20``; and
    it signs ``x-amz-content-sha256``, which botocore neither sends nor signs
    for non-S3 services. Here the canonical request is built as botocore's
    ``SigV4Auth.canonical_request`` builds it, over the headers botocore signs.
    """

    def __init__(self, *args: Any, sign_also: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Instance-level: AWS4Auth mutates its class-level default set.
        self.include_hdrs = {"host", "content-type", "x-amz-date", "x-amz-security-token"}
        self.include_hdrs.update(name.lower() for name in sign_also)

    def get_canonical_request(self, req: Any, cano_headers: str, signed_headers: str) -> str:
        parts = urlsplit(str(req.url))
        return "\n".join(
            [
                req.method.upper(),
                quote(normalize_url_path(parts.path), safe="/~"),
                _canonical_query(parts.query),
                cano_headers,
                signed_headers,
                req.headers["x-amz-content-sha256"],
            ]
        )

    @staticmethod
    def amz_norm_whitespace(text: str) -> str:
        return " ".join(text.split())


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs = sorted(tuple(pair.partition("=")[::2]) for pair in query.split("&"))
    return "&".join(f"{key}={value}" for key, value in pairs)


class _TamperedSignature(requests.auth.AuthBase):
    """Signs correctly, then flips the last hex digit of the signature."""

    def __init__(self, inner: AWS4Auth) -> None:
        self.inner = inner

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        signed = self.inner(request)
        authorization = signed.headers["Authorization"]
        flipped = "0" if authorization[-1] != "0" else "1"
        signed.headers["Authorization"] = authorization[:-1] + flipped
        return signed


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


def resolve_credentials(
    url: str, *, profile: str | None = None
) -> botocore.credentials.Credentials:
    """Credentials from botocore's chain (environment variables, profiles, …),
    or ``testing``/``testing`` when the chain has none and ``url`` is loopback."""
    session = botocore.session.Session(profile=profile)
    resolver = botocore.credentials.create_credential_resolver(session)
    if is_loopback(url):
        # Instance and container metadata would be probed over the network
        # (and time out) for a target that only needs the default keys.
        resolver.remove("iam-role")
        resolver.remove("container-role")
    credentials = resolver.load_credentials()
    if credentials is not None:
        return credentials
    if is_loopback(url):
        return botocore.credentials.Credentials(*DEFAULT_CREDENTIALS)
    raise ClientError(
        f"No AWS credentials for {url}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
        "or a profile."
    )


# --------------------------------------------------------------------------
# The client


Observer = Callable[[str, Mapping[str, Any], int, Any], None]


class ChimeClient:
    """A signed client of one target (and, optionally, a separate accounts endpoint).

    Safe to share between threads: each thread gets its own ``requests.Session``
    (a Session's connection pool and cookie jar are not meant to be shared), and
    every request is signed by a fresh signer reading the refreshable credentials.
    """

    def __init__(
        self,
        target_url: str,
        *,
        accounts_url: str | None = None,
        region: str = "us-east-1",
        credentials: botocore.credentials.Credentials | None = None,
        profile: str | None = None,
        timeouts: Timeouts = Timeouts(),  # frozen, so a shared default is harmless
        retry: RetryPolicy = RetryPolicy(),
        observer: Observer | None = None,
        clock: Callable[[], datetime.datetime] | None = None,  # UTC; tests fix it
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.target_url = target_url.rstrip("/")
        self.accounts_url = (accounts_url or target_url).rstrip("/")
        self.region = region
        self.credentials = credentials or resolve_credentials(self.target_url, profile=profile)
        self.timeouts = timeouts
        self.retry = retry
        self.observer = observer
        self._clock = clock or (lambda: datetime.datetime.now(datetime.UTC))
        self._sleep = sleep
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()

    # -- public calls ------------------------------------------------------

    def call(
        self,
        operation: str | spec.Operation,
        members: Mapping[str, Any],
        *,
        signing: Signing = Signing.SIGNED,
    ) -> Exchange:
        """Send ``operation`` with ``members`` (valid or not) and return the exchange."""
        op = spec.operation(operation) if isinstance(operation, str) else operation
        wire = build_request(op, members)
        base = self.accounts_url if op.api == spec.ACCOUNTS else self.target_url
        exchange = self._exchange(
            wire, base, signing=signing, operation=op.name, members=dict(members)
        )
        if self.observer is not None:
            self.observer(op.name, members, exchange.status, exchange.json)
        return exchange

    def send(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | Sequence[tuple[str, Any]] = (),
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        signing: Signing = Signing.SIGNED,
        base_url: str | None = None,
        operation: str | None = None,
    ) -> Exchange:
        """Send a hand-crafted request: ``path`` as given (already encoded, may
        carry a query string), ``query`` pairs percent-encoded and appended,
        ``body`` bytes verbatim; ``headers`` are sent and signed."""
        pairs = list(query.items()) if isinstance(query, Mapping) else list(query)
        wire = WireRequest(method.upper(), _with_query(path, _encode_query(pairs)), body, {})
        return self._exchange(
            wire,
            (base_url or self.target_url).rstrip("/"),
            signing=signing,
            operation=operation,
            extra_headers=dict(headers or {}),
        )

    def probe(self) -> None:
        """Raise :class:`TargetUnreachable` unless the target answers HTTP at all."""
        for url in dict.fromkeys((self.target_url, self.accounts_url)):
            self.send("GET", "/app-instances", base_url=url, signing=Signing.UNSIGNED)

    def close(self) -> None:
        with self._sessions_lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    def __enter__(self) -> ChimeClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- one exchange, with retries ----------------------------------------

    def _exchange(
        self,
        wire: WireRequest,
        base_url: str,
        *,
        signing: Signing,
        operation: str | None,
        members: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Exchange:
        url = base_url + wire.path
        headers = {**wire.headers, **(extra_headers or {})}
        started = time.monotonic()
        retries: list[Retry] = []
        while True:
            prepared = self._prepare(wire.method, url, headers, wire.body, signing)
            reason, response = self._attempt(prepared, url)
            if reason is None or len(retries) >= self.retry.max_retries:
                break
            retry_after = response.headers.get("Retry-After") if response is not None else None
            delay = self.retry.delay(len(retries), retry_after)
            retries.append(Retry(attempt=len(retries) + 1, reason=reason, delay=delay))
            self._sleep(delay)
        if response is None:  # the last attempt lost its connection too
            raise ConnectionLost(url, tuple(retries))
        return Exchange(
            request=SentRequest(
                prepared.method or wire.method, str(prepared.url), prepared.headers, wire.body
            ),
            response=ReceivedResponse(
                response.status_code, dict(response.headers), response.content
            ),
            elapsed=time.monotonic() - started,
            retries=tuple(retries),
            operation=operation,
            members=members,
            signing=signing,
            region=self.region,
        )

    def _attempt(
        self, prepared: requests.PreparedRequest, url: str
    ) -> tuple[str | None, requests.Response | None]:
        """One attempt: (why to retry or None, the answer or None if the connection dropped)."""
        try:
            response = self._session().send(
                prepared,
                timeout=(self.timeouts.connect, self.timeouts.read),
                allow_redirects=False,
            )
        except requests.exceptions.RequestException as error:
            kind = _failure_kind(error)
            if kind == "timeout":
                raise RequestTimedOut(url, self.timeouts.read) from None
            if kind != "reset":
                raise TargetUnreachable(url, kind) from None
            return "connection reset", None
        if response.status_code in self.retry.statuses:
            return f"HTTP {response.status_code}", response
        return None, response

    def _prepare(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        signing: Signing,
    ) -> requests.PreparedRequest:
        headers = {**headers}
        if signing is not Signing.UNSIGNED and signing not in PRESIGNED_SIGNINGS:
            now = self._clock()
            if signing is Signing.STALE_DATE:
                now -= STALE_BY
            headers["X-Amz-Date"] = now.strftime(AMZ_DATE_FORMAT)
        request = requests.Request(method, url, headers=headers, data=body)
        prepared = self._session().prepare_request(request)
        # requests removes dot segments ("/app-instances/.." → "/"), which would
        # send a generated ".." label to another operation; only quote what
        # HTTP cannot carry.
        prepared.url = requote_uri(url)
        auth = self._signer(signing, sign_also=[h for h in headers if h.lower() != "x-amz-date"])
        if auth is not None:
            prepared.prepare_auth(auth)
        return prepared

    def _signer(self, signing: Signing, sign_also: Sequence[str]) -> requests.auth.AuthBase | None:
        if signing is Signing.UNSIGNED:
            return None
        if signing in PRESIGNED_SIGNINGS:
            return QueryStringSigner(
                self.credentials, self.region, self._clock(), signing is Signing.PRESIGNED_EXPIRED
            )
        credentials = self.credentials
        if signing is Signing.BOGUS_SESSION_TOKEN:
            credentials = with_bogus_session_token(credentials)
        if signing is Signing.UNKNOWN_KEY:
            credentials = botocore.credentials.Credentials(*UNKNOWN_ACCESS_KEY)
        region = other_region(self.region) if signing is Signing.OTHER_REGION else self.region
        service = OTHER_SERVICE if signing is Signing.OTHER_SERVICE else SERVICE
        # A fresh signer per request: AWS4Auth keeps per-call state (key, date)
        # on itself, so sharing one between threads would mix requests up.
        auth = BotocoreSigV4Auth(
            refreshable_credentials=credentials, region=region, service=service, sign_also=sign_also
        )
        return _TamperedSignature(auth) if signing is Signing.TAMPERED else auth

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            # Proxies and .netrc from the environment must not reroute or
            # re-authenticate requests to a local target.
            session.trust_env = not is_loopback(self.target_url)
            adapter = requests.adapters.HTTPAdapter(max_retries=0)  # retries are ours
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session


def _causes(error: BaseException) -> Iterator[BaseException]:
    """``error`` and everything it wraps (arguments, causes, urllib3 reasons)."""
    seen: set[int] = set()
    stack: list[BaseException] = [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        wrapped.extend(arg for arg in current.args if isinstance(arg, BaseException))
        stack.extend(item for item in wrapped if isinstance(item, BaseException))


def _failure_kind(error: requests.exceptions.RequestException) -> str:
    """ "reset", "timeout", or why the target is unreachable (a phrase)."""
    causes = list(_causes(error))

    def caused_by(*types: type[BaseException]) -> bool:
        return any(isinstance(cause, types) for cause in causes)

    # Order matters: urllib3's NewConnectionError subclasses ConnectTimeoutError.
    if caused_by(ConnectionRefusedError):
        return "connection refused"
    if caused_by(socket.gaierror, urllib3.exceptions.NameResolutionError):
        return "host name not resolved"
    if caused_by(requests.exceptions.ConnectTimeout) or any(
        type(cause) is urllib3.exceptions.ConnectTimeoutError for cause in causes
    ):
        return "no connection within the connect timeout"
    if caused_by(requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError):
        return "timeout"
    if caused_by(urllib3.exceptions.NewConnectionError):
        return "cannot open a connection"
    if isinstance(error, requests.exceptions.ConnectionError):
        return "reset"  # connected, then dropped: reset, broken pipe, remote disconnect
    return type(error).__name__


# --------------------------------------------------------------------------
# Reproducers

# Headers the HTTP library or the signer adds by itself; reproducers leave them out.
GENERATED_HEADERS = frozenset(
    {
        "authorization",
        "x-amz-date",
        "x-amz-content-sha256",
        "x-amz-security-token",
        "host",
        "content-length",
        "user-agent",
        "accept",
        "accept-encoding",
        "connection",
    }
)
_VARIANT_NOTES = {
    Signing.TAMPERED: "the signature was tampered with; edit the Authorization header to redo it",
    Signing.STALE_DATE: "the request was signed 30 minutes in the past",
    Signing.BOGUS_SESSION_TOKEN: "sign it with X-Amz-Security-Token: " + BOGUS_SESSION_TOKEN,
    Signing.PRESIGNED: "presigned in the URL's query (redacted here); run the Python reproducer",
    Signing.PRESIGNED_EXPIRED: "presigned 10 minutes ago for 60 s; run the Python reproducer",
}


def _replayed_headers(exchange: Exchange) -> dict[str, str]:
    return {
        name: value
        for name, value in exchange.request.headers.items()
        if name.lower() not in GENERATED_HEADERS
    }


def _had_session_token(exchange: Exchange) -> bool:
    return "x-amz-security-token" in exchange.request.headers


def _signing_scope(exchange: Exchange) -> tuple[str, str]:
    region = exchange.region
    if exchange.signing is Signing.OTHER_REGION:
        region = other_region(region)
    service = OTHER_SERVICE if exchange.signing is Signing.OTHER_SERVICE else SERVICE
    return region, service


def _curl_command(exchange: Exchange) -> str:
    request = exchange.request
    lines = [f"curl --globoff --request {request.method} {shlex.quote(request.url)}"]
    if exchange.signing is not Signing.UNSIGNED and exchange.signing not in PRESIGNED_SIGNINGS:
        lines.extend(_curl_signing_options(exchange))
    for name, value in _replayed_headers(exchange).items():
        lines.append(f"--header {shlex.quote(f'{name}: {value}')}")
    prefix = ""
    if request.body:
        text = _printable(request.body)
        if text is not None:
            lines.append(f"--data-binary {shlex.quote(text)}")
        else:
            prefix = f"printf {shlex.quote(_printf_escaped(request.body))} | "
            lines.append("--data-binary @-")
    return _curl_comments(exchange) + prefix + " \\\n  ".join(lines)


def _curl_signing_options(exchange: Exchange) -> list[str]:
    region, service = _signing_scope(exchange)
    if exchange.signing is Signing.UNKNOWN_KEY:
        user = shlex.quote(":".join(UNKNOWN_ACCESS_KEY))
    elif is_loopback(exchange.request.url):
        user = '"${AWS_ACCESS_KEY_ID:-testing}:${AWS_SECRET_ACCESS_KEY:-testing}"'
    else:
        user = '"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"'
    options = [f"--aws-sigv4 {shlex.quote(f'aws:amz:{region}:{service}')} --user {user}"]
    if _had_session_token(exchange):
        options.append('--header "X-Amz-Security-Token: $AWS_SESSION_TOKEN"')
    return options


def _curl_comments(exchange: Exchange) -> str:
    subject = f"# {exchange.operation or 'request'} ({exchange.signing.value})"
    notes = []
    if exchange.signing in _VARIANT_NOTES:
        notes.append(f"{subject}: {_VARIANT_NOTES[exchange.signing]}")
    if exchange.signing is not Signing.UNSIGNED and "%" in urlsplit(exchange.request.url).path:
        # curl (at least to 7.88) signs the path as sent; botocore encodes it again
        notes.append(
            f"{subject}: curl signs percent-encoded paths unlike botocore; if the answer is "
            "InvalidSignatureException, run the Python reproducer instead"
        )
    return "".join(note + "\n" for note in notes)


def _printable(body: bytes) -> str | None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.isprintable() else None


def _printf_escaped(body: bytes) -> str:
    return "".join(
        chr(byte) if 0x20 <= byte < 0x7F and chr(byte) not in "%\\" else f"\\{byte:03o}"
        for byte in body
    )


def _python_script(exchange: Exchange) -> str:
    request = exchange.request
    region, service = _signing_scope(exchange)
    headers = _replayed_headers(exchange)
    if exchange.signing is Signing.UNKNOWN_KEY:
        credentials = f"Credentials{UNKNOWN_ACCESS_KEY!r}"
    elif is_loopback(request.url):
        credentials = (
            f"botocore.session.Session().get_credentials() or Credentials{DEFAULT_CREDENTIALS!r}"
        )
    else:
        credentials = "botocore.session.Session().get_credentials()"
    lines = [
        f"# Reproduces {exchange.operation or 'a request'} (signing: {exchange.signing.value}).",
        *_python_imports(exchange),
        "import botocore.session",
        "import requests",
        "from botocore.auth import SigV4Auth, SigV4QueryAuth",
        "from botocore.awsrequest import AWSRequest",
        "from botocore.credentials import Credentials",
        "",
        *(
            ['os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")  # a local target']
            if is_loopback(request.url)
            else []
        ),
        f"credentials = {credentials}",
        *(
            [
                "credentials = Credentials(credentials.access_key, credentials.secret_key, "
                f"{BOGUS_SESSION_TOKEN!r})"
            ]
            if exchange.signing is Signing.BOGUS_SESSION_TOKEN
            else []
        ),
        f"request = AWSRequest(method={request.method!r}, url={_replayed_url(exchange)!r},",
        f"                     data={request.body!r}, headers={headers!r})",
        *_python_signing_lines(exchange.signing, region, service),
        "response = requests.request(request.method, request.url, data=request.body,",
        "                            headers=dict(request.headers.items()), timeout=30)",
        'print(response.status_code, response.headers.get("x-amzn-ErrorType"))',
        "print(response.text)",
    ]
    return "\n".join(lines) + "\n"


def _python_imports(exchange: Exchange) -> list[str]:
    imports = ["import os"] if is_loopback(exchange.request.url) else []
    if exchange.signing in (Signing.STALE_DATE, Signing.PRESIGNED_EXPIRED):
        imports += ["import datetime", "from unittest import mock"]
    return [*imports, ""] if imports else []


def _python_signing_lines(signing: Signing, region: str, service: str) -> list[str]:
    sign = f"SigV4Auth(credentials, {service!r}, {region!r}).add_auth(request)"
    if signing is Signing.UNSIGNED:
        return []
    if signing in PRESIGNED_SIGNINGS:
        return _python_presigning_lines(signing, region, service)
    if signing is Signing.STALE_DATE:
        return [
            "stale = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)"
            f" - datetime.timedelta(seconds={STALE_BY.total_seconds():g})",
            'with mock.patch("botocore.auth.get_current_datetime", return_value=stale):',
            f"    {sign}",
        ]
    if signing is Signing.TAMPERED:
        return [
            sign,
            'authorization = request.headers["Authorization"]',
            'del request.headers["Authorization"]',
            'flipped = "0" if authorization[-1] != "0" else "1"',
            'request.headers["Authorization"] = authorization[:-1] + flipped',
        ]
    return [sign]


# --------------------------------------------------------------------------
# Session tokens and presigned requests (docs/contract.md, session-token, presigned)


def with_bogus_session_token(
    credentials: botocore.credentials.Credentials,
) -> botocore.credentials.Credentials:
    """The same keys, sent with a session token the target never issued."""
    frozen = credentials.get_frozen_credentials()
    return botocore.credentials.Credentials(
        frozen.access_key, frozen.secret_key, BOGUS_SESSION_TOKEN
    )


class QueryStringSigner(requests.auth.AuthBase):
    """Presigns a request as botocore's ``SigV4QueryAuth`` does (the signature
    in ``X-Amz-Signature``, no Authorization header); ``expired``: signed 10
    minutes before ``now`` for 60 seconds."""

    def __init__(
        self,
        credentials: botocore.credentials.Credentials,
        region: str,
        now: datetime.datetime,
        expired: bool,
    ) -> None:
        self.credentials = credentials.get_frozen_credentials()
        self.region = region
        ago, expires = EXPIRED_PRESIGNING if expired else (datetime.timedelta(0), PRESIGNED_EXPIRES)
        self.signed_at = now - ago
        self.expires = expires

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if request.body:
            raise ValueError("only a request without a body can be presigned")
        credentials = botocore.credentials.Credentials(
            self.credentials.access_key, self.credentials.secret_key, self.credentials.token
        )
        aws_request = AWSRequest(method=request.method, url=request.url)
        aws_request.context["timestamp"] = self.signed_at.strftime(AMZ_DATE_FORMAT)
        signer = SigV4QueryAuth(credentials, SERVICE, self.region, self.expires)
        # add_auth() would stamp the current time; these are its steps, at signed_at
        signer._modify_request_before_signing(aws_request)
        canonical = signer.canonical_request(aws_request)
        signature = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
        signer._inject_signature_to_request(aws_request, signature)
        request.url = aws_request.url
        return request


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


def _replayed_url(exchange: Exchange) -> str:
    """The URL a reproducer sends: a presigned one without its (redacted) signing."""
    url = exchange.request.url
    if exchange.signing not in PRESIGNED_SIGNINGS:
        return url
    base, _, query = url.partition("?")
    kept = [p for p in query.split("&") if p and p.partition("=")[0] not in PRESIGNING_PARAMETERS]
    return f"{base}?{'&'.join(kept)}" if kept else base


def _python_presigning_lines(signing: Signing, region: str, service: str) -> list[str]:
    if signing is Signing.PRESIGNED:
        return [
            f"SigV4QueryAuth(credentials, {service!r}, {region!r}, {PRESIGNED_EXPIRES}).add_auth(request)"
        ]
    ago, expires = EXPIRED_PRESIGNING
    return [
        "signed_at = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)"
        f" - datetime.timedelta(seconds={ago.total_seconds():g})",
        'with mock.patch("botocore.auth.get_current_datetime", return_value=signed_at):',
        f"    SigV4QueryAuth(credentials, {service!r}, {region!r}, {expires}).add_auth(request)",
    ]
