"""The HTTP/1.1 front: keep-alive, strict framing (RFC 9112), bounded sizes, and
clients that stall holding no worker from the others."""

from __future__ import annotations

import http.client
import json
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from chime_conformance.emulator.app import request_id, status_line
from chime_conformance.emulator.server import WORKER_THREADS, RunningEmulator, running_emulator


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator() as running:
        yield running


def address(emulator: RunningEmulator) -> tuple[str, int]:
    parts = urlsplit(emulator.url)
    assert parts.hostname and parts.port
    return parts.hostname, parts.port


def exchange_raw(emulator: RunningEmulator, raw: bytes, timeout: float = 10) -> bytes:
    """Sends ``raw`` on a new connection; everything answered until the server closes."""
    with socket.create_connection(address(emulator), timeout=timeout) as connection:
        connection.sendall(raw)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def status_and_body(answer: bytes) -> tuple[int, dict[str, str]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body) if body else {}


def test_two_different_content_lengths_are_400(emulator: RunningEmulator) -> None:
    answer = exchange_raw(
        emulator,
        b"POST /app-instances HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
        b"Content-Length: 3\r\n\r\n{}}",
    )
    status, body = status_and_body(answer)
    assert status == 400 and body["Code"] == "BadRequest"
    assert b"x-amzn-errortype: badrequestexception" in answer.lower()


def test_two_equal_content_lengths_are_400_too(emulator: RunningEmulator) -> None:
    answer = exchange_raw(
        emulator,
        b"POST /app-instances HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
        b"content-length: 2\r\n\r\n{}",
    )
    assert status_and_body(answer)[0] == 400


def test_transfer_encoding_with_content_length_is_400(emulator: RunningEmulator) -> None:
    answer = exchange_raw(
        emulator,
        b"POST /app-instances HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    )
    status, body = status_and_body(answer)
    assert status == 400 and "Transfer-Encoding" in body["Message"]


def test_http_0_9_request_is_400_at_once(emulator: RunningEmulator) -> None:
    # no blank line follows: a server waiting for headers would hang here
    answer = exchange_raw(emulator, b"GET /app-instances\r\n", timeout=5)
    assert answer.startswith(b"HTTP/1.") and status_and_body(answer)[0] == 400


def test_oversized_headers_are_400_in_error_shape(emulator: RunningEmulator) -> None:
    answer = exchange_raw(
        emulator, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n"
    )
    status, body = status_and_body(answer)
    assert status == 400 and body["Code"] == "BadRequest"


def signed_list(url: str) -> AWSRequest:
    request = AWSRequest(method="GET", url=f"{url}/app-instances?max-results=1")
    SigV4Auth(Credentials("testing", "testing"), "chime", "us-east-1").add_auth(request)
    return request


def test_keep_alive_serves_100_requests_on_one_connection(emulator: RunningEmulator) -> None:
    host, port = address(emulator)
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.connect()
        first_socket = connection.sock
        local_port = first_socket.getsockname()[1]
        for i in range(100):
            request = signed_list(emulator.url)
            headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
            connection.request("GET", "/app-instances?max-results=1", headers=headers)
            response = connection.getresponse()
            response.read()
            assert response.status == 200, i
            assert (response.getheader("Connection") or "").lower() != "close", i
            # http.client reconnects silently if the server closed: the socket would change
            assert connection.sock is first_socket, f"reconnected before request {i + 1}"
        assert connection.sock.getsockname()[1] == local_port
        # and the server holds exactly this one connection for it
        server = emulator.serving.server
        peers = [channel.addr[1] for channel in list(server.active_channels.values())]
        assert peers.count(local_port) == 1
    finally:
        connection.close()


def test_stalled_clients_do_not_starve_the_others(emulator: RunningEmulator) -> None:
    stalled = []
    try:
        # more half-sent requests than there are worker threads
        for _ in range(2 * WORKER_THREADS):
            connection = socket.create_connection(address(emulator), timeout=10)
            connection.sendall(b"POST /app-instances HTTP/1.1\r\nHost: x\r\nContent-Len")
            stalled.append(connection)
        for _ in range(3):
            answer = exchange_raw(
                emulator, b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            assert status_and_body(answer)[0] == 200
    finally:
        for connection in stalled:
            connection.close()


def test_request_ids_are_random_uuids_and_status_lines_have_their_phrase() -> None:
    ids = {request_id() for _ in range(2000)}
    assert len(ids) == 2000
    for value in ids:
        parsed = uuid.UUID(value)
        assert str(parsed) == value and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    assert status_line(404) == "404 Not Found" and status_line(204) == "204 No Content"
    with pytest.raises(ValueError):
        status_line(299)


def test_request_headers_reads_every_header_and_made_up_names_cannot_grow_its_cache() -> None:
    from chime_conformance.emulator import app as app_module

    def environ(count: int, prefix: str) -> dict[str, object]:
        made_up = {f"HTTP_X_{prefix}_{i}": str(i) for i in range(count)}
        return {
            "REQUEST_METHOD": "GET",
            "wsgi.input": object(),
            "CONTENT_TYPE": "application/json",
            "HTTP_CONTENT_TYPE": "ignored: WSGI's CONTENT_TYPE is the one",
            "HTTP_X_AMZ_DATE": "20261129T000000Z",
            **made_up,
        }

    for prefix in ("A", "B", "A"):  # the second "A" reads names the cache kept
        headers = app_module.request_headers(environ(2000, prefix))
        assert len(headers) == 2000 + 2
        assert headers["content-type"] == "application/json"
        assert headers["x-amz-date"] == "20261129T000000Z"
        assert headers[f"x-{prefix.lower()}-1999"] == "1999"
        assert len(app_module._HEADER_NAMES) <= app_module._HEADER_NAMES_KEPT
