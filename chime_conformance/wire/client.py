"""SigV4-signed raw HTTP to the endpoint under test.

The suite must put invalid inputs on the wire exactly as they were generated,
so this client never validates: it turns ``(operation, members)`` into the
request boto3 would send (path labels percent-encoded, query members under
their wire names, a JSON body only when body members are present) and signs it
with botocore's signer (:mod:`chime_conformance.wire.sigv4`). Every call yields an :class:`Exchange`
(:mod:`chime_conformance.wire.exchange`), which reproduces itself as a curl command
or a Python script (:mod:`chime_conformance.wire.reproducers`). Retries follow the
one :class:`RetryPolicy` (:mod:`chime_conformance.wire.retries`); every wait is
bounded by :class:`Timeouts`.

Transport only: nothing here knows about pytest or about the contract.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import botocore.credentials
import botocore.session
import requests
import requests.adapters
import urllib3.exceptions
from requests.utils import requote_uri

from chime_conformance.contract import spec
from chime_conformance.wire import sigv4
from chime_conformance.wire.exchange import (
    REDACTED,
    Exchange,
    ReceivedResponse,
    SentRequest,
    redact_headers,
    redact_presigned_url,
)
from chime_conformance.wire.reproducers import GENERATED_HEADERS
from chime_conformance.wire.retries import Retry, RetryPolicy, TargetThrottled, outcome_unknown
from chime_conformance.wire.sigv4 import (
    BOGUS_SESSION_TOKEN,
    DEFAULT_CREDENTIALS,
    PRESIGNED_SIGNINGS,
    SERVICE,
    UNKNOWN_ACCESS_KEY,
    Signing,
    is_loopback,
    other_region,
)

__all__ = [
    "BOGUS_SESSION_TOKEN",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_CREDENTIALS",
    "DEFAULT_READ_TIMEOUT",
    "GENERATED_HEADERS",
    "PRESIGNED_SIGNINGS",
    "REDACTED",
    "SERVICE",
    "UNKNOWN_ACCESS_KEY",
    "ChimeClient",
    "CircuitBreaker",
    "ClientError",
    "ConnectionLost",
    "Exchange",
    "ReceivedResponse",
    "RequestTimedOut",
    "Retry",
    "RetryPolicy",
    "SentRequest",
    "Signing",
    "TargetGone",
    "TargetThrottled",
    "TargetUnreachable",
    "Timeouts",
    "WireRequest",
    "build_request",
    "encode_path_label",
    "failed_attempt",
    "is_loopback",
    "no_answer",
    "other_region",
    "redact_headers",
    "redact_presigned_url",
    "resolve_credentials",
    "transport_failure",
]

# Documented defaults (--connect-timeout, --read-timeout): a hanging target
# costs at most one read timeout per request, never a hung run.
DEFAULT_CONNECT_TIMEOUT = 3.05
DEFAULT_READ_TIMEOUT = 10.0


# --------------------------------------------------------------------------
# Failures of the transport (never of the contract)


class ClientError(BaseException):
    """The request got no HTTP answer; ``str()`` is one sentence.

    A :class:`BaseException`, like :class:`KeyboardInterrupt`: no answer is no
    verdict on the contract, so Hypothesis must not shrink or replay the
    example (a replay that gets an answer would be reported as "inconsistent
    results"), and no check's ``except Exception`` may take it for one. pytest
    still reports the test failed (the plugin's one sentence), and code that
    must go on after it (the sweep, the ledger) catches it by name."""


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


class TargetGone(ClientError):
    """A call not sent because the target already failed this run (see
    :class:`CircuitBreaker`); ``str()`` repeats the first failure."""

    def __init__(self, first: ClientError) -> None:
        super().__init__(str(first))
        self.first = first


# --------------------------------------------------------------------------
# Settings


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for a connection and then for each read of the answer."""

    connect: float = DEFAULT_CONNECT_TIMEOUT
    read: float = DEFAULT_READ_TIMEOUT


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
# Credentials


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
# Told (operation, members) before a call is sent: the ledger writes down the
# intent to create, so an answer lost to Ctrl-C still leaves a trace.
Intent = Callable[[str, Mapping[str, Any]], None]
# (client, operation, members, when the attempt whose answer was lost was sent)
Reconcile = Callable[[Any, str, Mapping[str, Any], float], None]


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
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 (frozen)
        observer: Observer | None = None,
        before_send: Intent | None = None,
        breaker: CircuitBreaker | None = None,
        reconcile: Reconcile | None = None,
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
        self.before_send = before_send
        self.breaker = breaker or CircuitBreaker()
        # called before a retry after a dropped connection (the answer was
        # lost, the target may have acted): see Ledger.reconcile
        self.reconcile = reconcile
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
        return self._told(
            op.name,
            members,
            lambda: self._exchange(
                wire, base, signing=signing, operation=op.name, members=dict(members)
            ),
        )

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
        members: Mapping[str, Any] | None = None,
    ) -> Exchange:
        """Send a hand-crafted request: ``path`` as given (already encoded, may
        carry a query string), ``query`` pairs percent-encoded and appended,
        ``body`` bytes verbatim; ``headers`` are sent and signed (but those
        SigV4 never signs, such as User-Agent). With ``operation`` and
        ``members`` (what the request asks of the operation), the observers
        are told of it as of a :meth:`call`."""
        pairs = list(query.items()) if isinstance(query, Mapping) else list(query)
        wire = WireRequest(method.upper(), _with_query(path, _encode_query(pairs)), body, {})

        def exchange() -> Exchange:
            return self._exchange(
                wire,
                (base_url or self.target_url).rstrip("/"),
                signing=signing,
                operation=operation,
                members=None if members is None else dict(members),
                extra_headers=dict(headers or {}),
            )

        if operation is None or members is None:
            return exchange()
        return self._told(operation, members, exchange)

    def reconcile_lost(self, operation: str, members: Mapping[str, Any], sent_at: float) -> None:
        """Before retrying ``operation`` whose answer was lost (sent at
        ``sent_at``, epoch seconds): let :attr:`reconcile` undo what it may have done."""
        if self.reconcile is not None:
            self.reconcile(self, operation, members, sent_at)

    def probe(self) -> None:
        """Raise :class:`TargetUnreachable` unless the target answers HTTP at all."""
        for url in dict.fromkeys((self.target_url, self.accounts_url)):
            with contextlib.suppress(TargetThrottled):  # busy, but it answers HTTP
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

    def _told(
        self, operation: str, members: Mapping[str, Any], send: Callable[[], Exchange]
    ) -> Exchange:
        """``send()``, with ``before_send`` told before and ``observer`` after."""
        if self.before_send is not None:
            self.before_send(operation, members)
        exchange = send()
        if self.observer is not None:
            self.observer(operation, members, exchange.status, exchange.json)
        return exchange

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
        prepared: list[requests.PreparedRequest] = []

        lost_at: list[float] = []  # when the last attempt whose answer was lost was sent

        def attempt() -> tuple[str | None, requests.Response | None, str | None]:
            if lost_at and operation is not None:
                self.reconcile_lost(operation, members or {}, lost_at[-1])
            prepared[:] = [self._prepare(wire.method, url, headers, wire.body, signing)]
            sent_at = time.time()
            outcome = self._attempt(prepared[0], url)
            if outcome[1] is None and outcome[0] == "connection reset":
                lost_at.append(sent_at)
            else:
                lost_at.clear()
            return outcome

        self.breaker.check()
        response, retries = self.retry.run(attempt, operation=operation, sleep=self._sleep)
        if response is None:  # the last attempt lost its connection too
            raise self.breaker.trip(no_answer(url, retries))
        self.breaker.answered()
        exchange = Exchange(
            request=SentRequest(
                prepared[0].method or wire.method,
                str(prepared[0].url),
                prepared[0].headers,
                wire.body,
            ),
            response=ReceivedResponse(
                response.status_code, dict(response.headers), response.content
            ),
            elapsed=time.monotonic() - started,
            retries=retries,
            operation=operation,
            members=members,
            signing=signing,
            region=self.region,
        )
        if self.retry.reason_to_retry(exchange.status) is not None:
            throttled = TargetThrottled(operation, exchange.status, retries)
            throttled.exchange = exchange
            raise throttled
        unknown = outcome_unknown(operation, exchange.status, retries)
        if unknown is not None:
            unknown.exchange = exchange
            raise unknown
        return exchange

    def _attempt(
        self, prepared: requests.PreparedRequest, url: str
    ) -> tuple[str | None, requests.Response | None, str | None]:
        """One attempt: (why to retry or None, the answer or None if the
        connection dropped, Retry-After)."""
        try:
            response = self._session().send(
                prepared,
                timeout=(self.timeouts.connect, self.timeouts.read),
                allow_redirects=False,
            )
        except requests.exceptions.RequestException as error:
            return failed_attempt(error, url, self.timeouts, self.breaker)
        reason = self.retry.reason_to_retry(response.status_code)
        return reason, response, response.headers.get("Retry-After")

    def _prepare(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        signing: Signing,
    ) -> requests.PreparedRequest:
        request = requests.Request(method, url, headers=dict(headers), data=body)
        prepared = self._session().prepare_request(request)
        # requests removes dot segments ("/app-instances/.." → "/"), which would
        # send a generated ".." label to another operation; only quote what
        # HTTP cannot carry.
        prepared.url = requote_uri(url)
        signed = sigv4.sign(
            prepared.method or method,
            prepared.url,
            headers,
            body,
            signing=signing,
            credentials=self.credentials,
            region=self.region,
            now=self._clock(),
        )
        prepared.url = signed.url
        prepared.headers.update(signed.headers)
        return prepared

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


def transport_failure(
    error: requests.exceptions.RequestException, url: str, timeouts: Timeouts
) -> ClientError | None:
    """The :class:`ClientError` ``error`` means, or None for a dropped
    connection (which is worth a retry)."""
    kind = _failure_kind(error)
    if kind == "timeout":
        return RequestTimedOut(url, timeouts.read)
    if kind == "reset":
        return None
    return TargetUnreachable(url, kind)


# Consecutive requests without any answer (none within the read timeout, or
# the connection dropped on every retried attempt) that mean the target is
# gone. One alone is a lost request (it fails the test that sent it); three in
# a row from a single-threaded client are not chance (at one request in 200
# lost, 1 in 8 million; at 5 % of connections reset, each such request is
# already four drops in a row), and cost three read timeouts before the stop.
GONE_AFTER_UNANSWERED = 3


class CircuitBreaker:
    """Decides when the target is gone, and remembers it: later calls fail at
    once with the failure, so a dead target costs a few timeouts, not one per
    request (nor one per example Hypothesis replays while shrinking).

    Gone: a connection refused on every attempt of one request (each retried
    first: nothing was sent), or :data:`GONE_AFTER_UNANSWERED` requests in a
    row with no answer (none in time, or every attempt's connection dropped).
    Any HTTP answer ends such a streak. A single request without an answer is
    only that request's failure."""

    def __init__(self, gone_after_unanswered: int = GONE_AFTER_UNANSWERED) -> None:
        self.failure: ClientError | None = None
        self.gone_after_unanswered = gone_after_unanswered
        self.unanswered_in_a_row = 0
        self._lock = threading.Lock()

    def trip(self, failure: ClientError) -> ClientError:
        """The error to raise for ``failure``: itself (one request lost) or
        :class:`TargetGone` (the run should stop)."""
        with self._lock:
            if isinstance(failure, RequestTimedOut | ConnectionLost):
                self.unanswered_in_a_row += 1
                if self.unanswered_in_a_row < self.gone_after_unanswered:
                    return failure
            if self.failure is None:
                self.failure = failure
            return TargetGone(failure)

    def answered(self) -> None:
        """The target answered (any HTTP status): a streak without answers ends."""
        self.unanswered_in_a_row = 0

    def check(self) -> None:
        if self.failure is not None:
            raise TargetGone(self.failure)

    def reset(self) -> None:
        """Give the target another chance (the end-of-run sweep does)."""
        with self._lock:
            self.failure = None
            self.unanswered_in_a_row = 0


def failed_attempt(
    error: requests.exceptions.RequestException,
    url: str,
    timeouts: Timeouts,
    breaker: CircuitBreaker,
) -> tuple[str, None, None]:
    """An attempt that got no HTTP answer: why to retry it (a dropped or a
    refused connection), or raise what :meth:`CircuitBreaker.trip` says."""
    failure = transport_failure(error, url, timeouts)
    if failure is None:
        return "connection reset", None, None
    if isinstance(failure, TargetUnreachable) and failure.cause == "connection refused":
        return "connection refused", None, None  # nothing was sent: safe to try again
    raise breaker.trip(failure) from None


def no_answer(url: str, retries: tuple[Retry, ...]) -> ClientError:
    """The failure of a request whose every attempt lost its connection."""
    if retries and retries[-1].reason == "connection refused":
        return TargetUnreachable(url, "connection refused")
    return ConnectionLost(url, retries)


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
