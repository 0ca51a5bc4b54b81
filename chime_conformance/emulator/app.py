"""The WSGI application: the front door every request goes through.

In order: read the raw request (size caps), verify SigV4, route on the raw
path, read and validate the members against the spec, then call the
operation's handler under the backend's lock. Validation comes before any
lookup, so an invalid path label is a 400, never a 404. Whatever a client
sends, the answer has AWS's error shape and is never a 5xx; a 5xx means a bug
here, and is logged with its traceback.
"""

from __future__ import annotations

import contextlib
import hmac
import http
import logging
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from chime_conformance.contract import spec
from chime_conformance.emulator import responses
from chime_conformance.emulator.auth import ReceivedRequest, verifier_for
from chime_conformance.emulator.exceptions import (
    BadRequestException,
    ChimeError,
    ForbiddenException,
    NotFoundException,
    RequestEntityTooLargeException,
    ServiceFailureException,
)
from chime_conformance.emulator.expiration import CLOCK_REQUEST, clock_request
from chime_conformance.emulator.hooks import AppHooks, Extension
from chime_conformance.emulator.iam import Identity, Policy, identities_of
from chime_conformance.emulator.messages import Answer, ReceivedCall
from chime_conformance.emulator.models import EmulatorBackend, StoreUnwritable
from chime_conformance.emulator.urls import RouteTable, route_table

logger = logging.getLogger("chime_conformance.emulator")

MAX_BODY_BYTES = 1 << 20  # 1 MiB
MAX_QUERY_BYTES = 16 * 1024
MAX_QUERY_FIELDS = 64
ADMIN_PREFIX = "/_emulator/"
# shared decision 5: the same header and variable for the emulator and the suite
ADMIN_TOKEN_HEADER = "X-Chime-Emulator-Admin-Token"
ADMIN_TOKEN_ENV = "CHIME_EMULATOR_ADMIN_TOKEN"
ACCOUNT_TYPES = ("Team", "EnterpriseDirectory", "EnterpriseLWA", "EnterpriseOIDC")
ACCOUNT_STATUSES = ("Active", "Suspended")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
# "200 OK", "404 Not Found"...: the status line of every code the emulator answers
STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in http.HTTPStatus}
# Request ids: random (version 4) UUIDs, drawn from a generator of the emulator's own
# (uuid.uuid4 reads os.urandom, a system call that lets other threads take the GIL in
# the middle of each answer; a request id is no secret, and Hypothesis, which seeds the
# global ``random`` of an in-process suite, never touches this one)
_request_ids = random.Random()
os.register_at_fork(after_in_child=_request_ids.seed)  # a forked child draws its own
_UUID4_CLEAR = ~((0xF << 76) | (0x3 << 62))
_UUID4_SET = (0x4 << 76) | (0x2 << 62)


