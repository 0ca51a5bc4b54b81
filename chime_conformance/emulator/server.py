"""Serving the emulator: the HTTP/1.1 front (waitress), started and stopped in-process.

``running_emulator(**options)`` / ``start_emulator(config)`` is what the pytest
plugin uses when no target is given: waitress on a free loopback port, its
event loop in a background thread, stopped (export written, store closed) on exit.

Waitress reads every request whole on its event loop before a worker thread
sees it, so a slow or silent client holds no thread (it is dropped after
``channel_timeout``), and it keeps connections alive. Its parser is made
stricter here (RFC 9112 framing: one Content-Length, never with
Transfer-Encoding, an HTTP version on the request line), and every request it
refuses before the application answers in AWS's error shape, like the rest.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import threading
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
from waitress.utilities import BadRequest

from chime_conformance.emulator.app import (
    ADMIN_TOKEN_ENV,
    ADMIN_TOKEN_HEADER,
    MAX_BODY_BYTES,
    Answer,
    EmulatorApp,
    EmulatorConfig,
    status_line,
    too_large,
)
from chime_conformance.emulator.exceptions import BadRequestException
from chime_conformance.emulator.faults import fault_extensions
from chime_conformance.emulator.models import EmulatorBackend
from chime_conformance.emulator.state import StateFileError, load_state, save_state
from chime_conformance.emulator.store import StoredBackend, open_store

logger = logging.getLogger("chime_conformance.emulator")

MAX_HEADER_BYTES = 64 * 1024  # request line and headers together
WORKER_THREADS = 8
IDLE_TIMEOUT_SECONDS = 60  # a connection silent this long (mid-request or idle) is closed
_VERSIONED_REQUEST_LINE = re.compile(rb" HTTP/[0-9]\.[0-9]\r?$")


class StrictRequestParser(HTTPRequestParser):
    """Waitress' parser, refusing what RFC 9112 says a server must not guess at."""

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
        return consumed

    def parse_header(self, header_plus: bytes) -> None:
        names = [line.split(b":", 1)[0].strip().lower() for line in header_plus.split(b"\n")[1:]]
        if names.count(b"content-length") > 1:
            raise ParsingError("more than one Content-Length header")
        if b"content-length" in names and b"transfer-encoding" in names:
            raise ParsingError("Content-Length and Transfer-Encoding together")
        super().parse_header(header_plus)


class ErrorShapeTask(ErrorTask):
    """A request refused before the application still gets AWS's error shape."""

    def execute(self) -> None:
        error = self.request.error
        refused = (
            too_large()
            if error.code == 413
            else BadRequestException(f"{error.code} {error.reason}: {error.body}.")
        )
        answer = Answer.error(refused)
        logger.info("rejected before routing: %d %s (%s)", error.code, error.reason, error.body)
        self.status = status_line(answer.status)
        self.response_headers.extend(answer.headers)
        self.set_close_on_finish()
        self.content_length = len(answer.body)
        self.write(answer.body)


class EmulatorChannel(HTTPChannel):
    parser_class = StrictRequestParser
    error_task_class = ErrorShapeTask

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
    channel_class = EmulatorChannel


def make_server(app: Any, host: str, port: int, **adjustments: Any) -> EmulatorServer:
    """Waitress bound to ``host:port`` (OSError if it cannot bind), with the
    emulator's limits; not yet serving."""
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
        channel_timeout=IDLE_TIMEOUT_SECONDS,
        # the request exactly as sent: SigV4 signs headers, proxies are not trusted
        clear_untrusted_proxy_headers=False,
        expose_tracebacks=False,
        **adjustments,
    )
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    return EmulatorServer(app, map={}, dispatcher=dispatcher, adj=adj, sockinfo=adj.listen[0])


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
        server = make_server(app, config.host, config.port)
    except BaseException:
        if isinstance(backend, StoredBackend):
            backend.close()
        raise
    return RunningEmulator(server, app).start()


@contextmanager
def running_emulator(**options: Any) -> Iterator[RunningEmulator]:
    """An emulator on a free loopback port for the duration of the block.

    ``options`` are :class:`EmulatorConfig` fields (``region``, ``account_id``,
    ``access_key``, ``secret_key``, ``state_file``, ``host``, ``port``).
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
    return (
        f"listening on {config.host}, not a loopback address: every host that can reach "
        f"this machine can call the API with access key {config.access_key!r} (its secret "
        f"key is no secret), and {admin}"
    )
