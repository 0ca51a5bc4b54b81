"""The verifier's fast paths agree with what they replace: botocore's signer and
``strptime``. Each is a copy of the reference's result, so each is held to it here."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from chime_conformance.emulator.auth import (
    _SIGNED_HEADERS,
    AMZ_DATE_FORMAT,
    AuthorizationHeader,
    ReceivedRequest,
    SigV4Verifier,
    _HeadersToSign,
    _signer,
    parse_amz_date,
)
from chime_conformance.emulator.exceptions import (
    IncompleteSignatureException,
    InvalidSignatureException,
)

REGION = "us-east-1"
secrets = st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), min_size=1)
dates = st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)).map(
    lambda moment: moment.strftime(AMZ_DATE_FORMAT)
)
path_text = st.text(st.sampled_from("aZ09_.~-:/%?#+é ="), max_size=40)


@settings(max_examples=300, deadline=None)
@given(secret=secrets, date=dates, region=st.sampled_from([REGION, "eu-west-1"]))
def test_the_cached_signing_key_signs_as_botocore(secret: str, date: str, region: str) -> None:
    request = AWSRequest(method="GET", url="http://localhost/")
    request.context["timestamp"] = date
    reference = SigV4Auth(Credentials("AKID", secret), "chime", region)
    cached = _signer("AKID", secret, region)
    for string_to_sign in ("", "AWS4-HMAC-SHA256\nanything"):
        assert cached.signature(string_to_sign, request) == reference.signature(
            string_to_sign, request
        )


@settings(max_examples=500, deadline=None)
@given(path=path_text | st.text(max_size=20) | path_text.map(lambda path: "/" + path))
def test_the_canonical_uri_is_botocores(path: str) -> None:
    reference = SigV4Auth(Credentials("AKID", "secret"), "chime", REGION)
    assert _signer("AKID", "secret", REGION)._normalize_url_path(path) == (
        reference._normalize_url_path(path)
    )


@settings(max_examples=500, deadline=None)
@given(
    value=dates
    | st.text(st.sampled_from("0123456789TZ-:+ "), min_size=14, max_size=18)
    | st.text(max_size=18)
)
def test_amz_date_parses_exactly_the_basic_format(value: str) -> None:
    try:
        expected = datetime.strptime(value, AMZ_DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        expected = None
    if expected is not None and len(value) != 16:  # strptime also takes 1-digit fields
        expected = None
    assert parse_amz_date(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "20240230T000000Z",
        "20240101T240000Z",
        "2024011T1200000Z",
        "20240101T120000",
        "２０２４0101T120000Z",
        "+2024010T120000Z",
        "20240101t120000z",
    ],
)
def test_impossible_or_malformed_dates_are_refused(value: str) -> None:
    assert parse_amz_date(value) is None
    verifier = SigV4Verifier({"AKID": "secret"}, REGION)
    with pytest.raises(IncompleteSignatureException):
        verifier.check_freshness(value)


def _signed(
    method: str, path: str, query: str, body: bytes, secret: str, extra: dict[str, str]
) -> ReceivedRequest:
    url = f"http://localhost:8080{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, data=body, headers=extra)
    SigV4Auth(Credentials("AKID", secret), "chime", REGION).add_auth(request)
    headers = {name.lower(): value for name, value in request.headers.items()}
    return ReceivedRequest(method, "localhost:8080", path, query, headers, body)


@settings(max_examples=150, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    label=path_text,
    query=st.lists(st.tuples(path_text, path_text), max_size=3),
    body=st.binary(max_size=64),
    secret=secrets,
    extra=st.dictionaries(
        st.sampled_from(["content-type", "x-amz-target", "x-custom"]),
        st.text(st.characters(codec="ascii", min_codepoint=32, max_codepoint=126), max_size=20),
    ),
)
def test_botocore_signatures_verify_and_any_change_is_refused(
    method: str,
    label: str,
    query: list[tuple[str, str]],
    body: bytes,
    secret: str,
    extra: dict[str, str],
) -> None:
    """What botocore signs is accepted; the same with another secret, another body or
    another path is refused (the fast paths did not loosen the comparison)."""
    path = "/app-instances/" + quote(label, safe="")
    raw_query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query)
    verifier = SigV4Verifier({"AKID": secret}, REGION)
    good = _signed(method, path, raw_query, body, secret, extra)
    assert verifier.verify(good) == "AKID"
    other_secret = _signed(method, path, raw_query, body, secret + "x", extra)
    with pytest.raises(InvalidSignatureException):
        verifier.verify(other_secret)
    for tampered in (
        ReceivedRequest(method, good.host, path, raw_query, good.headers, body + b"!"),
        ReceivedRequest(method, good.host, path + "x", raw_query, good.headers, body),
        ReceivedRequest(method, "elsewhere", path, raw_query, good.headers, body),
    ):
        with pytest.raises(InvalidSignatureException):
            verifier.verify(tampered)


@settings(max_examples=200, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    path=path_text,
    query=st.lists(st.tuples(path_text, path_text), max_size=3),
    body=st.binary(max_size=64),
    headers=st.dictionaries(
        st.sampled_from(["host", "x-amz-date", "content-type", "x-custom"]),
        st.lists(st.text(st.sampled_from("aZ09 \t,:;"), max_size=12), min_size=1, max_size=2),
        max_size=4,
    ),
)
def test_the_canonical_request_is_botocores(
    method: str, path: str, query: list[tuple[str, str]], body: bytes, headers: dict[str, list[str]]
) -> None:
    """Each variant the verifier tries (as sent, and normalised) has botocore's
    canonical request: the as-sent one is built without botocore's second URL split
    and second sort of the signed headers, and its string to sign in one piece."""
    raw_query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query)
    request = ReceivedRequest(method, "localhost:8080", "/" + path, raw_query, {}, body)
    signer = _signer("AKID", "secret", REGION)
    signed = _HeadersToSign(headers)
    for candidate in SigV4Verifier({"AKID": "secret"}, REGION).canonical_variants(
        request, "20240101T000000Z"
    ):
        candidate.context[_SIGNED_HEADERS] = signed
        # botocore's own methods, over the same signed headers, path and payload hash
        canonical_request = signer.canonical_request(candidate)
        assert canonical_request == SigV4Auth.canonical_request(signer, candidate)
        assert signer.string_to_sign(candidate, canonical_request) == (
            SigV4Auth.string_to_sign(signer, candidate, canonical_request)
        )


authorization_part = st.text(st.sampled_from("aZ09/=;,- \tSignature"), max_size=12)


@settings(max_examples=500, deadline=None)
@given(
    parts=st.lists(authorization_part, min_size=7, max_size=7),
    template=st.sampled_from(
        [
            "AWS4-HMAC-SHA256 Credential={}/{}/{}/{}/{}, SignedHeaders={}, Signature={}",
            "AWS4-HMAC-SHA256 Credential={}/{}/{}/{}/{},SignedHeaders={},Signature={}",
            " AWS4-HMAC-SHA256 Credential={}/{}/{}/{}/{}, Signature={}, SignedHeaders={}",
        ]
    ),
)
def test_the_usual_authorization_header_parses_as_any_form_does(
    parts: list[str], template: str
) -> None:
    value = template.format(*parts)
    try:
        expected: object = AuthorizationHeader.parse_any_form(value)
    except IncompleteSignatureException as refused:
        expected = str(refused)
    try:
        parsed: object = AuthorizationHeader.parse(value)
    except IncompleteSignatureException as refused:
        parsed = str(refused)
    assert parsed == expected