@dataclass(frozen=True)
class EmulatorConfig:
    host: str = "127.0.0.1"
    port: int = 0
    region: str = "us-east-1"
    # the primary identity: the key every client uses unless told otherwise
    account_id: str = "123456789012"
    access_key: str = "testing"
    secret_key: str = "testing"
    # more identities, each acting in its own account (iam.py); one with the primary's
    # access key replaces the primary (to give it a deny list)
    identities: tuple[Identity, ...] = ()
    # (access key, secret key, session token): temporary credentials also accepted,
    # acting in the primary account
    temporary_credentials: tuple[str, str, str] | None = None
    # the durable SQLite store (store.py); None: state lives in memory only
    state_file: str | None = None
    # JSON snapshots (state.py): loaded at start / written at shutdown
    import_file: str | None = None
    export_file: str | None = None
    # Deliberate contract breaks, for proving that a suite catches them: installed
    # by chime_conformance.emulator.faults.fault_extensions(config), passed to
    # EmulatorApp as extensions (server.start_emulator does), which refuses them
    # unless allow_faults is also True.
    faults: tuple[str, ...] = ()
    allow_faults: bool = False
    # when set, /_emulator/* answers only requests carrying it in ADMIN_TOKEN_HEADER
    admin_token: str | None = None
    # Operations answered as a server that lacks them does (emulator/unimplemented.py)
    unimplemented: tuple[str, ...] = ()
    unimplemented_style: str = "501"
    # The front door (server.py): open connections kept at most (beyond it, the one
    # waiting longest for its request is closed); seconds a request's line and headers,
    # and the whole request, may take from its first byte; seconds a connection may be
    # silent between requests
    connection_limit: int = 1000
    header_timeout: float = 10.0
    request_timeout: float = 60.0
    idle_timeout: float = 60.0

    def __post_init__(self) -> None:
        strays = [i for i in self.identities if not isinstance(i, Identity)]
        if strays or not isinstance(self.identities, tuple):
            raise TypeError(
                "identities is a tuple of chime_conformance.emulator.iam.Identity "
                "(Identity.parse('KEY:SECRET:ACCOUNT_ID') reads the command's form), not "
                f"{type(strays[0] if strays else self.identities).__name__}"
            )
        self.all_identities  # noqa: B018 (refuses a bad identity at once, in one sentence)
        if self.connection_limit < 1:
            raise ValueError(f"connection_limit must be at least 1, not {self.connection_limit}")
        for name in ("header_timeout", "request_timeout", "idle_timeout"):
            if not 0 < getattr(self, name) <= 86_400:
                raise ValueError(f"{name} must be a number of seconds from 0 to 86400")

    @property
    def all_identities(self) -> tuple[Identity, ...]:
        """The primary identity, then the others (iam.identities_of)."""
        primary = Identity(self.access_key, self.secret_key, self.account_id)
        return identities_of(primary, self.identities)


