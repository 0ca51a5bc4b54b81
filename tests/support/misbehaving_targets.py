"""Loopback targets that misbehave the way real networks do, for the
robustness tests: a forwarding proxy in front of the emulator that throttles,
holds a create's answer, or starts hanging; and sockets that accept and then
never answer or hang up at once. Every server is bounded: daemon threads, a
hold of at most ``HOLD_SECONDS``, closed by its context manager.

The rows of issue 21's table, each a :class:`ProxyPlan` (see :data:`ROWS`):
one request in N hangs, a share of answers 200 with a garbled body, the
answer to each distinct CreateAccount lost, a share of answers lost to a
reset, a token bucket (429 + Retry-After beyond R requests/s), a signal to the
run after k requests, the target dying after k requests. Random choices come
from the plan's seeded generator, so a row misbehaves the same way each time;
:func:`left_on` counts what is left on the emulator behind the proxy."""

from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
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
    # every ``hang_every``-th request is held, never forwarded nor answered
    hang_every: int = 0
    # this share of forwarded answers becomes 200 with a truncated or non-JSON body
    garble_share: float = 0.0
    # the first ``garble_first`` 2xx answers are garbled (then ``garble_share``)
    garble_first: int = 0
    # the first 201 to each distinct CreateAccount name is lost (connection reset)
    lose_create_account: bool = False
    # this share of forwarded requests has its answer lost (connection reset);
    # only requests of these methods, if any are named
    reset_share: float = 0.0
    reset_methods: tuple[str, ...] = ()
    # a token bucket admitting this many requests per second; 429 + Retry-After beyond
    rate: float = 0.0
    retry_after: str = "1"
    # send ``signal_number`` to ``signal_pid`` when request ``signal_at`` arrives
    signal_at: int | None = None
    signal_number: int = signal.SIGINT
    signal_pid: int | None = None
    # after this many requests the target dies: it refuses every connection
    die_after: int | None = None
    seed: int = 21
    died: threading.Event = field(default_factory=threading.Event)
    hung: int = 0
    garbled: int = 0
    lost: int = 0
    refused_by_bucket: int = 0
    accounts_seen: set[str] = field(default_factory=set)
    first_at: float | None = None  # time.monotonic() of the first and the last request
    last_at: float | None = None
    rng: random.Random = field(init=False)
    tokens: float = field(init=False)
    refilled: float = field(init=False)
    held: threading.Event = field(default_factory=threading.Event)  # set once holding
    release: threading.Event = field(default_factory=threading.Event)
    count: int = 0
    throttled: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.tokens = self.rate
        self.refilled = time.monotonic()

    def number(self) -> int:
        with self.lock:
            self.count += 1
            number = self.count
            self.last_at = time.monotonic()
            if self.first_at is None:
                self.first_at = self.last_at
        if self.signal_at == number and self.signal_pid is not None:
            os.kill(self.signal_pid, self.signal_number)
        if self.die_after is not None and number > self.die_after:
            self.died.set()
        return number

    def chance(self, share: float) -> bool:
        if not share:
            return False
        with self.lock:
            return self.rng.random() < share

    def admitted(self) -> bool:
        """One token from the bucket (refilled at ``rate`` per second), if there is one."""
        if not self.rate:
            return True
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.refilled) * self.rate)
            self.refilled = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            self.refused_by_bucket += 1
            return False

    def counts(self) -> dict[str, int]:
        return {
            "requests": self.count,
            "hung": self.hung,
            "garbled": self.garbled,
            "lost": self.lost,
            "throttled": self.throttled + self.refused_by_bucket,
        }


