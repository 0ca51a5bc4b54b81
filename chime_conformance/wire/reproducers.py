"""Reproducers: an :class:`~chime_conformance.wire.exchange.Exchange` as a curl
command or a Python script that sends the same request again, signed with the
user's own credentials (and the same deliberate mistake, for auth tests)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Protocol
from urllib.parse import urlsplit

from chime_conformance.wire.sigv4 import (
    BOGUS_SESSION_TOKEN,
    DEFAULT_CREDENTIALS,
    EXPIRED_PRESIGNING,
    PRESIGNED_EXPIRES,
    PRESIGNED_SIGNINGS,
    PRESIGNING_PARAMETERS,
    SESSION_TOKEN_PARAMETER,
    STALE_BY,
    UNKNOWN_ACCESS_KEY,
    Signing,
    is_loopback,
    signing_scope,
)

__all__ = ["GENERATED_HEADERS", "Reproducible", "curl_command", "python_script"]


class _Request(Protocol):
    @property
    def method(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def body(self) -> bytes | None: ...


class Reproducible(Protocol):
    """What a reproducer needs of an exchange (:class:`~chime_conformance.wire.exchange.Exchange`)."""

    @property
    def request(self) -> _Request: ...
    @property
    def signing(self) -> Signing: ...
    @property
    def region(self) -> str: ...
    @property
    def operation(self) -> str | None: ...


# Headers the HTTP library or the signer adds by itself; reproducers leave them out.
GENERATED_HEADERS = frozenset(
    {
        "authorization",
        "x-amz-date",
        "x-amz-content-sha256",
        "x-amz-security-token",
        "host",
        "content-length",
        "user-agent",
        "accept",
        "accept-encoding",
        "connection",
    }
)
_VARIANT_NOTES = {
    Signing.TAMPERED: "the signature was tampered with; edit the Authorization header to redo it",
    Signing.STALE_DATE: "the request was signed 30 minutes in the past",
    Signing.BOGUS_SESSION_TOKEN: "sign it with X-Amz-Security-Token: " + BOGUS_SESSION_TOKEN,
    Signing.PRESIGNED: "presigned in the URL's query (redacted here); run the Python reproducer",
    Signing.PRESIGNED_EXPIRED: "presigned 10 minutes ago for 60 s; run the Python reproducer",
}


def _replayed_headers(exchange: Reproducible) -> dict[str, str]:
    return {
        name: value
        for name, value in exchange.request.headers.items()
        if name.lower() not in GENERATED_HEADERS
    }


def _had_session_token(exchange: Reproducible) -> bool:
    return "x-amz-security-token" in exchange.request.headers


def curl_command(exchange: Reproducible) -> str:
    """``exchange``'s request as a curl command, signed by curl with the caller's credentials."""
    request = exchange.request
    lines = [f"curl --globoff --request {request.method} {shlex.quote(request.url)}"]
    if exchange.signing is not Signing.UNSIGNED and exchange.signing not in PRESIGNED_SIGNINGS:
        lines.extend(_curl_signing_options(exchange))
    for name, value in _replayed_headers(exchange).items():
        lines.append(f"--header {shlex.quote(f'{name}: {value}')}")
    prefix = ""
    if request.body:
        text = _printable(request.body)
        if text is not None:
            lines.append(f"--data-binary {shlex.quote(text)}")
        else:
            prefix = f"printf {shlex.quote(_printf_escaped(request.body))} | "
            lines.append("--data-binary @-")
    return _curl_comments(exchange) + prefix + " \\\n  ".join(lines)


def _curl_signing_options(exchange: Reproducible) -> list[str]:
    region, service = signing_scope(exchange.signing, exchange.region)
    if exchange.signing is Signing.UNKNOWN_KEY:
        user = shlex.quote(":".join(UNKNOWN_ACCESS_KEY))
    elif is_loopback(exchange.request.url):
        user = '"${AWS_ACCESS_KEY_ID:-testing}:${AWS_SECRET_ACCESS_KEY:-testing}"'
    else:
        user = '"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"'
    options = [f"--aws-sigv4 {shlex.quote(f'aws:amz:{region}:{service}')} --user {user}"]
    if _had_session_token(exchange):
        options.append('--header "X-Amz-Security-Token: $AWS_SESSION_TOKEN"')
    return options


def _curl_comments(exchange: Reproducible) -> str:
    subject = f"# {exchange.operation or 'request'} ({exchange.signing.value})"
    notes = []
    if exchange.signing in _VARIANT_NOTES:
        notes.append(f"{subject}: {_VARIANT_NOTES[exchange.signing]}")
    if exchange.signing is not Signing.UNSIGNED and "%" in urlsplit(exchange.request.url).path:
        # curl (at least to 7.88) signs the path as sent; botocore encodes it again
        notes.append(
            f"{subject}: curl signs percent-encoded paths unlike botocore; if the answer is "
            "InvalidSignatureException, run the Python reproducer instead"
        )
    return "".join(note + "\n" for note in notes)


def _printable(body: bytes) -> str | None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.isprintable() else None


def _printf_escaped(body: bytes) -> str:
    return "".join(
        chr(byte) if 0x20 <= byte < 0x7F and chr(byte) not in "%\\" else f"\\{byte:03o}"
        for byte in body
    )


def python_script(exchange: Reproducible) -> str:
    """``exchange``'s request as a Python script, signed by botocore with the caller's credentials."""
    request = exchange.request
    region, service = signing_scope(exchange.signing, exchange.region)
    headers = _replayed_headers(exchange)
    if exchange.signing is Signing.UNKNOWN_KEY:
        credentials = f"Credentials{UNKNOWN_ACCESS_KEY!r}"
    elif is_loopback(request.url):
        credentials = (
            f"botocore.session.Session().get_credentials() or Credentials{DEFAULT_CREDENTIALS!r}"
        )
    else:
        credentials = "botocore.session.Session().get_credentials()"
    lines = [
        f"# Reproduces {exchange.operation or 'a request'} (signing: {exchange.signing.value}).",
        *_python_imports(exchange),
        "import botocore.session",
        "import requests",
        "from botocore.auth import SigV4Auth, SigV4QueryAuth",
        "from botocore.awsrequest import AWSRequest",
        "from botocore.credentials import Credentials",
        "",
        *(
            ['os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")  # a local target']
            if is_loopback(request.url)
            else []
        ),
        f"credentials = {credentials}",
        *(
            [
                "credentials = Credentials(credentials.access_key, credentials.secret_key, "
                f"{BOGUS_SESSION_TOKEN!r})"
            ]
            if exchange.signing is Signing.BOGUS_SESSION_TOKEN
            else []
        ),
        f"request = AWSRequest(method={request.method!r}, url={_replayed_url(exchange)!r},",
        f"                     data={request.body!r}, headers={headers!r})",
        *_python_signing_lines(exchange.signing, region, service),
        "response = requests.request(request.method, request.url, data=request.body,",
        "                            headers=dict(request.headers.items()), timeout=30)",
        'print(response.status_code, response.headers.get("x-amzn-ErrorType"))',
        "print(response.text)",
    ]
    return "\n".join(lines) + "\n"


def _python_imports(exchange: Reproducible) -> list[str]:
    imports = ["import os"] if is_loopback(exchange.request.url) else []
    if exchange.signing in (Signing.STALE_DATE, Signing.PRESIGNED_EXPIRED):
        imports += ["import datetime", "from unittest import mock"]
    return [*imports, ""] if imports else []


def _python_signing_lines(signing: Signing, region: str, service: str) -> list[str]:
    sign = f"SigV4Auth(credentials, {service!r}, {region!r}).add_auth(request)"
    if signing is Signing.UNSIGNED:
        return []
    if signing in PRESIGNED_SIGNINGS:
        return _python_presigning_lines(signing, region, service)
    if signing is Signing.STALE_DATE:
        return [
            "stale = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)"
            f" - datetime.timedelta(seconds={STALE_BY.total_seconds():g})",
            'with mock.patch("botocore.auth.get_current_datetime", return_value=stale):',
            f"    {sign}",
        ]
    if signing is Signing.TAMPERED:
        return [
            sign,
            'authorization = request.headers["Authorization"]',
            'del request.headers["Authorization"]',
            'flipped = "0" if authorization[-1] != "0" else "1"',
            'request.headers["Authorization"] = authorization[:-1] + flipped',
        ]
    return [sign]


# --------------------------------------------------------------------------
# Presigned requests (docs/contract.md, presigned)


def _replayed_url(exchange: Reproducible) -> str:
    """The URL a reproducer sends: a presigned one without its (redacted) signing."""
    url = exchange.request.url
    if exchange.signing not in PRESIGNED_SIGNINGS:
        return url
    base, _, query = url.partition("?")
    presigning = {*PRESIGNING_PARAMETERS, SESSION_TOKEN_PARAMETER}
    kept = [p for p in query.split("&") if p and p.partition("=")[0] not in presigning]
    return f"{base}?{'&'.join(kept)}" if kept else base


def _python_presigning_lines(signing: Signing, region: str, service: str) -> list[str]:
    if signing is Signing.PRESIGNED:
        return [
            f"SigV4QueryAuth(credentials, {service!r}, {region!r}, {PRESIGNED_EXPIRES}).add_auth(request)"
        ]
    ago, expires = EXPIRED_PRESIGNING
    return [
        "signed_at = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)"
        f" - datetime.timedelta(seconds={ago.total_seconds():g})",
        'with mock.patch("botocore.auth.get_current_datetime", return_value=signed_at):',
        f"    SigV4QueryAuth(credentials, {service!r}, {region!r}, {expires}).add_auth(request)",
    ]
