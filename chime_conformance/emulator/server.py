"""Serving the emulator: the HTTP/1.1 front (waitress), started and stopped in-process.

``running_emulator(**options)`` / ``start_emulator(config)`` is what the pytest
plugin uses when no target is given: waitress on a free loopback port, its
event loop in a background thread, stopped (export written, store closed) on exit.

Waitress reads every request whole on its event loop before a worker thread
sees it, so a slow or silent client holds no thread, and it keeps connections
alive. Its parser is made stricter here (RFC 9112: one Content-Length, never
with Transfer-Encoding, an HTTP/1.0 or 1.1 version on the request line, a Host
header in HTTP/1.1, and one of each header SigV4 reads), and every request it
refuses before the application answers in AWS's error shape, like the rest.

No client can jam the front door (``EmulatorConfig`` holds the limits):

- waitress stops accepting at its ``connection_limit``, so a hundred idle or
  dribbling sockets used to lock every new client out; this server always
  accepts, and beyond the limit closes the connection that has waited longest
  without completing a request (an attacker's, never the newcomer's);
- a request whose line and headers have not all arrived ``header_timeout``
  seconds after its first byte, or which is not whole after
  ``request_timeout``, is answered 408 and closed, however steadily it dribbles;
- a connection silent for ``idle_timeout`` seconds between requests is closed.
"""

from __future__ import annotations

import heapq
import ipaddress
import logging
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher
from waitress.utilities import BadRequest, Error

from chime_conformance.emulator.app import (
    ADMIN_TOKEN_ENV,
    ADMIN_TOKEN_HEADER,
    MAX_BODY_BYTES,
    Answer,
    EmulatorApp,
    EmulatorConfig,
    request_id,
    status_line,
    too_large,
)
from chime_conformance.emulator.exceptions import (
    BadRequestException,
    ChimeError,
    HttpVersionNotSupportedException,
    RequestTimeoutException,
)
from chime_conformance.emulator.faults import fault_extensions
from chime_conformance.emulator.iam import Identity
from chime_conformance.emulator.models import EmulatorBackend
from chime_conformance.emulator.state import StateFileError, load_state, save_state
from chime_conformance.emulator.store import StoredBackend, open_store

logger = logging.getLogger("chime_conformance.emulator")

MAX_HEADER_BYTES = 64 * 1024  # request line and headers together
WORKER_THREADS = 8
# descriptors the process needs besides its connections (store, log, listening socket, …)
RESERVED_DESCRIPTORS = 64
ACCEPTS_PER_TURN = 256  # connections taken from the backlog per turn of the event loop
_VERSIONED_REQUEST_LINE = re.compile(rb" HTTP/[0-9]\.[0-9]\r?$")
_SERVED_VERSIONS = (b"1.0", b"1.1")
# headers SigV4 reads: two of one would leave the signature to whichever a reader takes
_SINGLE_HEADERS = (
    b"host",
    b"authorization",
    b"x-amz-date",
    b"x-amz-security-token",
    b"x-amz-content-sha256",
)


class HttpVersionNotSupported(Error):
    code = 505
    reason = "HTTP Version Not Supported"


class StrictRequestParser(HTTPRequestParser):
    """Waitress' parser, refusing what RFC 9112 says a server must not guess at."""

    refusal: Error | None = None  # an error other than waitress' 400 for a ParsingError

    def received(self, data: bytes) -> int:
        if self.body_rcv is None and not self.completed:  # type: ignore[has-type]
            # an HTTP/0.9 request line ("GET /") ends without a version: refuse it as
            # soon as it is complete, instead of waiting for headers that never come
            head = (self.header_plus + data).lstrip(b"\r\n")
            end = head.find(b"\n")
            if end >= 0 and not _VERSIONED_REQUEST_LINE.search(head[:end]):
                super().parse_header(b"GET / HTTP/1.0\r\n")  # what the error answer needs
                self.error = BadRequest("the request line has no HTTP/1.x version")
                self.completed = True
                return len(data)
        consumed: int = super().received(data)
        if self.refusal is not None:
            self.error = self.refusal
        return consumed

    def parse_header(self, header_plus: bytes) -> None:
        first_line, _, rest = header_plus.partition(b"\n")
        version = first_line.rstrip(b"\r").rpartition(b"HTTP/")[2]
        if version not in _SERVED_VERSIONS:
            super().parse_header(b"GET / HTTP/1.0\r\n")  # what the error answer needs
            self.refusal = HttpVersionNotSupported(
                f"HTTP/{version.decode('latin-1')[:8]} is not served; use HTTP/1.1 or HTTP/1.0"
            )
            raise ParsingError("unsupported HTTP version")
        names = [line.split(b":", 1)[0].strip().lower() for line in rest.split(b"\n")]
        if names.count(b"content-length") > 1:
            raise ParsingError("more than one Content-Length header")
        if b"content-length" in names and b"transfer-encoding" in names:
            raise ParsingError("Content-Length and Transfer-Encoding together")
        for name in _SINGLE_HEADERS:
            if names.count(name) > 1:
                raise ParsingError(f"more than one {name.decode()} header")
        if version == b"1.1" and b"host" not in names:
            raise ParsingError("an HTTP/1.1 request without a Host header (RFC 9112, 3.2)")
        super().parse_header(header_plus)