def _handler(upstream: str, plan: ProxyPlan) -> type[http.server.BaseHTTPRequestHandler]:
    target = urlsplit(upstream)

    class Forwarding(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out in two writes: with Nagle's algorithm the
        # body waits for the client's delayed ACK, 40 ms an answer
        disable_nagle_algorithm = True

        def log_message(self, *args: object) -> None:
            pass

        def _any(self) -> None:
            number = plan.number()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if plan.died.is_set():
                self._reset()
                return
            hangs = plan.hang_every and number % plan.hang_every == 0
            if hangs or (plan.hang_after is not None and number > plan.hang_after):
                with plan.lock:
                    plan.hung += 1
                plan.release.wait(HOLD_SECONDS)  # never answers within a read timeout
                self.close_connection = True
                return
            if not plan.admitted():
                headers = {
                    "Content-Type": "application/json",
                    "x-amzn-ErrorType": "ThrottledClientException",
                    "Retry-After": plan.retry_after,
                }
                self._answer(429, headers, b'{"Code": "Throttled", "Message": "slow down"}')
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
            resets = not plan.reset_methods or self.command in plan.reset_methods
            if self._loses(status, body) or (resets and plan.chance(plan.reset_share)):
                with plan.lock:
                    plan.lost += 1
                self._reset()
                return
            if status < 300 and (
                plan.garbled < plan.garble_first or plan.chance(plan.garble_share)
            ):
                with plan.lock:
                    plan.garbled += 1
                    truncate = plan.garbled % 2 == 1
                answer = answer[: len(answer) // 2] if truncate else b"<html>busy</html>"
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

        def _loses(self, status: int, body: bytes | None) -> bool:
            """The first 201 to a CreateAccount of a name not seen before."""
            if not plan.lose_create_account or self.command != "POST" or status != 201:
                return False
            if self.path.split("?")[0].rstrip("/") != "/accounts":
                return False
            try:
                name = str(json.loads(body or b"{}").get("Name"))
            except (ValueError, AttributeError):
                return False
            with plan.lock:
                if name in plan.accounts_seen:
                    return False
                plan.accounts_seen.add(name)
                return True

        def _reset(self) -> None:
            """Hang up with a TCP reset: the client never sees an answer."""
            with contextlib.suppress(OSError):
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
            self.close_connection = True

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
    stop = threading.Event()

    def die() -> None:  # the target dies: its port refuses connections from now on
        while not stop.is_set():
            if plan.died.wait(0.05):
                server.shutdown()
                server.server_close()
                return

    watcher = threading.Thread(target=die, daemon=True)
    watcher.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stop.set()
        plan.release.set()
        if not plan.died.is_set():
            server.shutdown()
            server.server_close()
        watcher.join(2)


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


# --------------------------------------------------------------------------
# Issue 21's table, one plan per row (``signal_pid`` is set once the run starts)

ROWS: dict[str, Callable[[], ProxyPlan]] = {
    "hang-1-in-200": lambda: ProxyPlan(hang_every=200),
    "garbled-2pc": lambda: ProxyPlan(garble_share=0.02),
    "lost-create-account": lambda: ProxyPlan(lose_create_account=True),
    "reset-5pc": lambda: ProxyPlan(reset_share=0.05),
    "token-bucket": lambda: ProxyPlan(rate=50.0),
    "every-3rd-throttled": lambda: ProxyPlan(throttle_every=3),
    "sigint-early": lambda: ProxyPlan(signal_at=1),
    "sigterm-early": lambda: ProxyPlan(signal_at=1, signal_number=signal.SIGTERM),
    "sigint-mid-run": lambda: ProxyPlan(signal_at=1500),
    "target-dies": lambda: ProxyPlan(die_after=1500),
    "target-dies-early": lambda: ProxyPlan(die_after=30),
    "sigint-after-30": lambda: ProxyPlan(signal_at=30),
}


def left_on(url: str) -> list[str]:
    """What is on the emulator at ``url`` (not through the proxy): the ARN of
    every AppInstance, user, bot and admin, and the id of every account
    but the one the emulator starts with."""
    from chime_conformance.wire.client import ChimeClient

    found: list[str] = []
    with ChimeClient(url) as client:
        for instance in _walk(client, "ListAppInstances", {}, "AppInstances"):
            arn = instance["AppInstanceArn"]
            found.append(arn)
            member = {"AppInstanceArn": arn}
            for operation, key, field_name in (
                ("ListAppInstanceUsers", "AppInstanceUsers", "AppInstanceUserArn"),
                ("ListAppInstanceBots", "AppInstanceBots", "AppInstanceBotArn"),
            ):
                found.extend(item[field_name] for item in _walk(client, operation, member, key))
            for admin in _walk(client, "ListAppInstanceAdmins", member, "AppInstanceAdmins"):
                found.append(f"{arn} admin {admin.get('Admin', {}).get('Arn')}")
        found.extend(
            f"account {account['AccountId']} {account.get('Name')}"
            for account in _walk(client, "ListAccounts", {}, "Accounts")
        )
    return found


def _walk(client: Any, operation: str, members: dict[str, Any], key: str) -> Iterator[Any]:
    token = None
    for _ in range(1000):
        answer = client.call(operation, {**members, **({"NextToken": token} if token else {})})
        document = answer.json if isinstance(answer.json, dict) else {}
        yield from document.get(key) or []
        token = document.get("NextToken")
        if not token:
            return
