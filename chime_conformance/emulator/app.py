"""The WSGI application: the front door every request goes through.

In order: read the raw request (size caps), verify SigV4, route on the raw
path, read and validate the members against the spec, then call the
operation's handler under the backend's lock. Validation comes before any
lookup, so an invalid path label is a 400, never a 404. Whatever a client
sends, the answer has AWS's error shape and is never a 5xx; a 5xx means a bug
here, and is logged with its traceback.
"""

from __future__ import annotations

import hmac
import http
import json
import logging
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
from chime_conformance.emulator.models import EmulatorBackend
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
    account_id: str = "123456789012"
    access_key: str = "testing"
    secret_key: str = "testing"
    # (access key, secret key, session token): temporary credentials also accepted
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


@dataclass
class Exchange:
    """One request as received, and what became of it (for the log line)."""

    environ: dict[str, Any]
    method: str
    raw_path: str
    raw_query: str
    operation: str | None = None
    started: float = field(default_factory=time.perf_counter)

    @classmethod
    def of(cls, environ: dict[str, Any]) -> Exchange:
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
        # one entry per operation
        self.identity_handlers = dict(responses.IDENTITY_HANDLERS)
        self.accounts_handlers = dict(responses.ACCOUNTS_HANDLERS)
        # the public seams an extension (a fault) wraps: see hooks.py
        self.hooks = AppHooks(
            {spec.IDENTITY: self.identity_handlers, spec.ACCOUNTS: self.accounts_handlers},
            dispatch=self.run_handler,
            verify=self.verifier.verify,
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
        exchange = Exchange.of(environ)
        answer = self.answer(exchange)
        if not exchange.raw_path.startswith(ADMIN_PREFIX):
            answer = self.hooks.answer(exchange, answer)
        headers = [
            *answer.headers,
            ("x-amzn-RequestId", request_id()),
            ("Content-Length", str(len(answer.body))),
            *self.hooks.headers,
        ]
        start_response(status_line(answer.status), headers)
        if logger.isEnabledFor(logging.INFO):  # the CLI's log; embedded, nobody reads it
            self._log(exchange, answer.status)
        return [answer.body]

    def answer(self, exchange: Exchange) -> Answer:
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

    def _api(self, exchange: Exchange) -> Answer:
        body = read_body(exchange.environ)
        headers = self._authenticate(exchange, body)
        operation, members = self._members(exchange, headers, body)
        result = self.dispatch(operation, members)
        if operation.success_status == 204:
            return Answer(204, b"")
        return Answer.json(operation.success_status, result or {})

    def _authenticate(self, exchange: Exchange, body: bytes) -> dict[str, str]:
        """The request's headers (lower-case names), once its signature holds."""
        if len(exchange.raw_query) > MAX_QUERY_BYTES:
            raise BadRequestException(f"The query string is longer than {MAX_QUERY_BYTES} bytes.")
        headers = request_headers(exchange.environ)
        host = headers.get("host", "")
        self.hooks.verify(
            ReceivedRequest(
                exchange.method, host, exchange.raw_path, exchange.raw_query, headers, body
            )
        )
        return headers

    def _members(
        self, exchange: Exchange, headers: dict[str, str], body: bytes
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

    def dispatch(self, operation: spec.Operation, members: dict[str, Any]) -> responses.Body:
        """Runs the operation's handler (through the hooks' dispatch wrappers)."""
        body: responses.Body = self.hooks.dispatch(operation, members)
        return body

    def run_handler(self, operation: spec.Operation, members: dict[str, Any]) -> responses.Body:
        """Runs the operation's handler atomically on the caller's account and region."""
        account, region = self.config.account_id, self.config.region
        with self.backend.lock:
            try:
                if operation.api == spec.ACCOUNTS:
                    return self.accounts_handlers[operation.name](
                        self.backend.accounts(account, region), members
                    )
                return self.identity_handlers[operation.name](
                    self.backend.identity(account, region), members
                )
            finally:  # durable before the answer leaves (a failed commit is a 5xx)
                self.backend.commit(wrote=operation.method != "GET")

    # -- the emulator's own endpoints ----------------------------------------------

    def _admin(self, exchange: Exchange) -> Answer:
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
            health = {
                "Status": "ok",
                "Region": self.config.region,
                "AccountId": self.config.account_id,
            }
            return Answer.json(200, health | self.hooks.health)
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

    def _seed_account(self, body: bytes, environ: dict[str, Any]) -> Answer:
        """Creates an account of any type and status (the API creates only Active
        Team accounts), so the DeleteAccount 422 rule can be exercised."""
        # the API's limits: size (read_body), encoding and depth (spec)
        request, refused = spec.parse_json_body(body, environ.get("CONTENT_TYPE"))
        if refused:
            raise BadRequestException(f"The body is refused: {refused}.")
        name = request.get("Name") if isinstance(request, dict) else None
        account_type = request.get("AccountType", "Team") if isinstance(request, dict) else None
        status = request.get("AccountStatus", "Active") if isinstance(request, dict) else None
        if (
            not (isinstance(name, str) and name.strip())
            or account_type not in ACCOUNT_TYPES
            or status not in ACCOUNT_STATUSES
        ):
            raise BadRequestException(
                f"Expected {{'Name': non-blank string, 'AccountType': one of {ACCOUNT_TYPES}, "
                f"'AccountStatus': one of {ACCOUNT_STATUSES}}}."
            )
        with self.backend.lock:
            accounts = self.backend.accounts(self.config.account_id, self.config.region)
            account = accounts.create_account(name, account_type, status)
            self.backend.commit()
        return Answer.json(201, {"Account": account.describe()})

    @staticmethod
    def _log(exchange: Exchange, status: int) -> None:
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


def _unimplemented_answer(app: EmulatorApp, exchange: Exchange) -> Answer | None:
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
