"""A front door no client can jam, and HTTP/1.x read strictly (RFC 9112).

A thousand idle or dribbling sockets leave a fresh, well-behaved client served
(counted: served / not served; the time is bench/emulator_front_door.py's to
print); slow headers, slow bodies and silent connections are cut off after
their configured deadline; HTTP versions other than 1.0 and 1.1, HTTP/1.1
without Host, and a repeated header SigV4 reads are refused.
"""

from __future__ import annotations

import json
import resource
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from urllib.parse import urlsplit

import pytest

from chime_conformance.emulator.server import RunningEmulator, running_emulator
from tests.support.emulator_helpers import EMULATOR_COMMAND, EmulatorProcess

CROWD = 1000
HEALTH = b"GET /_emulator/health HTTP/1.1\r\nHost: emulator\r\n\r\n"


def address(emulator: RunningEmulator | EmulatorProcess) -> tuple[str, int]:
    parts = urlsplit(emulator.url)
    assert parts.hostname and parts.port
    return parts.hostname, parts.port


def ensure_descriptors(needed: int) -> None:
    """Raises this process's soft limit of open files to ``needed`` (the emulator
    runs in it too, so each socket counts twice), or skips saying why."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"needs {needed} open files; the hard limit (ulimit -Hn) is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def answer_to(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes or has sent a whole answer."""
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
        head, separator, body = received.partition(b"\r\n\r\n")
        if separator and b"content-length:" in head.lower():
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            if len(body) >= length:
                break
    return received


def fresh_clients_served(emulator: RunningEmulator, clients: int = 5) -> int:
    """How many new connections, each sending one well-formed request, get their
    200 (a generous timeout: this counts, it does not time)."""
    served = 0
    for _ in range(clients):
        try:
            with socket.create_connection(address(emulator), timeout=20) as connection:
                connection.sendall(HEALTH)
                served += answer_to(connection).startswith(b"HTTP/1.1 200 ")
        except OSError:
            pass
    return served


@contextmanager
def crowd(emulator: RunningEmulator, *, dribbling: bool) -> Iterator[list[socket.socket]]:
    """CROWD connections that never complete a request: silent, or sending one
    header byte every 2 seconds."""
    sockets = [socket.create_connection(address(emulator), timeout=5) for _ in range(CROWD)]
    stop = threading.Event()

    def dribble() -> None:
        for connection in sockets:
            with suppress(OSError):
                connection.sendall(b"GET /_emulator/health HTTP/1.1\r\n")
        while not stop.wait(2):
            for connection in sockets:
                with suppress(OSError):
                    connection.send(b"x")

    dribbler = threading.Thread(target=dribble, daemon=True)
    if dribbling:
        dribbler.start()
    try:
        yield sockets
    finally:
        stop.set()
        if dribbling:
            dribbler.join(timeout=30)
        for connection in sockets:
            connection.close()


@pytest.mark.slow
@pytest.mark.parametrize("dribbling", [False, True], ids=["idle", "dribbling"])
def test_a_fresh_client_is_served_while_a_thousand_sockets_hang(dribbling: bool) -> None:
    ensure_descriptors(2 * CROWD + 512)
    with running_emulator() as emulator, crowd(emulator, dribbling=dribbling):
        time.sleep(0.5)  # the crowd is in (accepted), as an attacker's would be
        served = fresh_clients_served(emulator)
        assert served == 5, f"{5 - served} of 5 fresh clients not served"


def test_beyond_the_limit_the_longest_waiting_connection_makes_room() -> None:
    with running_emulator(connection_limit=5) as emulator:
        idle = [socket.create_connection(address(emulator), timeout=20) for _ in range(5)]
        time.sleep(0.2)
        newcomers = [socket.create_connection(address(emulator), timeout=20) for _ in range(3)]
        for connection in newcomers:  # each served, the three of them open at once
            connection.sendall(HEALTH)
            assert answer_to(connection).startswith(b"HTTP/1.1 200 ")
        # the three that waited longest made room; the two others are still open
        assert [connection.recv(1) for connection in idle[:3]] == [b""] * 3
        for connection in idle[3:]:
            connection.settimeout(0.5)
            with pytest.raises(TimeoutError):
                connection.recv(1)
        for connection in idle + newcomers:
            connection.close()


def dribble_until_closed(
    emulator: RunningEmulator, first: bytes, byte: bytes, limit: int
) -> tuple[int, bytes]:
    """Sends ``first``, then ``byte`` every 0.25 s until the server closes (at most
    ``limit`` bytes): the bytes sent, and what the server answered."""
    with socket.create_connection(address(emulator), timeout=20) as connection:
        connection.sendall(first)
        connection.settimeout(0.25)
        sent = 0
        while sent < limit:
            try:
                answer = connection.recv(65536)
                connection.settimeout(20)
                return sent, answer + answer_to(connection) if answer else answer
            except TimeoutError:
                pass
            try:
                connection.send(byte)
            except OSError:
                break
            sent += 1
        return sent, b""


def test_headers_dribbled_past_the_header_timeout_are_cut_off_with_408() -> None:
    with running_emulator(header_timeout=1.0) as emulator:
        sent, answer = dribble_until_closed(
            emulator, b"GET /_emulator/health HTTP/1.1\r\nX-Slow: ", b"a", limit=200
        )
    assert sent < 200, "still reading headers after 200 bytes, one every quarter second"
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["Code"] == "RequestTimeout"