class ErrorShapeTask(ErrorTask):
    """A request refused before the application still gets AWS's error shape."""

    def execute(self) -> None:
        error = self.request.error
        refused: ChimeError
        if error.code == 413:
            refused = too_large()
        elif error.code == 505:
            refused = HttpVersionNotSupportedException(f"{error.body}.")
        else:
            refused = BadRequestException(f"{error.code} {error.reason}: {error.body}.")
        answer = Answer.error(refused)
        logger.info("rejected before routing: %d %s (%s)", error.code, error.reason, error.body)
        self.status = status_line(answer.status)
        self.response_headers.extend(answer.headers)
        self.set_close_on_finish()
        self.content_length = len(answer.body)
        self.write(answer.body)


class EmulatorChannel(HTTPChannel):
    """Waitress' connection, knowing since when it waits for a whole request."""

    parser_class = StrictRequestParser
    error_task_class = ErrorShapeTask
    request_started: float | None = None  # when the request being read began to arrive

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # since when this connection has not completed a request: the one that has
        # waited longest is the first closed when there are too many
        self.waiting_since: float = self.creation_time

    def received(self, data: bytes) -> bool:
        partial, completed = self.request, len(self.requests)
        result: bool = super().received(data)
        now = time.monotonic()
        if self.request is None:
            self.request_started = None
        elif self.request is not partial:
            self.request_started = now
        if len(self.requests) > completed:
            self.waiting_since = time.time()
        return result

    def is_waiting(self) -> bool:
        """Open, and serving no request (idle, or still reading one)."""
        return not (self.requests or self.will_close or self.close_when_flushed)

    def time_out(self, what: str, seconds: float) -> None:
        """Answers 408 (best effort) and closes: called on the event loop, with no
        request of this connection being served."""
        refused = RequestTimeoutException(
            f"The request's {what} did not arrive within {seconds:g} seconds of its first byte."
        )
        answer = Answer.error(refused)
        head = [f"HTTP/1.1 {status_line(answer.status)}"]
        head += [f"{name}: {value}" for name, value in answer.headers]
        head += [
            f"x-amzn-RequestId: {request_id()}",
            f"Content-Length: {len(answer.body)}",
            "Connection: close",
        ]
        payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + answer.body
        try:
            if self.socket is not None:
                self.socket.send(payload)  # non-blocking: whatever fits, never a wait
        except OSError:
            pass
        logger.info("closed a connection whose request %s took over %gs", what, seconds)
        self.will_close = True

    def handle_close(self) -> None:
        # Closing a socket with unread input makes the kernel answer RST, which can
        # destroy the error answer before the client reads it (a refused request whose
        # body was still arriving): first drain what has already arrived, bounded.
        connection = self.socket
        try:
            if connection is not None and self.connected:
                connection.setblocking(False)
                for _ in range(64):
                    if not connection.recv(65536):
                        break
        except (OSError, ValueError):
            pass
        super().handle_close()


