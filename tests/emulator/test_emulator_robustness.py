"""Hostile or broken input gets a 4xx in AWS's error shape, never a 5xx or a dead server."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from chime_conformance.emulator.server import RunningEmulator, running_emulator
from tests.support.emulator_helpers import RawResponse, clients, plain_request, signed_request

INSTANCES = "/app-instances"


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator() as running:
        yield running


@pytest.fixture(autouse=True)
def server_survives(emulator: RunningEmulator) -> Iterator[None]:
    emulator.reset()
    yield
    assert signed_request(emulator.url, "GET", INSTANCES).status == 200


def assert_error(response: RawResponse, status: int, error_type: str) -> dict[str, Any]:
    assert (response.status, response.error_type) == (status, error_type), response.body[:300]
    document: dict[str, Any] = response.document
    assert document["Code"] == error_type.removesuffix("Exception")
    assert isinstance(document["Message"], str) and document["Message"]
    return document


def create(
    emulator: RunningEmulator, body: bytes, content_type: str = "application/json"
) -> RawResponse:
    return signed_request(emulator.url, "POST", INSTANCES, body, content_type=content_type)


def test_body_over_one_mebibyte_is_413(emulator: RunningEmulator) -> None:
    body = json.dumps({"Name": "n", "Metadata": "x" * (1 << 20)}).encode()
    assert_error(create(emulator, body), 413, "RequestEntityTooLargeException")


def test_announced_oversized_body_is_refused_before_reading(emulator: RunningEmulator) -> None:
    response = plain_request(
        emulator.url, "POST", INSTANCES, b"{}", {"Content-Length": str(50 << 20)}
    )
    assert_error(response, 413, "RequestEntityTooLargeException")


def test_deep_nesting_is_400(emulator: RunningEmulator) -> None:
    body = b'{"Name": "n", "Tags": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert_error(create(emulator, body), 400, "BadRequestException")


def test_bad_utf8_body_is_400(emulator: RunningEmulator) -> None:
    assert_error(create(emulator, b'{"Name": "\xff\xfe"}'), 400, "BadRequestException")


def test_non_json_body_is_400(emulator: RunningEmulator) -> None:
    assert_error(create(emulator, b"Name=plain"), 400, "BadRequestException")


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"42", b"null", b"NaN"])
def test_non_object_json_is_400(emulator: RunningEmulator, body: bytes) -> None:
    assert_error(create(emulator, body), 400, "BadRequestException")


def test_wrong_content_type_is_400_naming_it(emulator: RunningEmulator) -> None:
    body = b'{"Name": "n", "ClientRequestToken": "tok-1"}'
    document = assert_error(create(emulator, body, "text/plain"), 400, "BadRequestException")
    assert "Content-Type" in document["Message"]


def test_missing_required_members_are_named(emulator: RunningEmulator) -> None:
    document = assert_error(create(emulator, b"{}"), 400, "BadRequestException")
    assert "'Name'" in document["Message"] and "'ClientRequestToken'" in document["Message"]


def test_huge_query_string_is_400(emulator: RunningEmulator) -> None:
    response = signed_request(emulator.url, "GET", f"{INSTANCES}?next-token={'a' * 20_000}")
    assert_error(response, 400, "BadRequestException")


def test_request_line_beyond_http_limit_is_400(emulator: RunningEmulator) -> None:
    response = plain_request(emulator.url, "GET", f"{INSTANCES}?x={'a' * 70_000}")
    assert_error(response, 400, "BadRequestException")


def test_bad_utf8_in_path_and_query_is_400(emulator: RunningEmulator) -> None:
    assert_error(
        signed_request(emulator.url, "GET", f"{INSTANCES}/%FF"), 400, "BadRequestException"
    )
    response = signed_request(emulator.url, "GET", f"{INSTANCES}?next-token=%FF")
    assert_error(response, 400, "BadRequestException")


def test_non_integer_max_results_is_400(emulator: RunningEmulator) -> None:
    response = signed_request(emulator.url, "GET", f"{INSTANCES}?max-results=lots")
    message = assert_error(response, 400, "BadRequestException")["Message"]
    assert "max-results" in message and "integer" in message


def test_out_of_range_max_results_is_400(emulator: RunningEmulator) -> None:
    response = signed_request(emulator.url, "GET", f"{INSTANCES}?max-results=51")
    assert_error(response, 400, "BadRequestException")


def test_unknown_route_is_404_in_error_shape(emulator: RunningEmulator) -> None:
    assert_error(signed_request(emulator.url, "GET", "/nowhere"), 404, "NotFoundException")


def test_garbage_on_the_socket_is_answered_with_400(emulator: RunningEmulator) -> None:
    parts = urlsplit(emulator.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        answer = connection.recv(4096)
    assert answer.startswith(b"HTTP/1.") and b" 400 " in answer.split(b"\r\n")[0]


def test_empty_path_label_is_400(emulator: RunningEmulator) -> None:
    response = signed_request(emulator.url, "GET", f"{INSTANCES}/")
    assert_error(response, 400, "BadRequestException")


def test_arn_with_percent_encoded_slash_routes_as_one_label(emulator: RunningEmulator) -> None:
    identity, _ = clients(emulator.url)
    arn = identity.create_app_instance(Name="routed")["AppInstanceArn"]
    response = signed_request(emulator.url, "GET", f"{INSTANCES}/{quote(arn, safe='')}")
    assert response.status == 200
    assert response.document["AppInstance"]["AppInstanceArn"] == arn


def test_concurrent_creates_lose_no_write(emulator: RunningEmulator) -> None:
    identity, _ = clients(emulator.url)
    instance = identity.create_app_instance(Name="busy")["AppInstanceArn"]

    def create_users(worker: int) -> list[int]:
        client, _ = clients(emulator.url)
        statuses = []
        for i in range(10):
            response = client.create_app_instance_user(
                AppInstanceArn=instance, AppInstanceUserId=f"w{worker}u{i}", Name="n"
            )
            statuses.append(response["ResponseMetadata"]["HTTPStatusCode"])
        return statuses

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = [s for batch in pool.map(create_users, range(8)) for s in batch]
    assert set(statuses) == {201}
    listed = identity.list_app_instance_users(AppInstanceArn=instance, MaxResults=50)
    users = listed["AppInstanceUsers"]
    while "NextToken" in listed:
        listed = identity.list_app_instance_users(
            AppInstanceArn=instance, MaxResults=50, NextToken=listed["NextToken"]
        )
        users += listed["AppInstanceUsers"]
    assert len({u["AppInstanceUserArn"] for u in users}) == 80


def test_concurrent_tagging_merges_every_tag(emulator: RunningEmulator) -> None:
    identity, _ = clients(emulator.url)
    instance = identity.create_app_instance(Name="tags")["AppInstanceArn"]

    def tag(worker: int) -> None:
        client, _ = clients(emulator.url)
        for i in range(5):
            client.tag_resource(
                ResourceARN=instance, Tags=[{"Key": f"w{worker}k{i}", "Value": "v"}]
            )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(tag, range(8)))
    assert len(identity.list_tags_for_resource(ResourceARN=instance)["Tags"]) == 40


def test_known_path_with_undefined_method_is_405(emulator: RunningEmulator) -> None:
    response = signed_request(emulator.url, "TRACE", INSTANCES)
    assert_error(response, 405, "MethodNotAllowedException")
    assert response.headers["allow"] == "GET, POST"


def test_tags_post_without_operation_literal_is_400(emulator: RunningEmulator) -> None:
    response = signed_request(emulator.url, "POST", "/tags", b'{"ResourceARN": "arn:a:b:c:d:e"}')
    assert "operation=tag-resource" in assert_error(response, 400, "BadRequestException")["Message"]


def test_chunked_body_over_one_mebibyte_is_413(emulator: RunningEmulator) -> None:
    parts = urlsplit(emulator.url)
    chunk = b"x" * 65536
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(
            b"POST /app-instances HTTP/1.1\r\nHost: " + parts.netloc.encode()
            + b"\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
        )  # fmt: skip
        try:
            for _ in range(20):
                connection.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            connection.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server may answer and close before reading it all
        status_line = connection.makefile("rb").readline()
    assert b" 413 " in status_line


def test_double_slash_path_is_answered_not_crashed(emulator: RunningEmulator) -> None:
    # http.server collapses leading slashes (gh-87389); the emulator must not misread "//x" as a host
    assert signed_request(emulator.url, "GET", "//app-instances").status == 200
    assert signed_request(emulator.url, "GET", "/app-instances//x").status == 404


def test_broken_chunked_encoding_is_400(emulator: RunningEmulator) -> None:
    parts = urlsplit(emulator.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(
            b"POST /app-instances HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"ZZZ\r\nabc\r\n0\r\n\r\n"
        )
        status_line = connection.makefile("rb").readline()
    assert b" 400 " in status_line