def test_a_body_dribbled_past_the_request_timeout_is_cut_off_with_408() -> None:
    with running_emulator(request_timeout=1.0) as emulator:
        head = b"POST /app-instances HTTP/1.1\r\nHost: emulator\r\nContent-Length: 100000\r\n\r\n{"
        sent, answer = dribble_until_closed(emulator, head, b" ", limit=200)
    assert sent < 200 and answer.startswith(b"HTTP/1.1 408 ")


def test_a_silent_connection_is_closed_after_the_idle_timeout() -> None:
    with (
        running_emulator(idle_timeout=1.0) as emulator,
        socket.create_connection(address(emulator), timeout=30) as connection,
    ):
        assert connection.recv(1) == b""  # closed, not timed out


def test_the_limits_are_options_of_the_command_with_their_defaults() -> None:
    help_text = subprocess.run(
        [EMULATOR_COMMAND, "--help"], capture_output=True, text=True, timeout=30
    ).stdout
    for option, default in (
        ("--connection-limit", "1000"),
        ("--header-timeout", "10.0"),
        ("--request-timeout", "60.0"),
        ("--idle-timeout", "60.0"),
    ):
        assert option in help_text
        assert f"(default {default}" in " ".join(help_text.split()), option


def test_a_connection_limit_beyond_ulimit_is_lowered_and_said() -> None:
    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    process = subprocess.Popen(
        [EMULATOR_COMMAND, "--port", "0", "--connection-limit", "5000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=low_limit,  # the child lowers its own limit, nothing else
    )
    try:
        assert process.stdout is not None
        assert "listening on" in process.stdout.readline()
    finally:
        process.terminate()
        _, log = process.communicate(timeout=30)
    assert "connection limit 5000 lowered to 192" in log


# -- HTTP/1.x strictness ------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator() as running:
        yield running


def exchange_raw(emulator: RunningEmulator, raw: bytes) -> tuple[int, bytes]:
    with socket.create_connection(address(emulator), timeout=20) as connection:
        connection.sendall(raw)
        answer = answer_to(connection)
    return int(answer.split(b" ", 2)[1]), answer


@pytest.mark.parametrize("version", [b"HTTP/1.2", b"HTTP/1.9", b"HTTP/2.0", b"HTTP/3.0"])
def test_an_http_version_other_than_1_0_and_1_1_is_505(
    emulator: RunningEmulator, version: bytes
) -> None:
    status, answer = exchange_raw(
        emulator, b"GET /_emulator/health " + version + b"\r\nHost: emulator\r\n\r\n"
    )
    assert status == 505
    assert b"x-amzn-errortype: httpversionnotsupportedexception" in answer.lower()


def test_http_1_1_without_host_is_400_and_http_1_0_without_host_is_served(
    emulator: RunningEmulator,
) -> None:
    status, answer = exchange_raw(emulator, b"GET /_emulator/health HTTP/1.1\r\n\r\n")
    assert status == 400 and b"without a Host header" in answer
    assert exchange_raw(emulator, b"GET /_emulator/health HTTP/1.0\r\n\r\n")[0] == 200
    doubled = b"GET /_emulator/health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
    assert exchange_raw(emulator, doubled)[0] == 400


@pytest.mark.parametrize(
    "header",
    ["Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-Sha256"],
)
def test_a_repeated_header_sigv4_reads_is_400(emulator: RunningEmulator, header: str) -> None:
    # a correctly signed request, with the header there twice
    request = signed_raw_request(emulator)
    times = 1 if f"\r\n{header}:".lower().encode() in request.lower() else 2
    extra = f"{header}: junk\r\n".encode() * times
    with socket.create_connection(address(emulator), timeout=20) as connection:
        connection.sendall(request.replace(b"\r\n\r\n", b"\r\n" + extra + b"\r\n", 1))
        answer = answer_to(connection)
    assert answer.startswith(b"HTTP/1.") and b" 400 " in answer.split(b"\r\n")[0]
    assert f"more than one {header.lower()} header".encode() in answer


def signed_raw_request(emulator: RunningEmulator) -> bytes:
    """A ListAppInstances as botocore signs it, as raw bytes (with both SigV4
    headers that may repeat already there once)."""
    from datetime import UTC, datetime

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    netloc = emulator.url.removeprefix("http://")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    request = AWSRequest("GET", f"{emulator.url}/app-instances", {"Host": netloc})
    request.context["timestamp"] = stamp
    request.headers["X-Amz-Date"] = stamp
    request.headers["X-Amz-Content-Sha256"] = "e3b0c44298fc1c149afbf4c8996fb924" + (
        "27ae41e4649b934ca495991b7852b855"
    )
    signer = SigV4Auth(Credentials("testing", "testing"), "chime", "us-east-1")
    signature = signer.signature(
        signer.string_to_sign(request, signer.canonical_request(request)), request
    )
    signer._inject_signature_to_request(request, signature)
    lines = [b"GET /app-instances HTTP/1.1"]
    lines += [f"{name}: {value}".encode() for name, value in request.headers.items()]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def test_the_raw_signed_request_alone_is_served(emulator: RunningEmulator) -> None:
    """The request the repeated-header test doubles a header of is a good one."""
    status, _ = exchange_raw(emulator, signed_raw_request(emulator))
    assert status == 200