class EmulatorApp:
    """Serves both APIs (their paths do not collide) for one account and region."""

    def __init__(
        self,
        config: EmulatorConfig,
        backend: EmulatorBackend | None = None,
        *,
        clock: Callable[[], float] = time.time,
        extensions: Iterable[Extension] = (),
    ) -> None:
        self.config = config
        self.clock = clock
        self.backend = backend or EmulatorBackend(clock=clock)
        self.routes: RouteTable = route_table()
        self.verifier = verifier_for(config, clock=clock)
        self.policy = Policy(config.all_identities)
        # one entry per operation
        self.identity_handlers = dict(responses.IDENTITY_HANDLERS)
        self.accounts_handlers = dict(responses.ACCOUNTS_HANDLERS)
        # the public seams an extension (a fault) wraps: see hooks.py
        self.hooks = AppHooks(
            {spec.IDENTITY: self.identity_handlers, spec.ACCOUNTS: self.accounts_handlers},
            dispatch=self.run_handler,
            verify=self.verifier.verify,
            authorize=self.policy.authorize,
            request_id=request_id,
        )
        installed = tuple(extensions)
        for extend in installed:  # last: they wrap the seams above
            extend(self)
        if config.faults and not installed:
            raise ValueError(
                "EmulatorConfig.faults are installed by an extension: pass "
                "extensions=chime_conformance.emulator.faults.fault_extensions(config)"
            )

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        exchange = ReceivedCall.of(environ)
        answer = self.answer(exchange)
        if not exchange.raw_path.startswith(ADMIN_PREFIX):
            answer = self.hooks.answer(exchange, answer)
        rid = self.hooks.request_id(exchange, answer)
        headers = [
            *answer.headers,
            *((("x-amzn-RequestId", rid),) if rid else ()),
            ("Content-Length", str(len(answer.body))),
            *self.hooks.headers,
        ]
        start_response(status_line(answer.status), headers)
        if logger.isEnabledFor(logging.INFO):  # the CLI's log; embedded, nobody reads it
            self._log(exchange, answer.status)
        return [answer.body]

    def answer(self, exchange: ReceivedCall) -> Answer:
        try:
            if exchange.raw_path.startswith(ADMIN_PREFIX):
                return self._admin(exchange)
            if self.config.unimplemented:
                refused = _unimplemented_answer(self, exchange)
                if refused is not None:
                    return refused
            return self._api(exchange)
        except ChimeError as error:
            return Answer.error(error)
        except Exception:
            logger.exception(
                "bug: unhandled error on %s %s", exchange.method, exchange.raw_path[:200]
            )
            return Answer.error(ServiceFailureException("The emulator failed; see its log."))

    # -- the API ------------------------------------------------------------------

    def _api(self, exchange: ReceivedCall) -> Answer:
        body = read_body(exchange.environ)
        headers, access_key = self._authenticate(exchange, body)
        operation, members = self._members(exchange, headers, body)
        caller = self.hooks.authorize(self.policy.caller(access_key), operation, members)
        result = self.dispatch(operation, members, caller)
        if operation.success_status == 204:
            return Answer(204, b"")
        return Answer.json(operation.success_status, result or {})

    def _authenticate(self, exchange: ReceivedCall, body: bytes) -> tuple[dict[str, str], str]:
        """The request's headers (lower-case names) and the access key that signed
        it, once its signature holds."""
        if len(exchange.raw_query) > MAX_QUERY_BYTES:
            raise BadRequestException(f"The query string is longer than {MAX_QUERY_BYTES} bytes.")
        headers = request_headers(exchange.environ)
        host = headers.get("host", "")
        access_key = self.hooks.verify(
            ReceivedRequest(
                exchange.method, host, exchange.raw_path, exchange.raw_query, headers, body
            )
        )
        return headers, access_key

    def _members(
        self, exchange: ReceivedCall, headers: dict[str, str], body: bytes
    ) -> tuple[spec.Operation, dict[str, Any]]:
        """Which operation this is and its validated ``{member: value}``; 400 if invalid.
        Validation precedes any lookup: a malformed ARN is a 400, never a 404."""
        query = parse_query(exchange.raw_query)
        operation, labels = self.routes.resolve(exchange.method, exchange.raw_path, query)
        exchange.operation = operation.name
        content_type = headers.get("content-type")
        members, violations = self.validate(operation, labels, query, body, content_type)
        if violations:
            raise BadRequestException(spec.format_violations(violations))
        return operation, members

    def validate(
        self,
        operation: spec.Operation,
        labels: dict[str, str],
        query: dict[str, list[str]],
        body: bytes,
        content_type: str | None,
    ) -> tuple[dict[str, Any], list[spec.Violation]]:
        """The request's members and the constraints they break (the spec decides)."""
        members, violations = spec.parse_request(operation, labels, query, body, content_type)
        return members, self.hooks.violations(operation, members, violations)

    def dispatch(
        self, operation: spec.Operation, members: dict[str, Any], caller: Identity
    ) -> responses.Body:
        """Runs the operation's handler (through the hooks' dispatch wrappers)."""
        body: responses.Body = self.hooks.dispatch(operation, members, caller)
        return body

    def run_handler(
        self, operation: spec.Operation, members: dict[str, Any], caller: Identity
    ) -> responses.Body:
        """Runs the operation's handler atomically in the caller's account and region,
        durable before the answer leaves: a change whose commit fails is undone, and
        the answer is a 503 (models.StoreUnwritable)."""
        account, region = caller.account_id, self.config.region
        wrote = operation.method != "GET"
        with self.backend.lock:
            try:
                if operation.api == spec.ACCOUNTS:
                    body = self.accounts_handlers[operation.name](
                        self.backend.accounts(account, region), members
                    )
                else:
                    body = self.identity_handlers[operation.name](
                        self.backend.identity(account, region), members
                    )
            except BaseException:
                # refused (nothing changed), yet a sweep may have run: commit it if we can
                _commit_quietly(self.backend, wrote)
                raise
            self.backend.commit(wrote=wrote)
            return body

    # -- the emulator's own endpoints ----------------------------------------------

    def _admin(self, exchange: ReceivedCall) -> Answer:
        """Outside the API, like moto's /moto-api/; unauthenticated unless the emulator
        has an admin token (see README)."""
        action = (exchange.method, exchange.raw_path.removeprefix(ADMIN_PREFIX).rstrip("/"))
        exchange.operation = f"emulator:{action[1]}"
        if self.config.admin_token:
            header = "HTTP_" + ADMIN_TOKEN_HEADER.upper().replace("-", "_")
            given = exchange.environ.get(header, "").encode("latin-1")
            if not hmac.compare_digest(given, self.config.admin_token.encode()):
                raise ForbiddenException(
                    f"The emulator's admin endpoints need the {ADMIN_TOKEN_HEADER} header "
                    "with the token the emulator was started with."
                )
        if action == ("POST", "reset"):
            with self.backend.lock:
                self.backend.reset()
                self.backend.commit()
            return Answer.json(200, {"Reset": True})
        if action == ("GET", "health"):
            return self._health()
        if action == ("POST", "accounts"):
            return self._seed_account(read_body(exchange.environ), exchange.environ)
        if action in (("GET", "clock"), ("POST", "clock")):  # docs/contract.md, user-expiration
            body = read_body(exchange.environ)
            if action[0] == "POST":  # the API's limits first: encoding and depth
                refused = spec.parse_json_body(body, exchange.environ.get("CONTENT_TYPE"))[1]
                if refused:
                    raise BadRequestException(f"The body is refused: {refused}. {CLOCK_REQUEST}")
            with self.backend.lock:
                clock = clock_request(self.backend.expiration_clock, action[0], body)
                expired = self.backend.expire_users()
                self.backend.commit()
                return Answer.json(200, clock | {"expired": expired})
        raise NotFoundException(
            f"The emulator has no endpoint {exchange.method} {exchange.raw_path[:200]}."
        )

    def _health(self) -> Answer:
        """200 while the emulator can serve; 503 while its store refuses writes
        (checked again on each call, so it answers 200 once writes succeed)."""
        with self.backend.lock:
            store_error = self.backend.store_error()
        health: dict[str, Any] = {
            "Status": "ok" if store_error is None else "store-unwritable",
            "Region": self.config.region,
            "AccountId": self.config.account_id,
            "Identities": [identity.describe() for identity in self.policy.identities],
        }
        if store_error is not None:
            health["StoreError"] = store_error
        return Answer.json(200 if store_error is None else 503, health | self.hooks.health)

    def _seed_account(self, body: bytes, environ: dict[str, Any]) -> Answer:
        """Creates an account of any type and status (the API creates only Active
        Team accounts), so the DeleteAccount 422 rule can be exercised."""
        # the API's limits: size (read_body), encoding and depth (spec)
        request, refused = spec.parse_json_body(body, environ.get("CONTENT_TYPE"))
        if refused:
            raise BadRequestException(f"The body is refused: {refused}.")
        request = request if isinstance(request, dict) else {}
        name = request.get("Name")
        account_type = request.get("AccountType", "Team")
        status = request.get("AccountStatus", "Active")
        owner = request.get("AwsAccountId", self.config.account_id)
        if (
            not (isinstance(name, str) and name.strip() and len(name) <= 100)
            or account_type not in ACCOUNT_TYPES
            or status not in ACCOUNT_STATUSES
            or not isinstance(owner, str)
            or owner not in {identity.account_id for identity in self.policy.identities}
        ):
            raise BadRequestException(
                f"Expected {{'Name': non-blank string of at most 100 characters, 'AccountType': "
                f"one of {ACCOUNT_TYPES}, 'AccountStatus': one of {ACCOUNT_STATUSES}, "
                "'AwsAccountId': the account of one of the emulator's identities (default: the "
                "primary's)}."
            )
        with self.backend.lock:
            accounts = self.backend.accounts(owner, self.config.region)
            account = accounts.create_account(name, account_type, status)
            self.backend.commit()
        return Answer.json(201, {"Account": account.describe()})

    @staticmethod
    def _log(exchange: ReceivedCall, status: int) -> None:
        # never the headers: the Authorization header must not reach a log
        elapsed_ms = (time.perf_counter() - exchange.started) * 1000
        logger.info(
            "%s %s %d %s %.1fms",
            exchange.method,
            exchange.raw_path[:200],
            status,
            exchange.operation or "-",
            elapsed_ms,
        )


