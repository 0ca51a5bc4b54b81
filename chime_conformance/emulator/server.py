"""Serving the emulator: the HTTP server, and starting/stopping it in-process.

``running_emulator(**options)`` is what the pytest plugin uses when no target
is given: a threaded Werkzeug server on a free loopback port, in a background
thread, stopped (and its state saved, if it has a state file) on exit.
"""

from __future__ import annotations

import http
import ipaddress
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from chime_conformance.emulator.app import (
    ADMIN_TOKEN_ENV,
    ADMIN_TOKEN_HEADER,
    EmulatorApp,
    EmulatorConfig,
)
from chime_conformance.emulator.faults import fault_extensions
from chime_conformance.emulator.models import EmulatorBackend
from chime_conformance.emulator.state import StateFileError, load_state, save_state
from chime_conformance.emulator.store import StoredBackend, open_store


class EmulatorRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler, with the emulator's error shape even for requests
    that never reach the application (request line or headers too long,
    malformed request line): those are the client's fault, so a 400."""

    timeout = 60  # a client that announces a body and never sends it frees its thread

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        reason = message or http.HTTPStatus(code).phrase
        body = json.dumps({"Code": "BadRequest", "Message": f"{code} {reason}"}).encode()
        self.log_error("rejected before routing: %d %s", code, reason)
        # a request line too broken to name its HTTP version still gets a status line
        self.request_version = (
            "HTTP/1.0" if self.request_version == "HTTP/0.9" else self.request_version
        )
        self.close_connection = True
        self.send_response(400, "Bad Request")
        self.send_header("Connection", "close")
        self.send_header("Content-Type", "application/json")
        self.send_header("x-amzn-ErrorType", "BadRequestException")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # the application logs one line per request, with the operation


class RunningEmulator:
    """An emulator serving in a background thread."""

    def __init__(self, server: BaseWSGIServer, app: EmulatorApp) -> None:
        self.server = server
        self.app = app
        self._thread = threading.Thread(
            target=server.serve_forever, name="chime-emulator", daemon=True
        )
        self._stopped = False

    @property
    def url(self) -> str:
        host, port = str(self.server.host), self.server.port
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @property
    def backend(self) -> EmulatorBackend:
        return self.app.backend

    @property
    def config(self) -> EmulatorConfig:
        return self.app.config

    def start(self) -> RunningEmulator:
        self._thread.start()
        return self

    def reset(self) -> None:
        self.backend.reset()

    def stop(self) -> None:
        """Stops serving, writes the export snapshot (if any), closes the store. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self.server.shutdown()
        self._thread.join(timeout=10)
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
        server = make_server(
            config.host, config.port, app, threaded=True, request_handler=EmulatorRequestHandler
        )
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
