"""Loopback targets that misbehave the way real networks do, for the
robustness tests: a forwarding proxy in front of the emulator that throttles,
holds a create's answer, or starts hanging; and sockets that accept and then
never answer or hang up at once. Every server is bounded: daemon threads, a
hold of at most ``HOLD_SECONDS``, closed by its context manager."""

from __future__ import annotations

import contextlib
import http.client
import http.server
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

HOLD_SECONDS = 20.0


@dataclass
class ProxyPlan:
    """What the proxy does to the n-th request (1-based), besides forwarding."""

    # every ``throttle_every``-th request is answered 429 or 503 (alternating,
    # with and without Retry-After) instead of being forwarded
    throttle_every: int = 0
    # after this many forwarded requests, accept and never answer again
    hang_after: int | None = None
    # forward the first create whose path ends so, then hold its answer
    hold_create_path: str | None = None
    # answer every DELETE 500 without forwarding it (nothing can be cleaned up)
    refuse_deletes: bool = False
    held: threading.Event = field(default_factory=threading.Event)  # set once holding
    release: threading.Event = field(default_factory=threading.Event)
    count: int = 0
    throttled: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def number(self) -> int:
        with self.lock:
            self.count += 1
            return self.count


def _handler(upstream: str, plan: ProxyPlan) -> type[http.server.BaseHTTPRequestHandler]:
    target = urlsplit(upstream)

    class Forwarding(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _any(self) -> None:
            number = plan.number()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if plan.hang_after is not None and number > plan.hang_after:
                plan.release.wait(HOLD_SECONDS)  # never answers within a read timeout
                self.close_connection = True
                return
            if plan.refuse_deletes and self.command == "DELETE":
                headers = {
                    "Content-Type": "application/json",
                    "x-amzn-ErrorType": "ServiceFailureException",
                }
                self._answer(500, headers, b'{"Code": "ServiceFailure", "Message": "no"}')
                return
            if plan.throttle_every and number % plan.throttle_every == 0:
                self._throttle(number)
                return
            status, headers, answer = self._forward(body)
            if (
                plan.hold_create_path
                and self.command == "POST"
                and self.path.split("?")[0].endswith(plan.hold_create_path)
                and not plan.held.is_set()
            ):
                plan.held.set()
                plan.release.wait(HOLD_SECONDS)
            self._answer(status, headers, answer)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any

        def _throttle(self, number: int) -> None:
            with plan.lock:
                plan.throttled += 1
                kind = plan.throttled % 4
            status = 429 if kind in (1, 2) else 503
            headers = {"Content-Type": "application/json"}
            if kind in (2, 3):
                headers["Retry-After"] = "0"
            name = "ThrottledClientException" if status == 429 else "ServiceUnavailableException"
            headers["x-amzn-ErrorType"] = name
            self._answer(status, headers, b'{"Code": "Throttled", "Message": "slow down"}')

        def _forward(self, body: bytes | None) -> tuple[int, dict[str, str], bytes]:
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            try:
                connection.request(self.command, self.path, body, dict(self.headers.items()))
                response = connection.getresponse()
                return response.status, dict(response.getheaders()), response.read()
            finally:
                connection.close()

        def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Forwarding


@contextlib.contextmanager
def proxy(upstream: str, plan: ProxyPlan) -> Iterator[str]:
    """A forwarding proxy to ``upstream`` following ``plan``; yields its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(upstream, plan))
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # type: ignore[method-assign]  # a client hung up: expected here
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        plan.release.set()
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def raw_target(
    on_connect: Callable[[socket.socket], None], held: list[socket.socket] | None = None
) -> Iterator[str]:
    """A TCP server that hands each accepted connection to ``on_connect``
    (and keeps it in ``held``, for a caller to count)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    stop = threading.Event()
    held = [] if held is None else held

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            held.append(connection)
            on_connect(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        for connection in held:
            connection.close()
        listener.close()


def hanging_target(
    held: list[socket.socket] | None = None,
) -> contextlib.AbstractContextManager[str]:
    """Accepts connections (into ``held``) and never answers."""
    return raw_target(lambda connection: None, held)


def dropping_target(
    held: list[socket.socket] | None = None,
) -> contextlib.AbstractContextManager[str]:
    """Accepts connections (into ``held``) and closes them at once."""
    return raw_target(lambda connection: connection.close(), held)