def _commit_quietly(backend: EmulatorBackend, wrote: bool) -> None:
    """Commits after a refused request; a store that refuses is already recorded
    (``backend.store_error()``), and the refusal is the answer that matters."""
    with contextlib.suppress(StoreUnwritable):
        backend.commit(wrote=wrote)


def status_line(status: int) -> str:
    """``"404 Not Found"``: the code and its reason phrase (ValueError for no HTTP status)."""
    return STATUS_LINES.get(status) or f"{status} {http.HTTPStatus(status).phrase}"


def request_id() -> str:
    """A random UUID in its canonical form, as ``str(uuid.uuid4())`` writes it."""
    value = _request_ids.getrandbits(128) & _UUID4_CLEAR | _UUID4_SET
    digits = f"{value:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def request_headers(environ: dict[str, Any]) -> dict[str, str]:
    """``{lower-case name: value}`` of the request's headers, as WSGI carries them
    (what Werkzeug's EnvironHeaders yields, in one pass)."""
    names = _HEADER_NAMES
    headers = {}
    for key, value in environ.items():
        name = names.get(key)
        if name is None:
            name = _header_name(key)
            if len(names) < _HEADER_NAMES_KEPT:  # a client's made-up names cannot grow it
                names[key] = name
        if name:
            headers[name] = value
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    return headers


