"""Helpers for the emulator's tests: the emulator as a subprocess, raw signed requests."""

from __future__ import annotations

import http.client
import json
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from chime_conformance.emulator.app import admin_headers

EMULATOR_COMMAND = str(Path(sys.executable).with_name("chime-emulator"))
MODULE_COMMAND = (sys.executable, "-m", "chime_conformance.emulator")
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"


class EmulatorProcess:
    """``chime-emulator`` started as a subprocess on a free port (``--port 0``)."""

    def __init__(
        self, *extra_arguments: str, command: tuple[str, ...] = (EMULATOR_COMMAND,)
    ) -> None:
        # the log goes to a file: a pipe nobody reads until the end fills up and stalls it
        self.log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115 (lives as long as the process)
        self.process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", "0", *extra_arguments],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.url = self._read_url(timeout=20)

    def _read_url(self, timeout: float) -> str:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        if "listening on " not in line:
            self.process.kill()
            self.process.wait(timeout=10)
            raise RuntimeError(f"chime-emulator did not start: {line!r} {self._log_text()}")
        return line.split("listening on ", 1)[1].split()[0]

    def reset(self) -> None:
        assert (
            plain_request(self.url, "POST", "/_emulator/reset", headers=admin_headers()).status
            == 200
        )

    def stop(self) -> tuple[int, str]:
        """SIGTERM, then the exit code and everything it wrote on stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
        return self.process.returncode, self._log_text()

    def _log_text(self) -> str:
        self.log.seek(0)
        return self.log.read()


def run_emulator_expecting_failure(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EMULATOR_COMMAND, "--host", "127.0.0.1", "--port", "0", *arguments],
        capture_output=True,
        text=True,
        timeout=30,
    )


def clients(url: str, **overrides: Any) -> tuple[Any, Any]:
    """boto3's chime-sdk-identity and chime clients for the emulator at ``url``."""
    options: dict[str, Any] = {
        "endpoint_url": url,
        "region_name": REGION,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        "config": Config(retries={"max_attempts": 1}),
    }
    options.update(overrides)
    return boto3.client("chime-sdk-identity", **options), boto3.client("chime", **options)


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def document(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def error_type(self) -> str | None:
        return self.headers.get("x-amzn-errortype")


def plain_request(
    url: str,
    method: str,
    target: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> RawResponse:
    """Sends exactly ``target`` (path and query, as given) with no signature."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        announced = any(name.lower() == "content-length" for name in headers or {})
        if not announced and (body or method in ("POST", "PUT")):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        return RawResponse(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            response.read(),
        )
    finally:
        connection.close()


def signed_request(
    url: str,
    method: str,
    target: str,
    body: bytes = b"",
    *,
    content_type: str | None = "application/json",
    region: str = REGION,
    service: str = "chime",
    access_key: str = "testing",
    secret_key: str = "testing",
    signed_at: datetime | None = None,
    extra_headers: dict[str, str] | None = None,
    unsigned_headers: dict[str, str] | None = None,
    sent_body: bytes | None = None,
    sign_normalised_query: bool = False,
) -> RawResponse:
    """Signs ``target`` as botocore would (its SigV4Auth), then sends it verbatim
    (with ``sent_body`` instead of ``body`` if given: a tampered request)."""
    parts = urlsplit(url)
    timestamp = (signed_at or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    headers = {"X-Amz-Date": timestamp, "Host": parts.netloc, **(extra_headers or {})}
    if content_type and body:
        headers["Content-Type"] = content_type
    if sign_normalised_query:  # as SigV4 clients other than botocore do
        path, _, query = target.partition("?")
        pairs = parse_qsl(query, keep_blank_values=True)
        request = AWSRequest(method, f"{url}{path}", headers, body, params=pairs)
    else:
        request = AWSRequest(method=method, url=f"{url}{target}", data=body, headers=headers)
    request.context["timestamp"] = timestamp
    signer = SigV4Auth(Credentials(access_key, secret_key), service, region)
    canonical = signer.canonical_request(request)
    signature = signer.signature(signer.string_to_sign(request, canonical), request)
    signer._inject_signature_to_request(request, signature)
    sent = {k: v for k, v in request.headers.items() if k.lower() != "host"}
    sent.update(unsigned_headers or {})  # added after signing: not covered by the signature
    return plain_request(url, method, target, body if sent_body is None else sent_body, sent)


def presigned_target(
    url: str,
    target: str,
    *,
    expires: int = 300,
    signed_at: datetime | None = None,
    access_key: str = "testing",
    secret_key: str = "testing",
    token: str | None = None,
    region: str = REGION,
) -> str:
    """``target`` (a GET's path and query) presigned as botocore's SigV4QueryAuth
    does, at ``signed_at``: the path and query to send, with no Authorization."""
    timestamp = (signed_at or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    request = AWSRequest(method="GET", url=f"{url}{target}", headers={"Host": urlsplit(url).netloc})
    request.context["timestamp"] = timestamp
    signer = SigV4QueryAuth(Credentials(access_key, secret_key, token), "chime", region, expires)
    signer._modify_request_before_signing(request)
    canonical = signer.canonical_request(request)
    signature = signer.signature(signer.string_to_sign(request, canonical), request)
    signer._inject_signature_to_request(request, signature)
    presigned = urlsplit(request.url)
    return f"{presigned.path}?{presigned.query}"


def wait_until_listening(url: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (
                plain_request(url, "GET", "/_emulator/health", headers=admin_headers()).status
                == 200
            ):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing answers at {url}")


def shape_mismatches(shape: Any, value: Any, where: str = "") -> list[str]:
    """Where the raw JSON ``value`` strays from botocore's modeled ``shape``.

    botocore's parser silently drops members it does not know, so a misspelt
    member would go unnoticed by boto3; this walks the raw body instead.
    """
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{where or '(body)'}: expected an object, got {type(value).__name__}"]
        found = []
        for name, member in value.items():
            if name not in shape.members:
                found.append(f"{where}{name}: not a member of {shape.name}")
            else:
                found.extend(shape_mismatches(shape.members[name], member, f"{where}{name}."))
        return found
    if kind == "list":
        if not isinstance(value, list):
            return [f"{where}: expected a list"]
        return [
            m
            for i, item in enumerate(value)
            for m in shape_mismatches(shape.member, item, f"{where}[{i}].")
        ]
    expected: dict[str, tuple[type, ...]] = {
        "string": (str,),
        "integer": (int,),
        "long": (int,),
        "boolean": (bool,),
        "double": (int, float),
        "float": (int, float),
        "timestamp": (str,)
        if shape.serialization.get("timestampFormat") == "iso8601"
        else (int, float),
    }
    types = expected.get(kind, (object,))
    ok = isinstance(value, types) and not (kind in ("integer", "long") and isinstance(value, bool))
    if kind == "string" and ok and shape.enum and value not in shape.enum:
        return [f"{where}: {value!r} is not in the enum of {shape.name}"]
    return [] if ok else [f"{where}: expected {kind}, got {type(value).__name__} {value!r}"]


def record_output_mismatches(client: Any, found: list[str]) -> None:
    """After every call of ``client``, append to ``found`` how the raw body strays from the model."""

    def check(http_response: Any, model: Any, **_: Any) -> None:
        if (
            http_response.status_code >= 300
            or model.output_shape is None
            or not http_response.content
        ):
            return
        body = json.loads(http_response.content)
        found.extend(f"{model.name}: {m}" for m in shape_mismatches(model.output_shape, body))

    client.meta.events.register("after-call", check)