class EmulatorServer(TcpWSGIServer):
    """Waitress' server that always accepts, shedding the longest-waiting
    connection beyond the limit, and enforces the request deadlines."""

    channel_class = EmulatorChannel
    header_timeout: float = EmulatorConfig.header_timeout
    request_timeout: float = EmulatorConfig.request_timeout
    shed = 0  # connections closed to make room for new ones (for the log)
    next_channel_cleanup: float  # waitress' own, set in its __init__

    def readable(self) -> bool:
        # waitress' own readable() stops accepting at connection_limit: a hundred
        # silent sockets would then lock every new client out
        now = time.time()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + self.adj.cleanup_interval
            self.maintenance(now)
        return bool(self.accepting)

    def handle_accept(self) -> None:
        # every connection waiting in the backlog, not one per turn of the loop (a turn
        # costs a look at every open connection: one per turn would make a thousand
        # new connections cost a million looks)
        for _ in range(ACCEPTS_PER_TURN):
            try:
                accepted = self.accept()
                if accepted is None:
                    break
                connection, address = accepted
                self.set_socket_options(connection)
            except OSError:  # a bogus socket, or one its client already closed: as waitress
                if self.adj.log_socket_errors:
                    logger.warning("server accept() failed", exc_info=True)
                break
            self.channel_class(self, connection, self.fix_addr(address), self.adj, map=self._map)
        self._shed()

    def _shed(self) -> None:
        """Beyond the connection limit, closes the connections that have waited
        longest without completing a request (never one being served)."""
        waiting = [c for c in self.active_channels.values() if c.is_waiting()]
        excess = len(waiting) - self.adj.connection_limit
        if excess <= 0:
            return
        for channel in heapq.nsmallest(excess, waiting, key=lambda c: c.waiting_since):
            channel.will_close = True
        if self.shed == 0 or self.shed // 1000 != (self.shed + excess) // 1000:
            logger.warning(
                "over %d open connections: closed the one(s) waiting longest for a request "
                "(%d so far)",
                self.adj.connection_limit,
                self.shed + excess,
            )
        self.shed += excess

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # idle connections (idle_timeout)
        moment = time.monotonic()
        for channel in list(self.active_channels.values()):
            started = channel.request_started
            if started is None or not channel.is_waiting() or channel.request is None:
                continue
            if not channel.request.headers_finished:
                if moment - started > self.header_timeout:
                    channel.time_out("line and headers", self.header_timeout)
            elif moment - started > self.request_timeout:
                channel.time_out("body", self.request_timeout)


def make_server(
    app: Any, host: str, port: int, config: EmulatorConfig | None = None, **adjustments: Any
) -> EmulatorServer:
    """Waitress bound to ``host:port`` (OSError if it cannot bind), with the
    emulator's limits (``config``'s front-door options); not yet serving."""
    config = config or EmulatorConfig()
    adj = Adjustments(
        host=host,
        port=port,
        threads=WORKER_THREADS,
        ident="chime-emulator",
        max_request_header_size=MAX_HEADER_BYTES,
        # bodies up to twice the API's limit are read whole, so the client that sent
        # one reads the application's 413 instead of a broken pipe; beyond, waitress
        # refuses at the headers (a Content-Length of 50 MiB is never waited for)
        max_request_body_size=2 * MAX_BODY_BYTES,
        channel_timeout=config.idle_timeout,
        connection_limit=fit_connection_limit(config.connection_limit),
        cleanup_interval=1,  # the deadlines are checked every second
        # the request exactly as sent: SigV4 signs headers, proxies are not trusted
        clear_untrusted_proxy_headers=False,
        expose_tracebacks=False,
        **adjustments,
    )
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    server = EmulatorServer(app, map={}, dispatcher=dispatcher, adj=adj, sockinfo=adj.listen[0])
    server.header_timeout = config.header_timeout
    server.request_timeout = config.request_timeout
    return server


def fit_connection_limit(limit: int) -> int:
    """``limit``, once the process may open that many descriptors (its soft limit is
    raised toward the hard one if needed); otherwise as many as it may, logged."""
    try:
        import resource
    except ImportError:  # pragma: no cover (Windows)
        return limit
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = limit + RESERVED_DESCRIPTORS
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < wanted:
        fitted = max(1, soft - RESERVED_DESCRIPTORS)
        logger.warning(
            "connection limit %d lowered to %d: the process may open %d files (ulimit -n)",
            limit,
            fitted,
            soft,
        )
        return fitted
    return limit