def _header_name(key: str) -> str:
    """The header name of a WSGI environ key ("HTTP_X_AMZ_DATE": "x-amz-date"); ""
    for a key that is not a header, and for the two WSGI keeps outside HTTP_."""
    if not key.startswith("HTTP_") or key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
        return ""
    return key[5:].replace("_", "-").lower()


# environ key -> header name ("" for other keys): the same few dozen keys every request
_HEADER_NAMES: dict[str, str] = {}
_HEADER_NAMES_KEPT = 512


def read_body(environ: dict[str, Any]) -> bytes:
    """The request body, refusing more than MAX_BODY_BYTES before reading it."""
    try:
        return _read_capped_body(environ)
    except OSError as error:  # a client that stalls past the socket timeout, or breaks chunking
        raise BadRequestException(f"The request body could not be read: {error}") from None


def _read_capped_body(environ: dict[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    declared = environ.get("CONTENT_LENGTH", "").strip()
    if declared:
        if not declared.isdigit():
            raise BadRequestException(f"Content-Length {declared[:40]!r} is not a byte count.")
        if int(declared) > MAX_BODY_BYTES:
            raise too_large()
        body: bytes = stream.read(int(declared))
        return body
    if environ.get("wsgi.input_terminated"):  # chunked: no length announced
        body = stream.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            raise too_large()
        return body
    return b""


def too_large() -> RequestEntityTooLargeException:
    return RequestEntityTooLargeException(
        f"The request body is larger than {MAX_BODY_BYTES} bytes."
    )


def parse_query(raw_query: str) -> dict[str, list[str]]:
    """``{name: [values]}`` of the raw (WSGI latin-1) query string, decoded as UTF-8."""
    if not raw_query:
        return {}
    try:
        text = raw_query.encode("latin-1").decode("utf-8")
        return parse_qs(
            text, keep_blank_values=True, errors="strict", max_num_fields=MAX_QUERY_FIELDS
        )
    except UnicodeError:
        raise BadRequestException("The query string is not valid percent-encoded UTF-8.") from None
    except ValueError:
        raise BadRequestException(
            f"The query string has more than {MAX_QUERY_FIELDS} fields."
        ) from None


def admin_headers(token: str | None = None) -> dict[str, str]:
    """The headers an admin call (``/_emulator/...``) needs: the token given, or the
    one in the environment (ADMIN_TOKEN_ENV); none when there is neither."""
    token = token if token is not None else os.environ.get(ADMIN_TOKEN_ENV)
    return {ADMIN_TOKEN_HEADER: token} if token else {}


def _unimplemented_answer(app: EmulatorApp, exchange: ReceivedCall) -> Answer | None:
    """The answer of a server that lacks the operation, if it is one of
    ``--unimplemented-operations`` (emulator/unimplemented.py)."""
    from chime_conformance.emulator.unimplemented import refusal

    try:
        query = parse_query(exchange.raw_query)
        operation = app.routes.resolve(exchange.method, exchange.raw_path, query)[0].name
    except ChimeError:
        return None
    found = refusal(operation, app.config.unimplemented, app.config.unimplemented_style)
    if found is None:
        return None
    exchange.operation = operation
    return Answer(*found)