class Serving:
    """A waitress server's event loop in a background thread, and its shutdown."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="chime-emulator", daemon=True)

    @property
    def url(self) -> str:
        host, port = str(self.server.effective_host), self.server.effective_port
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        socket_map = self.server._map  # waitress' own run() loops over the same map
        while not self._stopping.is_set():
            try:
                wasyncore.loop(timeout=0.5, map=socket_map, use_poll=True, count=1)
            except Exception:  # a dead loop is a hung emulator: log, and serve on
                logger.exception("bug: the HTTP event loop failed an iteration")

    def stop(self) -> None:
        self._stopping.set()
        self.server.trigger.pull_trigger()  # wakes the loop now, not at its timeout
        self._thread.join(timeout=10)
        wasyncore.close_all(self.server._map)
        self.server.task_dispatcher.shutdown(timeout=5)


class RunningEmulator:
    """An emulator serving in a background thread."""

    def __init__(self, server: EmulatorServer, app: EmulatorApp) -> None:
        self.serving = Serving(server)
        self.app = app
        self._stopped = False

    @property
    def url(self) -> str:
        return self.serving.url

    @property
    def backend(self) -> EmulatorBackend:
        return self.app.backend

    @property
    def config(self) -> EmulatorConfig:
        return self.app.config

    @property
    def identities(self) -> tuple[Identity, ...]:
        """The access keys it accepts, each with its account (the primary first)."""
        return self.config.all_identities

    def start(self) -> RunningEmulator:
        self.serving.start()
        return self

    def reset(self) -> None:
        with self.backend.lock:
            self.backend.reset()
            self.backend.commit()

    def stop(self) -> None:
        """Stops serving, writes the export snapshot (if any), closes the store. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self.serving.stop()
        try:
            if self.config.export_file:
                save_state(self.backend, Path(self.config.export_file))
        finally:
            if isinstance(self.backend, StoredBackend):
                self.backend.close()


def start_emulator(config: EmulatorConfig) -> RunningEmulator:
    """Opens the store and imports the snapshot (StateFileError if either is refused),
    binds (OSError if it cannot), starts serving."""
    backend = open_store(Path(config.state_file)) if config.state_file else EmulatorBackend()
    try:
        if config.import_file:
            if not load_state(backend, Path(config.import_file)):
                raise StateFileError(f"snapshot {config.import_file} to import does not exist")
            with backend.lock:
                backend.commit()
        if config.export_file:  # a previous export killed mid-write leaves this one file
            export = Path(config.export_file)
            export.with_name(f".{export.name}.partial").unlink(missing_ok=True)
        app = EmulatorApp(config, backend, extensions=fault_extensions(config))
        server = make_server(app, config.host, config.port, config)
    except BaseException:
        if isinstance(backend, StoredBackend):
            backend.close()
        raise
    return RunningEmulator(server, app).start()


@contextmanager
def running_emulator(**options: Any) -> Iterator[RunningEmulator]:
    """An emulator on a free loopback port for the duration of the block.

    ``options`` are :class:`EmulatorConfig` fields (``region``, ``account_id``,
    ``access_key``, ``secret_key``, ``identities``, ``state_file``, ``host``, ``port``,
    the front door's limits…); e.g. two accounts, one key denied an action::

        running_emulator(identities=(
            Identity("other", "other-secret", "210987654321",
                     frozenset({"chime:DeleteAppInstance"})),
        ))
    """
    emulator = start_emulator(EmulatorConfig(**options))
    try:
        yield emulator
    finally:
        emulator.stop()


def exposure_warning(config: EmulatorConfig) -> str | None:
    """What binding ``config.host`` exposes, when it is not a loopback address."""
    host = config.host.strip("[]")
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name
        loopback = host == "localhost"
    if loopback:
        return None
    admin = (
        f"its /_emulator/ endpoints answer only the {ADMIN_TOKEN_HEADER} token given"
        if config.admin_token
        else "anyone can wipe or plant its state through /_emulator/ (reset, accounts): "
        f"pass --admin-token or set {ADMIN_TOKEN_ENV} to protect them"
    )
    keys = ", ".join(repr(identity.access_key) for identity in config.all_identities)
    return (
        f"listening on {config.host}, not a loopback address: every host that can reach "
        f"this machine can call the API with access key(s) {keys} (their secret keys are "
        f"no secret), and {admin}"
    )
